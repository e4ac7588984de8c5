// `| json` with parser hints (MakeJsonParser's only_labels, as Loki's ParserHints): only the
// named labels are added, nested names still flatten, and a malformed line is still a
// JSONParserErr.

#include <string>
#include <vector>

#include "tests/unit/query/logql_pipeline_test_util.h"

namespace otelbox::query::logql {
namespace {

using testing::Entry;
using testing::L;
using testing::Must;
using testing::RunEntry;

Entry Line(std::string line, std::vector<Label> stream = {}) {
  Entry e;
  e.line = std::move(line);
  e.stream = std::move(stream);
  return e;
}

TEST(LogqlJsonHints, AddsOnlyTheHintedLabels) {
  const std::vector<std::string> only = {"level", "req_user"};
  auto o = RunEntry(Must(MakeJsonParser({}, &only)),
                    Line(R"({"level":"warn","msg":"x","req":{"user":"u\"1","id":7},"status":500})",
                         L({{"app", "a"}})));
  EXPECT_TRUE(o.kept);
  EXPECT_EQ(o.labels, R"({app="a", level="warn", req_user="u"1"})");
  // Without hints every field is a label.
  o = RunEntry(Must(MakeJsonParser({})), Line(R"({"level":"warn","msg":"x"})"));
  EXPECT_EQ(o.labels, R"({level="warn", msg="x"})");
}

TEST(LogqlJsonHints, MalformedLineIsStillAnError) {
  const std::vector<std::string> only = {"level"};
  auto o = RunEntry(Must(MakeJsonParser({}, &only)), Line(R"({"level":"info","a":)"));
  EXPECT_NE(o.labels.find("JSONParserErr"), std::string::npos) << o.labels;
  const std::vector<std::string> none;
  o = RunEntry(Must(MakeJsonParser({}, &none)), Line(R"({"level":"info"})"));
  EXPECT_EQ(o.labels, "{}");
}

}  // namespace
}  // namespace otelbox::query::logql
