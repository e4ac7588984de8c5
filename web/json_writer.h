#pragma once
// Hand-written JSON in the byte-exact shapes Prometheus' API prints (jsoniter with Go's
// standard-library settings): strings escaped as Go's encoding/json does, sample values
// as strings, timestamps as seconds with a millisecond fraction.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "query/common/value.h"
#include "storage/model/labels.h"
#include "storage/model/sample.h"
#include "storage/querier.h"

namespace otelbox::web {

// Appends "s" with Go's escaping: \" \\ \n \r \t, other controls and <>& as \u00XX,
// U+2028/U+2029 escaped, invalid UTF-8 replaced by \ufffd.
void AppendJsonString(std::string* out, std::string_view s);

// 1700000000500 -> 1700000000.500 (Prometheus' jsonutil.MarshalTimestamp), 4000 -> 4.
void AppendTimestamp(std::string* out, int64_t t_ms);

// "2", "0.5", "NaN", "+Inf" (Prometheus' jsonutil.MarshalFloat: FormatFloat 'f', -1).
void AppendSampleValue(std::string* out, double v);

// {"__name__":"up","job":"api"}
void AppendLabels(std::string* out, const storage::Labels& labels);

// ["a","b"]
void AppendStringArray(std::string* out, const std::vector<std::string>& items);

// {"resultType":"…","result":…} — the `data` of /api/v1/query and /query_range.
std::string RenderQueryData(const query::Value& value);

// {"status":"success","data":<data_json>[,"warnings":[…]][,"infos":[…]]}: each list is
// omitted when empty, as Prometheus' API envelope.
std::string RenderSuccess(std::string_view data_json, const std::vector<std::string>& warnings = {},
                          const std::vector<std::string>& infos = {});

// [{"seriesLabels":{…},"exemplars":[{"labels":{…},"value":"…","timestamp":…}]}]
std::string RenderExemplars(const std::vector<storage::SeriesExemplars>& exemplars);

// {"family":[{"type":"counter","help":"…","unit":""}],…}
std::string RenderMetadata(const std::vector<storage::MetricMetadata>& metadata);

}  // namespace otelbox::web
