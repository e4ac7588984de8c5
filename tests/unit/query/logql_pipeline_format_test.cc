// LogQL formatting stages: line_format / label_format (Go templates with Loki's and Sprig's
// functions), drop / keep, decolorize; and the LabelsBuilder they all work on.

#include "tests/unit/query/logql_pipeline_test_util.h"

namespace otelbox::query::logql {
namespace {

using testing::Entry;
using testing::L;
using testing::Must;
using testing::RunEntry;

std::string Format(std::string tmpl, std::vector<Label> stream, std::string line = "",
                   int64_t ts_ns = 0) {
  auto s = MakeLineFormat(tmpl);
  if (!s.ok()) return "ERROR: " + std::string(s.status().message());
  Entry e;
  e.stream = std::move(stream);
  e.line = std::move(line);
  e.ts_ns = ts_ns;
  auto o = RunEntry(std::move(*s), e);
  if (o.labels.find("TemplateFormatErr") != std::string::npos) return "EXEC ERROR: " + o.labels;
  return o.line;
}

const std::vector<Label> kFooBar = L({{"foo", "blip"}, {"bar", "blop"}});

TEST(LogqlLineFormat, FieldsAndText) {
  EXPECT_EQ(Format("foo{{.foo}}buzz{{  .bar  }}", kFooBar), "fooblipbuzzblop");
  EXPECT_EQ(Format("{{.foo}}", kFooBar), "blip");
  EXPECT_EQ(Format("{{.foo}}  ", kFooBar), "blip  ");
  EXPECT_EQ(Format("{{.missing}}", kFooBar), "");
  EXPECT_EQ(Format("V={{.missing}}", kFooBar), "V=");
  EXPECT_EQ(Format("foo {{.foo}}buzz{{  .bar  }}", L({{"bar", "blop"}})), "foo buzzblop");
  EXPECT_EQ(Format("L={{.level}}", L({{"level", "error"}})), "L=error");
}

TEST(LogqlLineFormat, StringFunctions) {
  EXPECT_EQ(Format("foo {{.foo | ToUpper }} buzz{{  .bar  }}", kFooBar), "foo BLIP buzzblop");
  EXPECT_EQ(Format(R"(foo{{.foo}}buzz{{ Replace .bar "blop" "bar" -1 }})", kFooBar), "fooblipbuzzbar");
  EXPECT_EQ(Format(R"(foo{{.foo}}buzz{{ .bar | replace "blop" "bar" }})", kFooBar), "fooblipbuzzbar");
  EXPECT_EQ(Format("{{.foo | title }}", kFooBar), "Blip");
  EXPECT_EQ(Format("{{.foo | substr 1 3 }} {{ .bar  | trunc 1 }} {{ .bar  | trunc 3 }}", kFooBar), "li b blo");
  EXPECT_EQ(Format(R"({{.foo | trim }} {{ .bar  | trimAll "op" }} {{ .bar  | trimPrefix "b" }} {{ .bar  | trimSuffix "p" }})",
                   L({{"foo", "  blip "}, {"bar", "blop"}})),
            "blip bl lop blo");
  EXPECT_EQ(Format("{{.foo | lower }} {{ .bar  | upper }}", L({{"foo", "BLIp"}, {"bar", "blop"}})), "blip BLOP");
  EXPECT_EQ(Format("{{.foo | ToUpper }} {{ .foo | ToLower }}", L({{"foo", "héllo Ωmega straße"}})),
            "HÉLLO ΩMEGA STRAßE héllo ωmega straße");
  EXPECT_EQ(Format(R"({{ "foo" | repeat 3 }})", {}), "foofoofoo");
  EXPECT_EQ(Format(R"({{ "foo\n bar" | indent 4 }})", {}), "    foo\n     bar");
  EXPECT_EQ(Format(R"({{ "foo" | nindent 2 }})", {}), "\n  foo");
  EXPECT_EQ(Format(R"({{ if  .foo | contains "p"}}yes{{end}}-{{ if  .foo | contains "z"}}no{{end}})",
                   L({{"foo", "BLIp"}})),
            "yes-");
  EXPECT_EQ(Format(R"({{ if  .foo | hasPrefix "BL" }}yes{{end}}-{{ if  .foo | hasSuffix "pw"}}no{{end}})",
                   L({{"foo", "BLIp"}})),
            "yes-");
  EXPECT_EQ(Format(R"T({{ regexReplaceAll "(p)" .foo "t" }})T", L({{"foo", "BLIp"}})), "BLIt");
  EXPECT_EQ(Format(R"T({{ regexReplaceAll "(?P<x>l)" .foo "${x}${x}" }})T", L({{"foo", "blip"}})), "bllip");
  EXPECT_EQ(Format(R"T({{ regexReplaceAllLiteral "(p)" .foo "${1}" }})T", L({{"foo", "BLIp"}})), "BLI${1}");
  EXPECT_EQ(Format(R"({{.foo | count "abc" }})", L({{"foo", "abc abc abc"}})), "3");
  EXPECT_EQ(Format(R"({{.foo | count "a|b|c" }})", L({{"foo", "abc abc abc"}})), "9");
  EXPECT_EQ(Format("{{ alignLeft 4 .foo }}|{{ alignRight 6 .foo }}|{{ alignLeft 2 .foo }}", L({{"foo", "abc"}})),
            "abc |   abc|ab");
  EXPECT_EQ(Format(R"({{ .foo | default "n/a" }} {{ .missing | default "n/a" }})", L({{"foo", "x"}})), "x n/a");
}

TEST(LogqlLineFormat, UrlAndBase64) {
  EXPECT_EQ(Format("{{.foo | urlencode }}", L({{"foo", "/a b?x=1&y=\"2\""}})),
            "%2Fa+b%3Fx%3D1%26y%3D%222%22");
  EXPECT_EQ(Format("{{ urldecode .foo }}", L({{"foo", "%2Fa+b%3Fx"}})), "/a b?x");
  EXPECT_EQ(Format("{{.foo | b64enc }}", L({{"foo", "hello world"}})), "aGVsbG8gd29ybGQ=");
  EXPECT_EQ(Format("{{.foo | b64dec }}", L({{"foo", "aGVsbG8gd29ybGQ="}})), "hello world");
  EXPECT_EQ(Format("{{.foo | b64dec }}", L({{"foo", "aGVsbG8gd29ybGQ"}})), "hello world");
}

TEST(LogqlLineFormat, Math) {
  EXPECT_EQ(Format("{{ add .foo 1 | sub .bar | mul .baz | div .bazz}}",
                   L({{"foo", "1"}, {"bar", "3"}, {"baz", "10"}, {"bazz", "20"}})),
            "2");
  EXPECT_EQ(Format("{{ addf .foo 1.5 | subf .bar 1.5 | mulf .baz | divf .bazz }}",
                   L({{"foo", "1.5"}, {"bar", "5"}, {"baz", "10.5"}, {"bazz", "20.2"}})),
            "3.8476190476190477");
  EXPECT_EQ(Format(R"({{ "2.5" | float64 | int | add 10}})", {}), "12");
  EXPECT_EQ(Format("{{ addf 0.1 0.2 }}", {}), "0.3");
  EXPECT_EQ(Format("{{ mod 7 3 }} {{ max 1 5 3 }} {{ min 4 2 }} {{ maxf 1.5 2 }} {{ ceil 1.2 }} {{ floor 1.8 }}", {}),
            "1 5 2 2 2 1");
  EXPECT_EQ(Format("{{ round 3.14159 2 }}", {}), "3.14");
  EXPECT_EQ(Format("{{ round (addf .foo 1.5 | subf .bar | mulf .baz | divf .bazz) 5 .2}}",
                   L({{"foo", "1.5"}, {"bar", "3.5"}, {"baz", "10.5"}, {"bazz", "20.4"}})),
            "3.88572");
  EXPECT_EQ(Format("min is {{ min .foo .bar .baz }} and max is {{ max .foo .bar .baz }}",
                   L({{"foo", "5"}, {"bar", "10"}, {"baz", "15"}})),
            "min is 5 and max is 15");
  EXPECT_EQ(Format("minf is {{ minf .foo .bar .baz }} and maxf is {{maxf .foo .bar .baz}}",
                   L({{"foo", "5.3"}, {"bar", "10.5"}, {"baz", "15.2"}})),
            "minf is 5.3 and maxf is 15.2");
  EXPECT_EQ(Format("mod is {{ mod .foo 3 }}", L({{"foo", "20"}})), "mod is 2");
  EXPECT_EQ(Format("{{ div 1 0 }}", {}).substr(0, 11), "EXEC ERROR:");
  EXPECT_EQ(Format("{{ 1000000.0 }} {{ 0.5 }} {{ 123456.0 }} {{ 0.00001 }}", {}), "1e+06 0.5 123456 1e-05");
}

TEST(LogqlLineFormat, ConversionsAndTime) {
  EXPECT_EQ(Format("{{ .foo | bytes }}", L({{"foo", "3 kB"}})), "3000");
  EXPECT_EQ(Format("{{ .foo | bytes }}", L({{"foo", "3MB"}})), "3e+06");
  EXPECT_EQ(Format("{{ .foo | duration_seconds }}", L({{"foo", "3m10s"}})), "190");
  EXPECT_EQ(Format(R"({{ .foo | toDateInZone "2006-01-02T15:04:05.999999999Z" "UTC" | unixEpochNanos }})",
                   L({{"foo", "2023-03-10T01:32:40.340485723Z"}})),
            "1678411960340485723");
  EXPECT_EQ(Format("{{ .foo | b64dec }} {{ .bar | b64dec }}", L({{"foo", "Zm9vYmE"}, {"bar", "Zm9vYg"}})),
            "fooba foob");
  EXPECT_EQ(Format("{{ .foo | duration }}", L({{"foo", "2ms"}})), "0.002");
  EXPECT_EQ(Format("{{ .foo | duration_seconds }}", L({{"foo", "1h"}})), "3600");
  const int64_t ts = 1704067200123456789;  // 2024-01-01T00:00:00.123456789Z
  EXPECT_EQ(Format(R"({{ __timestamp__ | date "2006-01-02" }} bar {{ .bar }})", kFooBar, "", ts),
            "2024-01-01 bar blop");
  EXPECT_EQ(Format("{{ __timestamp__ | unixEpoch }}", {}, "", ts), "1704067200");
  EXPECT_EQ(Format("{{ __timestamp__ | unixEpochMillis }}", {}, "", ts), "1704067200123");
  EXPECT_EQ(Format("{{ __timestamp__ | unixEpochNanos }}", {}, "", ts), "1704067200123456789");
  EXPECT_EQ(Format("{{ __timestamp__ }}", {}, "", ts), "2024-01-01 00:00:00.123456789 +0000 UTC");
  EXPECT_EQ(Format(R"({{ __timestamp__ | date "Mon Jan _2 15:04:05.000 MST 2006" }})", {}, "", ts),
            "Mon Jan  1 00:00:00.123 UTC 2024");
  EXPECT_EQ(Format(R"({{ sub (unixEpoch (toDate "2006-01-02" "2021-11-02")) (unixEpoch (toDate "2006-01-02" "2021-11-01")) }})", {}),
            "86400");
  EXPECT_EQ(Format(R"({{ date "2006-01-02" (toDate "2006-01-02" "2021-11-02") }})", {}), "2021-11-02");
  EXPECT_EQ(Format(R"({{ .foo | toDateInZone "2006-01-02T15:04:05.999999999Z" "UTC" | unixEpochMillis }})",
                   L({{"foo", "2023-03-10T01:02:03.456789Z"}})),
            "1678410123456");
  EXPECT_EQ(Format("{{ .foo | unixToTime | unixEpoch }}", L({{"foo", "1679577215"}})), "1679577215");
  EXPECT_EQ(Format("{{ .foo | unixToTime | unixEpochMillis }}", L({{"foo", "1679577215123"}})), "1679577215123");
  EXPECT_EQ(Format("{{ div (unixEpoch now) (unixEpoch now) }}", {}), "1");
}

TEST(LogqlLineFormat, LineAndPrintf) {
  EXPECT_EQ(Format("{{ __line__ }} bar {{ .bar }}", kFooBar, "1"), "1 bar blop");
  EXPECT_EQ(Format(R"({{ printf "\x1b[31m%s\x1b[0m" .msg }})", L({{"msg", "hello"}})), "\x1b[31mhello\x1b[0m");
  EXPECT_EQ(Format(R"({{ printf "%5s|%-5s|%05d|%.2f|%x|%q|%v|%t" .a .a 42 3.14159 255 .a 1.5 true }})",
                   L({{"a", "ab"}})),
            R"(   ab|ab   |00042|3.14|ff|"ab"|1.5|true)");
  EXPECT_EQ(Format(R"({{ printf "%d" .a }})", L({{"a", "x"}})), "%!d(string=x)");
  EXPECT_EQ(Format(R"({{ printf "%s %s" .a }})", L({{"a", "x"}})), "x %!s(MISSING)");
  EXPECT_EQ(Format(R"({{ print "a" 1 2 "b" }})", {}), "a1 2b");
}

TEST(LogqlLineFormat, ControlFlow) {
  EXPECT_EQ(Format(R"({{ if eq .level "error" }}E{{ else if eq .level "warn" }}W{{ else }}I{{ end }})",
                   L({{"level", "warn"}})),
            "W");
  EXPECT_EQ(Format(R"({{ if and .a (not .b) }}yes{{ else }}no{{ end }})", L({{"a", "1"}})), "yes");
  EXPECT_EQ(Format(R"({{ if or .missing .a }}{{ .a }}{{ end }})", L({{"a", "1"}})), "1");
  EXPECT_EQ(Format(R"({{ with .a }}[{{ . }}]{{ else }}none{{ end }})", L({{"a", "v"}})), "[v]");
  EXPECT_EQ(Format(R"({{ with .b }}[{{ . }}]{{ else }}none{{ end }})", L({{"a", "v"}})), "none");
  EXPECT_EQ(Format(R"({{ $x := .a }}{{ $x }}-{{ $x | ToUpper }})", L({{"a", "v"}})), "v-V");
  EXPECT_EQ(Format("a  {{- .a -}}  b", L({{"a", "v"}})), "avb");
  EXPECT_EQ(Format("a{{/* comment */}}b", {}), "ab");
  EXPECT_EQ(Format(R"({{ if lt (len .a) 3 }}short{{ end }})", L({{"a", "ab"}})), "short");
  EXPECT_EQ(Format(R"({{ range $i, $e := (fromJson .j).list }}{{ $i }}={{ $e }};{{ end }})",
                   L({{"j", R"({"list":["x","y"]})"}})),
            "0=x;1=y;");
  EXPECT_EQ(Format(R"({{ (fromJson .j).user.name }})", L({{"j", R"({"user":{"name":"bob"}})"}})), "bob");
  EXPECT_EQ(Format("{{ .__error__ }}", {}), "");
}

TEST(LogqlLineFormat, Errors) {
  EXPECT_EQ(Format("{{ nosuchfunc }}", {}),
            "ERROR: invalid line template: template: line:1: function \"nosuchfunc\" not defined");
  EXPECT_EQ(Format("{{", {}), "ERROR: invalid line template: template: line:1: unclosed action");
  EXPECT_EQ(Format("{{ if .a }}x", {}).substr(0, 6), "ERROR:");
  EXPECT_EQ(Format("{{ end }}", {}).substr(0, 6), "ERROR:");
  EXPECT_EQ(Format(R"({{ "unterminated }})", {}).substr(0, 6), "ERROR:");
  // Runtime errors set TemplateFormatErr and keep the line.
  auto s = Must(MakeLineFormat(R"({{.foo Replace "foo"}})"));
  Entry e;
  e.stream = kFooBar;
  e.line = "orig";
  auto o = RunEntry(std::move(s), e);
  EXPECT_EQ(o.line, "orig");
  EXPECT_EQ(o.labels,
            R"({__error__="TemplateFormatErr", __error_details__="template: line:1:2: executing "line" at <.foo>: foo is not a method but has arguments", bar="blop", foo="blip"})");
  EXPECT_EQ(Format(R"({{ eq .a 1 }})", L({{"a", "1"}})).substr(0, 11), "EXEC ERROR:");
  EXPECT_EQ(Format("{{ ToUpper 5 }}", {}).substr(0, 11), "EXEC ERROR:");
}

TEST(LogqlLineFormat, ChangesLineForFollowingStages) {
  Pipeline p;
  p.Add(Must(MakeLineFormat("L={{.level}}")));
  p.Add(Must(MakeLineFilter(LineFilterOp::kContains, {{"L=error"}})));
  Entry e;
  e.stream = L({{"app", "a"}, {"level", "error"}});
  e.line = "x";
  auto o = RunEntry(p, e);
  EXPECT_TRUE(o.kept);
  EXPECT_EQ(o.line, "L=error");
  EXPECT_EQ(o.labels, R"({app="a", level="error"})");
}

// ---- label_format ----------------------------------------------------------------------------------

std::string LabelFmt(std::vector<LabelFormatItem> items, std::vector<Label> stream, std::string line = "") {
  auto s = MakeLabelFormat(items);
  if (!s.ok()) return "ERROR: " + std::string(s.status().message());
  Entry e;
  e.stream = std::move(stream);
  e.line = std::move(line);
  return RunEntry(std::move(*s), e).labels;
}

TEST(LogqlLabelFormat, RenameAndTemplate) {
  const auto stream = L({{"app", "a"}, {"method", "get"}});
  EXPECT_EQ(LabelFmt({{"verb", "method", false}}, stream), R"({app="a", verb="get"})");
  EXPECT_EQ(LabelFmt({{"route", "{{.method}}-ok", true}}, stream), R"({app="a", method="get", route="get-ok"})");
  EXPECT_EQ(LabelFmt({{"method", "{{.method}}!", true}}, stream), R"({app="a", method="get!"})");
  EXPECT_EQ(LabelFmt({{"x", "missing", false}}, stream), R"({app="a", method="get"})");
  EXPECT_EQ(LabelFmt({{"status", "{{div .status 100 }}", true}}, L({{"status", "200"}})), R"({status="2"})");
  EXPECT_EQ(LabelFmt({{"line", "{{ __line__ }}", true}}, {}, "the line"), R"({line="the line"})");
  // Templates see the labels as they were when the stage's first template ran.
  EXPECT_EQ(LabelFmt({{"a", "x", true}, {"b", "{{.a}}", true}}, L({{"a", "orig"}})), R"({a="x", b="orig"})");
  EXPECT_EQ(LabelFmt({{"fuzz", "bar", false}, {"1", "{{.fuzz}} and {{.foo}}", true}}, kFooBar),
            R"({1="blop and blip", foo="blip", fuzz="blop"})");
}

TEST(LogqlLabelFormat, Errors) {
  EXPECT_EQ(LabelFmt({{"x", "{{", true}}, {}),
            "ERROR: invalid template for label 'x': template: label:1: unclosed action");
  EXPECT_EQ(LabelFmt({{"a", "b", false}, {"a", "c", false}}, {}),
            "ERROR: multiple label name 'a' not allowed in a single format operation");
  EXPECT_EQ(LabelFmt({{"__error__", "b", false}}, {}), "ERROR: __error__ cannot be formatted");
}

// ---- drop / keep ----------------------------------------------------------------------------------

std::string DropKeep(bool drop, std::vector<NamedLabelMatcher> items, std::vector<Label> stream,
                     std::vector<Label> meta = {}) {
  auto s = drop ? MakeDropLabels(items) : MakeKeepLabels(items);
  if (!s.ok()) return "ERROR: " + std::string(s.status().message());
  Entry e;
  e.stream = std::move(stream);
  e.metadata = std::move(meta);
  return RunEntry(std::move(*s), e).labels;
}

TEST(LogqlDropKeep, Drop) {
  const auto s = L({{"app", "a"}, {"code", "500"}, {"zone", "eu"}});
  EXPECT_EQ(DropKeep(true, {{"code", std::nullopt, ""}, {"zone", std::nullopt, ""}}, s), R"({app="a"})");
  EXPECT_EQ(DropKeep(true, {{"code", storage::MatchType::kEqual, "500"}}, s), R"({app="a", zone="eu"})");
  EXPECT_EQ(DropKeep(true, {{"code", storage::MatchType::kEqual, "200"}}, s), R"({app="a", code="500", zone="eu"})");
  EXPECT_EQ(DropKeep(true, {{"code", storage::MatchType::kRegexMatch, "5.."}}, s), R"({app="a", zone="eu"})");
  EXPECT_EQ(DropKeep(true, {{"lvl", std::nullopt, ""}}, s, {{"lvl", "info"}}), R"({app="a", code="500", zone="eu"})");
}

TEST(LogqlDropKeep, DropErrorLabels) {
  Pipeline p;
  p.Add(Must(MakeJsonParser({})));
  p.Add(Must(MakeDropLabels({{"__error__", std::nullopt, ""}, {"__error_details__", std::nullopt, ""}})));
  Entry e;
  e.line = "nope";
  EXPECT_EQ(RunEntry(p, e).labels, "{}");
}

TEST(LogqlDropKeep, Keep) {
  const auto s = L({{"app", "a"}, {"code", "500"}, {"zone", "eu"}});
  EXPECT_EQ(DropKeep(false, {{"zone", std::nullopt, ""}}, s), R"({zone="eu"})");
  EXPECT_EQ(DropKeep(false, {{"code", std::nullopt, ""}, {"zone", std::nullopt, ""}}, s), R"({code="500", zone="eu"})");
  EXPECT_EQ(DropKeep(false, {{"code", storage::MatchType::kEqual, "500"}}, s), R"({code="500"})");
  EXPECT_EQ(DropKeep(false, {{"code", storage::MatchType::kEqual, "200"}}, s), "{}");
  EXPECT_EQ(DropKeep(false, {{"lvl", std::nullopt, ""}}, s, {{"lvl", "info"}}), R"({lvl="info"})");
}

TEST(LogqlDecolorize, StripsAnsi) {
  auto run = [](std::string line) {
    Entry e;
    e.line = std::move(line);
    return RunEntry(MakeDecolorize(), e).line;
  };
  EXPECT_EQ(run("plaintext"), "plaintext");
  EXPECT_EQ(run("\x1b[31mhello\x1b[0m"), "hello");
  EXPECT_EQ(run("\x1b[1;32mok\x1b[0m and \x1b[38;5;196mred\x1b[39m"), "ok and red");
  EXPECT_EQ(run("\xc2\x9b" "31mx"), "x");
}

// ---- LabelsBuilder ---------------------------------------------------------------------------------

TEST(LogqlLabelsBuilder, PrecedenceAndCategories) {
  const auto stream = L({{"app", "a"}, {"sl", "s"}, {"sm", "s"}, {"tri", "s"}});
  LabelsBuilder lbs;
  lbs.SetStream(&stream);
  std::vector<Label> meta = {{"md", "m"}, {"sm", "m"}, {"tri", "m"}};
  lbs.StartEntry(meta);
  EXPECT_TRUE(lbs.AddParsed("sl", "p"));
  EXPECT_TRUE(lbs.AddParsed("md", "p"));
  EXPECT_TRUE(lbs.AddParsed("tri", "p"));
  EXPECT_FALSE(lbs.AddParsed("tri", "again"));  // first extraction wins
  std::vector<Label> out;
  lbs.Labels(&out);
  EXPECT_EQ(testing::Render(out),
            R"({app="a", md="m", md_extracted="p", sl="s", sl_extracted="p", sm="s", sm_extracted="m", tri="s", tri_extracted="p"})");
  auto c = lbs.Categorized();
  EXPECT_EQ(testing::Render(c.stream), R"({app="a", sl="s", sm="s", tri="s"})");
  EXPECT_EQ(testing::Render(c.structured_metadata), R"({md="m", sm_extracted="m"})");
  EXPECT_EQ(testing::Render(c.parsed), R"({md_extracted="p", sl_extracted="p", tri_extracted="p"})");
  EXPECT_EQ(*lbs.Get("md"), "m");
  EXPECT_EQ(lbs.CategoryOf("md"), LabelCategory::kStructuredMetadata);
  EXPECT_EQ(lbs.CategoryOf("app"), LabelCategory::kStream);
}

TEST(LogqlLabelsBuilder, SetDelAndReset) {
  const auto stream = L({{"app", "a"}, {"env", "prod"}});
  LabelsBuilder lbs;
  lbs.SetStream(&stream);
  lbs.StartEntry({});
  EXPECT_TRUE(lbs.Unchanged());
  lbs.Set(LabelCategory::kParsed, "env", "dev");  // parsed hides the stream value
  EXPECT_EQ(*lbs.Get("env"), "dev");
  lbs.Del("app");
  EXPECT_FALSE(lbs.Get("app").has_value());
  lbs.SetError("E");
  std::vector<Label> out;
  lbs.Labels(&out);
  EXPECT_EQ(testing::Render(out), R"({__error__="E", env="dev"})");
  lbs.StartEntry({});
  lbs.Labels(&out);
  EXPECT_EQ(testing::Render(out), R"({app="a", env="prod"})");
  EXPECT_TRUE(lbs.Unchanged());
  // A metadata __error__ sets the error.
  std::vector<Label> meta = {{"__error__", "X"}};
  lbs.StartEntry(meta);
  EXPECT_EQ(lbs.error(), "X");
}

}  // namespace
}  // namespace otelbox::query::logql

namespace otelbox::query::logql {
namespace {

// Hostile input must fail cleanly, never exhaust the stack or hang.
TEST(LogqlFormatLimits, DeepNestingAndHugeOutputsFailCleanly) {
  std::string parens = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  EXPECT_FALSE(MakeLineFormat(parens).ok());
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{{ if 1 }}";
  for (int i = 0; i < 5000; ++i) ifs += "{{ end }}";
  EXPECT_FALSE(MakeLineFormat(ifs).ok());
  std::string elifs = "{{ if 0 }}";
  for (int i = 0; i < 5000; ++i) elifs += "{{ else if 0 }}";
  elifs += "{{ end }}";
  EXPECT_FALSE(MakeLineFormat(elifs).ok());
  // Nested ranges hit the step budget.
  auto s = MakeLineFormat("{{ range 1000 }}{{ range 1000 }}{{ range 1000 }}x{{ end }}{{ end }}{{ end }}");
  ASSERT_TRUE(s.ok());
  testing::Entry e;
  auto o = testing::RunEntry(std::move(*s), e);
  EXPECT_NE(o.labels.find("TemplateFormatErr"), std::string::npos);
  s = MakeLineFormat(R"({{ alignLeft 100000000000 "x" }})");
  ASSERT_TRUE(s.ok());
  o = testing::RunEntry(std::move(*s), e);
  EXPECT_NE(o.labels.find("TemplateFormatErr"), std::string::npos);
}

TEST(LogqlJsonParserLimits, DeepNestingDoesNotCrash) {
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 20000; ++i) deep += "}";
  testing::Entry e;
  e.line = deep;
  auto o = testing::RunEntry(testing::Must(MakeJsonParser({})), e);
  EXPECT_TRUE(o.kept);
  EXPECT_EQ(o.labels, "{}");  // the only value sits deeper than the recursion bound
  auto p = MakeJsonParser({{"x", "a.a.a"}});
  ASSERT_TRUE(p.ok());
  o = testing::RunEntry(std::move(*p), e);
  EXPECT_EQ(o.labels.substr(0, 14), R"({x="{"a":{"a":)");
}

}  // namespace
}  // namespace otelbox::query::logql
