#pragma once
// Series identity for metrics: the shared label index (storage/index/label_index.h) over
// the `series`, `series_by_id` and `postings` families and the series id limit record.

#include "storage/index/label_index.h"

namespace otelbox::storage {

class SeriesIndex : public LabelIndex {
 public:
  SeriesIndex(Database* db, bool sync_wal) : LabelIndex(db, kSeriesIndexFamilies, sync_wal) {}
};

}  // namespace otelbox::storage
