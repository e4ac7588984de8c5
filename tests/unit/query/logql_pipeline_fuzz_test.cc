// Random and truncated input through every stage: nothing may crash, hang or throw. (Run this
// binary under -fsanitize=address,undefined for the strong version of the check.)

#include <random>

#include "tests/unit/query/logql_pipeline_test_util.h"

namespace otelbox::query::logql {
namespace {

std::string RandomText(std::mt19937& rng, const std::string& seed) {
  static const char kChars[] = "{}[]\":,=\\ .-_aZ09xé\xff\x1b|<>()$";
  std::string s = seed;
  int edits = static_cast<int>(rng() % 8);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    size_t pos = rng() % s.size();
    switch (rng() % 3) {
      case 0: s[pos] = kChars[rng() % (sizeof(kChars) - 1)]; break;
      case 1: s.erase(pos, 1 + rng() % 4); break;
      default: s.insert(pos, 1, kChars[rng() % (sizeof(kChars) - 1)]);
    }
  }
  if (rng() % 4 == 0) s.resize(rng() % (s.size() + 1));
  return s;
}

TEST(LogqlPipelineFuzz, StagesSurviveMangledLines) {
  const std::string seeds[] = {
      R"({"a":"b","n":1.5,"o":{"x":[1,{"y":"z"}],"e":"\u00e9\n"},"_entry":"k=v"})",
      R"(level=info msg="hello \"world\"" took=1.5s size=3MB addr=10.1.2.3 key)",
      "GET /api/v1/query 200 1.2.3.4 2001:db8::1 \x1b[31mred\x1b[0m",
  };
  std::vector<std::unique_ptr<Stage>> stages;
  auto add = [&](auto s) {
    ASSERT_TRUE(s.ok()) << s.status();
    stages.push_back(std::move(*s));
  };
  add(MakeJsonParser({}));
  add(MakeJsonParser({{"x", "o.x[1].y"}, {"e", R"(["o"]["e"])"}}));
  add(MakeLogfmtParser(true, true, {}));
  add(MakeLogfmtParser(false, false, {{"m", "msg"}}));
  add(MakeUnpackParser());
  add(MakeRegexpParser(R"((?P<verb>\w+) (?P<path>\S+))"));
  add(MakePatternParser("<verb> <path> <_>"));
  add(MakeLineFilter(LineFilterOp::kContains, {{"10.0.0.0/8", true}, {"api"}}));
  add(MakeLineFilter(LineFilterOp::kRegex, {{"(?i)get|post"}}));
  add(MakeLineFilter(LineFilterOp::kPattern, {{"<_> /api<_>"}}));
  add(MakeLabelFilter(LabelFilterSpec::Or(LabelFilterSpec::Duration("took", CompareOp::kGt, 1),
                                          LabelFilterSpec::Bytes("size", CompareOp::kLt, 9))));
  add(MakeLabelFilter(LabelFilterSpec::Ip("addr", CompareOp::kEq, "10.0.0.0/8")));
  add(MakeLineFormat(R"({{ .a | ToUpper }}{{ printf "%5.2f|%q" (float64 .n) .msg }}{{ range $k, $v := (fromJson __line__) }}{{ $k }}{{ end }})"));
  add(MakeLabelFormat({{"t", "{{ .took | duration }} {{ regexReplaceAll \"(a)\" __line__ \"$1$1\" }}", true}, {"r", "a", false}}));
  add(MakeDropLabels({{"verb", std::nullopt, ""}}));
  add(MakeKeepLabels({{"a", std::nullopt, ""}, {"path", storage::MatchType::kRegexMatch, ".*"}}));
  stages.push_back(MakeDecolorize());
  std::mt19937 rng(1234);
  const std::vector<Label> stream = testing::L({{"app", "x"}, {"a", "s"}});
  LabelsBuilder lbs;
  lbs.SetStream(&stream);
  std::vector<Label> out;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string line = RandomText(rng, seeds[iter % 3]);
    lbs.StartEntry({});
    std::string_view view = line;
    for (auto& s : stages) {
      if (!s->Process(iter, view, lbs)) break;
    }
    lbs.Labels(&out);
    auto c = lbs.Categorized();
    (void)c;
  }
  SUCCEED();
}

TEST(LogqlPipelineFuzz, TemplateParserSurvivesMangledTemplates) {
  const std::string seed =
      R"({{ if and .a (eq .b "x") }}{{ .c | printf "%s-%d" 3 }}{{ else if not .d }}{{- $x := (index . "e") -}}{{ $x }}{{ end }}{{/* c */}}{{ range $i, $e := (fromJson .j).l }}{{ $i }}{{ end }})";
  std::mt19937 rng(99);
  testing::Entry e;
  e.stream = testing::L({{"a", "1"}, {"b", "x"}, {"j", R"({"l":[1,2]})"}});
  for (int iter = 0; iter < 5000; ++iter) {
    std::string t = RandomText(rng, seed);
    auto s = MakeLineFormat(t);
    if (s.ok()) testing::RunEntry(std::move(*s), e);
    auto f = MakeLabelFormat({{"z", t, true}});
    if (f.ok()) testing::RunEntry(std::move(*f), e);
  }
  SUCCEED();
}

}  // namespace
}  // namespace otelbox::query::logql
