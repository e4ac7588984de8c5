// LogQL parser stages: json, json with parameters, logfmt, regexp, pattern, unpack.
// Expected values are Loki 3.x behaviour (pkg/logql/log parser tests and the parsers.logqltest
// conformance script).

#include "tests/unit/query/logql_pipeline_test_util.h"

namespace otelbox::query::logql {
namespace {

using testing::Entry;
using testing::L;
using testing::Must;
using testing::RunEntry;

Entry Line(std::string line, std::vector<Label> stream = {}, std::vector<Label> meta = {}) {
  Entry e;
  e.line = std::move(line);
  e.stream = std::move(stream);
  e.metadata = std::move(meta);
  return e;
}

// ---- json -----------------------------------------------------------------------------------

TEST(LogqlJsonParser, FlattensNestedObjectsAndSkipsNullAndArrays) {
  auto o = RunEntry(Must(MakeJsonParser({})),
               Line(R"({"lvl":"warn","obj":{"x":1,"y":{"z":2}},"ok":true,"no":false,"nil":null,"arr":[1,2],"f":1.5})",
                    L({{"app", "a"}})));
  EXPECT_TRUE(o.kept);
  EXPECT_EQ(o.labels,
            R"({app="a", f="1.5", lvl="warn", no="false", obj_x="1", obj_y_z="2", ok="true"})");
}

TEST(LogqlJsonParser, SanitizesKeysAndKeepsFirstDuplicate) {
  auto o = RunEntry(Must(MakeJsonParser({})),
               Line(R"({"level":"parsed","a.b":1,"dup":"first","dup":"second","cou-nter":2,"9x":3})",
                    L({{"app", "a"}, {"level", "stream"}})));
  EXPECT_EQ(o.labels,
            R"({_9x="3", a_b="1", app="a", cou_nter="2", dup="first", level="stream", level_extracted="parsed"})");
}

TEST(LogqlJsonParser, NestedClashGetsExtractedSuffix) {
  auto o = RunEntry(Must(MakeJsonParser({})),
               Line(R"({"app":"bar","namespace":"prod","pod":{"uuid":"bar","deployment":{"ref":"foobar"}}})",
                    L({{"app", "foo"}, {"pod_uuid", "foo"}})));
  EXPECT_EQ(o.labels,
            R"({app="foo", app_extracted="bar", namespace="prod", pod_deployment_ref="foobar", pod_uuid="foo", pod_uuid_extracted="bar"})");
}

TEST(LogqlJsonParser, MetadataClashGoesToExtracted) {
  auto o = RunEntry(Must(MakeJsonParser({})),
               Line(R"({"app":"foo","pod":"pod_parsed"})", {}, {{"pod", "pod_sm"}}));
  EXPECT_EQ(o.labels, R"({app="foo", pod="pod_sm", pod_extracted="pod_parsed"})");
}

TEST(LogqlJsonParser, EscapesAndInvalidUtf8) {
  auto o = RunEntry(Must(MakeJsonParser({})),
                    Line(R"({"foo":"foo\\\"bar","u":"\u00e9","bad":"a)" "\xff" R"(b","esc":"\q"})"));
  // Invalid UTF-8 becomes a space; a bad escape makes the value empty (as Loki does).
  EXPECT_EQ(o.labels, R"({bad="a b", esc="", foo="foo\"bar", u="é"})");
}

TEST(LogqlJsonParser, WhitespaceKeysFollowLoki) {
  EXPECT_EQ(RunEntry(Must(MakeJsonParser({})), Line(R"({" ": {"foo":"bar"}})")).labels, R"({foo="bar"})");
  // A nested key that sanitizes to nothing still yields a label (with an empty name).
  EXPECT_EQ(RunEntry(Must(MakeJsonParser({})), Line(R"({" ": {" ":"bar"}})")).labels, R"({="bar"})");
  EXPECT_EQ(RunEntry(Must(MakeJsonParser({})), Line(R"({" ":"bar"})")).labels, "{}");
}

TEST(LogqlJsonParser, MalformedLineSetsErrorAndKeepsLine) {
  auto o = RunEntry(Must(MakeJsonParser({})), Line("broken", L({{"app", "a"}})));
  EXPECT_TRUE(o.kept);
  EXPECT_EQ(o.line, "broken");
  EXPECT_EQ(o.labels,
            R"({__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol", app="a"})");
  o = RunEntry(Must(MakeJsonParser({})), Line("{n}"));
  EXPECT_EQ(o.labels,
            R"({__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol"})");
  o = RunEntry(Must(MakeJsonParser({})), Line(R"({"a":"unterminated)"));
  EXPECT_NE(o.labels.find("JSONParserErr"), std::string::npos);
}

TEST(LogqlJsonParser, SecondParserDoesNotOverrideFirst) {
  Pipeline p;
  p.Add(Must(MakeJsonParser({})));
  p.Add(Must(MakeLogfmtParser(false, false, {})));
  Entry e = Line(R"({"a":"json"})");
  // logfmt reads `{"a":"json"}` as a bare key; nothing overrides a=json.
  EXPECT_EQ(RunEntry(p, e).labels.find(R"(a="json")") != std::string::npos, true);
}

// ---- json with parameters ---------------------------------------------------------------------

constexpr const char* kJsonDoc =
    R"({"app":"foo","field with space":"value","null_field":null,"bool_field":false,"namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar", "params": [1,2,3,"string_value"]}},"user":{"id":"u1"},"tags":["x","y"]})";

std::string JsonParam(std::string label, std::string expr, std::vector<Label> stream = {},
                      std::string line = kJsonDoc) {
  auto s = MakeJsonParser({{std::move(label), std::move(expr)}});
  if (!s.ok()) return "ERROR: " + std::string(s.status().message());
  return RunEntry(std::move(*s), Line(std::move(line), std::move(stream))).labels;
}

TEST(LogqlJsonExpressionParser, Paths) {
  EXPECT_EQ(JsonParam("app", "app"), R"({app="foo"})");
  EXPECT_EQ(JsonParam("test", R"(["field with space"])"), R"({test="value"})");
  EXPECT_EQ(JsonParam("uuid", "pod.uuid"), R"({uuid="foo"})");
  EXPECT_EQ(JsonParam("uuid", R"(pod["uuid"])"), R"({uuid="foo"})");
  EXPECT_EQ(JsonParam("uuid", R"(["pod"]["uuid"])"), R"({uuid="foo"})");
  EXPECT_EQ(JsonParam("uuid", R"(["pod"].uuid)"), R"({uuid="foo"})");
  EXPECT_EQ(JsonParam("param", "pod.deployment.params[0]"), R"({param="1"})");
  EXPECT_EQ(JsonParam("param", "pod.deployment.params[3]"), R"({param="string_value"})");
  EXPECT_EQ(JsonParam("params", "pod.deployment.params"), R"({params="[1,2,3,"string_value"]"})");
  EXPECT_EQ(JsonParam("d", "pod.deployment"),
            R"({d="{"ref":"foobar", "params": [1,2,3,"string_value"]}"})");
  EXPECT_EQ(JsonParam("tag", "tags[0]"), R"({tag="x"})");
  EXPECT_EQ(JsonParam("who", "user.id"), R"({who="u1"})");
}

TEST(LogqlJsonExpressionParser, MissingValuesBecomeEmptyLabels) {
  EXPECT_EQ(JsonParam("nope", "pod.nope"), R"({nope=""})");
  EXPECT_EQ(JsonParam("u", R"(pod[""])"), R"({u=""})");
  EXPECT_EQ(JsonParam("p", R"(pod.deployment.params[""])"), R"({p=""})");
  EXPECT_EQ(JsonParam("nf", "null_field"), R"({nf=""})");
  EXPECT_EQ(JsonParam("b", "bool_field"), R"({b="false"})");
  EXPECT_EQ(JsonParam("uuid", "pod.uuid", {}, "{}"), R"({uuid=""})");
  EXPECT_EQ(JsonParam("uuid", "x", {}, ""), "{}");
}

TEST(LogqlJsonExpressionParser, ClashesAndErrors) {
  EXPECT_EQ(JsonParam("uuid", "pod.uuid", L({{"uuid", "bar"}})), R"({uuid="bar", uuid_extracted="foo"})");
  EXPECT_EQ(JsonParam("uuid", "will.not.work", L({{"foo", "bar"}}), "invalid json"),
            R"({__error__="JSONParserErr", foo="bar"})");
  EXPECT_EQ(JsonParam("app", "app", {}, R"({"app":"foo","app":"duplicate"})"), R"({app="foo"})");
  EXPECT_EQ(JsonParam("app", "app", {}, R"({"app":"{\"name\":\"great \\\"loki\\\"\"}"})"),
            R"({app="{"name":"great \"loki\""}"})");
}

TEST(LogqlJsonExpressionParser, BadExpressionsFailAtBuildTime) {
  for (const char* bad : {"user[", "field with space", R"("pod"])", R"(["pod")", "a[1.5]", ""}) {
    auto s = MakeJsonParser({{"x", bad}});
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(std::string(s.status().message()).find("cannot parse expression"), std::string::npos)
        << s.status();
  }
}

// ---- logfmt -------------------------------------------------------------------------------------

std::string Logfmt(std::string line, bool strict = false, bool keep_empty = false,
                   std::vector<Label> stream = {}, std::vector<Label> meta = {}) {
  return RunEntry(Must(MakeLogfmtParser(strict, keep_empty, {})),
             Line(std::move(line), std::move(stream), std::move(meta)))
      .labels;
}

TEST(LogqlLogfmtParser, Basics) {
  EXPECT_EQ(Logfmt("level=info status=200"), R"({level="info", status="200"})");
  EXPECT_EQ(Logfmt(R"(a-b=1 9x=2 dup=first dup=second msg="hi there" empty=)"),
            R"({_9x="2", a_b="1", dup="first", msg="hi there"})");
  EXPECT_EQ(Logfmt(R"(a-b=1 9x=2 dup=first dup=second msg="hi there" empty=)", false, true),
            R"({_9x="2", a_b="1", dup="first", empty="", msg="hi there"})");
  EXPECT_EQ(Logfmt("buzz bar=foo"), R"({bar="foo"})");
  EXPECT_EQ(Logfmt("buzz bar=foo", false, true), R"({bar="foo", buzz=""})");
}

TEST(LogqlLogfmtParser, QuotedValues) {
  EXPECT_EQ(Logfmt(R"(foobar="foo\nbar\tbaz")"), "{foobar=\"foo\nbar\tbaz\"}");
  EXPECT_EQ(Logfmt(R"(foobar="foo ba\\r baz")"), R"({foobar="foo ba\r baz"})");
  EXPECT_EQ(Logfmt(R"(a="\u00e9")"), R"({a="é"})");
  EXPECT_EQ(Logfmt("buzz=foo bar=\xff" "f"), R"({bar=" f", buzz="foo"})");
}

TEST(LogqlLogfmtParser, MalformedPairs) {
  EXPECT_EQ(Logfmt(R"(good=1 bad="unterminated)"), R"({good="1"})");
  EXPECT_EQ(Logfmt(R"(good=1 bad="unterminated)", true),
            R"({__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 25 : unterminated quoted value", good="1"})");
  EXPECT_EQ(Logfmt("foobar====wqe=sdad1r"), "{}");
  EXPECT_EQ(Logfmt("foobar====wqe=sdad1r", true),
            R"({__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 8 : unexpected '='"})");
  // Non-strict parsing continues past a bad pair.
  EXPECT_EQ(Logfmt(R"(a=1 =x b=2)"), R"({a="1", b="2"})");
  EXPECT_EQ(Logfmt(R"(a=1 =x b=2)", true).find("b=\"2\""), std::string::npos);
}

TEST(LogqlLogfmtParser, ClashPrecedence) {
  // Stream sl, sm, tri; metadata md, sm, tri; parsed sl, md, tri (parsers.logqltest).
  auto o = Logfmt("sl=p md=p tri=p", false, false, L({{"app", "a"}, {"sl", "s"}, {"sm", "s"}, {"tri", "s"}}),
                  {{"md", "m"}, {"sm", "m"}, {"tri", "m"}});
  EXPECT_EQ(o,
            R"({app="a", md="m", md_extracted="p", sl="s", sl_extracted="p", sm="s", sm_extracted="m", tri="s", tri_extracted="p"})");
}

TEST(LogqlLogfmtParser, Parameters) {
  auto s = MakeLogfmtParser(false, false, {{"level", "level"}, {"code", "status"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(RunEntry(std::move(*s), Line("level=info status=200 msg=hi")).labels,
            R"({code="200", level="info"})");
  // Missing keys still produce empty labels.
  s = MakeLogfmtParser(false, false, {{"level", "level"}, {"code", "status"}});
  EXPECT_EQ(RunEntry(std::move(*s), Line("msg=hi")).labels, R"({code="", level=""})");
  // A clash with a stream label goes to _extracted.
  s = MakeLogfmtParser(false, false, {{"level", "level"}});
  EXPECT_EQ(RunEntry(std::move(*s), Line("level=info", L({{"level", "s"}}))).labels,
            R"({level="s", level_extracted="info"})");
  EXPECT_FALSE(MakeLogfmtParser(false, false, {{"x", "a.b"}}).ok());
}

// ---- regexp -------------------------------------------------------------------------------------

TEST(LogqlRegexpParser, ExtractsNamedGroups) {
  auto o = RunEntry(Must(MakeRegexpParser(R"((?P<method>\w+) (?P<path>\S+) (?P<status>\d+))")),
               Line("GET /home 200", L({{"app", "a"}})));
  EXPECT_EQ(o.labels, R"({app="a", method="GET", path="/home", status="200"})");
  // Go 1.22 syntax (?<name>) works too.
  o = RunEntry(Must(MakeRegexpParser(R"((?<verb>\w+))")), Line("PUT x"));
  EXPECT_EQ(o.labels, R"({verb="PUT"})");
}

TEST(LogqlRegexpParser, NoMatchKeepsLineClashGetsSuffix) {
  auto o = RunEntry(Must(MakeRegexpParser(R"((?P<num>\d+))")), Line("PUT /x", L({{"method", "stream"}})));
  EXPECT_TRUE(o.kept);
  EXPECT_EQ(o.labels, R"({method="stream"})");
  o = RunEntry(Must(MakeRegexpParser(R"((?P<method>\w+) (?P<path>\S+))")), Line("PUT /x", L({{"method", "stream"}})));
  EXPECT_EQ(o.labels, R"({method="stream", method_extracted="PUT", path="/x"})");
  o = RunEntry(Must(MakeRegexpParser("(?P<foo>.*)buzz")), Line("matchebuzz barbuzz"));
  EXPECT_EQ(o.labels, R"({foo="matchebuzz bar"})");
  o = RunEntry(Must(MakeRegexpParser(R"(status=(?P<status>\w+),latency=(?P<latency>\w+)(ms|ns))")),
          Line("status=200,latency=500ms", {}, {{"status", "400"}}));
  EXPECT_EQ(o.labels, R"({latency="500", status="400", status_extracted="200"})");
}

TEST(LogqlRegexpParser, BuildErrors) {
  auto msg = [](std::string_view re) {
    auto s = MakeRegexpParser(re);
    return s.ok() ? std::string("ok") : std::string(s.status().message());
  };
  EXPECT_EQ(msg("nocapture"), "at least one named capture must be supplied");
  EXPECT_EQ(msg("f(.*) (foo|bar)"), "at least one named capture must be supplied");
  EXPECT_EQ(msg("(?P<x>.)(?P<x>.)"), "duplicate extracted label name 'x'");
  EXPECT_EQ(msg("("), "error parsing regexp: missing closing ): `(`");
  EXPECT_EQ(msg("blah (.*) (?P<foo>)"), "ok");
  EXPECT_NE(msg("blah (?P<foo$>foo)"), "ok");
}

// ---- pattern ------------------------------------------------------------------------------------

TEST(LogqlPatternParser, Captures) {
  auto o = RunEntry(Must(MakePatternParser("<method> <path> <status>")), Line("GET /home 200"));
  EXPECT_EQ(o.labels, R"({method="GET", path="/home", status="200"})");
  o = RunEntry(Must(MakePatternParser("<method> <_> <status>")), Line("GET /home 200"));
  EXPECT_EQ(o.labels, R"({method="GET", status="200"})");
  // A short line fills only the leading captures; a clash gets _extracted.
  o = RunEntry(Must(MakePatternParser("<method> <path>")), Line("POST", L({{"method", "stream"}})));
  EXPECT_EQ(o.labels, R"({method="stream", method_extracted="POST"})");
  o = RunEntry(Must(MakePatternParser(R"(<ip> - <user> [<_>] "<method> <uri> <_>" <status> <size>)")),
          Line(R"(10.1.0.88 - - [14/Dec/2020:22:56:24 +0000] "GET /static/img/about/bob.jpg HTTP/1.1" 200 60755)"));
  EXPECT_EQ(o.labels,
            R"({ip="10.1.0.88", method="GET", size="60755", status="200", uri="/static/img/about/bob.jpg", user="-"})");
  // A leading literal must match the start of the line.
  o = RunEntry(Must(MakePatternParser("GET <path>")), Line("POST /x"));
  EXPECT_EQ(o.labels, "{}");
}

TEST(LogqlPatternParser, BuildErrors) {
  EXPECT_EQ(MakePatternParser("no captures here").status().message(), "at least one capture is required");
  EXPECT_FALSE(MakePatternParser("<a><b>").ok());
  EXPECT_FALSE(MakePatternParser("<a> <a>").ok());
  EXPECT_FALSE(MakePatternParser("").ok());
}

// ---- unpack -------------------------------------------------------------------------------------

TEST(LogqlUnpackParser, PromotesStringsAndReplacesLine) {
  auto o = RunEntry(Must(MakeUnpackParser()),
               Line(R"({"bar":1,"app":"foo","namespace":"prod","_entry":"some message","pod":{"uid":"1"}})",
                    L({{"cluster", "us-central1"}})));
  EXPECT_EQ(o.line, "some message");
  EXPECT_EQ(o.labels, R"({app="foo", cluster="us-central1", namespace="prod"})");
  o = RunEntry(Must(MakeUnpackParser()),
          Line(R"({"foo.bar":"10ms","test-dash":"foo","_entry":"some message"})", L({{"foo", "bar"}})));
  EXPECT_EQ(o.labels, R"({foo="bar", foo_bar="10ms", test_dash="foo"})");
  o = RunEntry(Must(MakeUnpackParser()), Line(R"({"lvl":"packed","_entry":"code=42"})", L({{"lvl", "stream"}})));
  EXPECT_EQ(o.labels, R"({lvl="stream", lvl_extracted="packed"})");
  EXPECT_EQ(o.line, "code=42");
}

TEST(LogqlUnpackParser, WithoutEntryNothingChanges) {
  auto o = RunEntry(Must(MakeUnpackParser()),
               Line(R"({"bar":1,"app":"foo","namespace":"prod"})", L({{"app", "bar"}})));
  EXPECT_EQ(o.labels, R"({app="bar"})");
  EXPECT_EQ(o.line, R"({"bar":1,"app":"foo","namespace":"prod"})");
}

TEST(LogqlUnpackParser, Errors) {
  auto o = RunEntry(Must(MakeUnpackParser()), Line(R"(["foo","bar"])"));
  EXPECT_EQ(o.labels,
            R"({__error__="JSONParserErr", __error_details__="expecting json object(6), but it is not"})");
  o = RunEntry(Must(MakeUnpackParser()), Line(""));
  EXPECT_EQ(o.labels, "{}");
  o = RunEntry(Must(MakeUnpackParser()), Line(R"({"_entry":"a \"quoted\" word"})"));
  EXPECT_EQ(o.line, R"(a "quoted" word)");
}

TEST(LogqlUnpackParser, FeedsFollowingParser) {
  Pipeline p;
  p.Add(Must(MakeUnpackParser()));
  p.Add(Must(MakeLogfmtParser(false, false, {})));
  auto o = RunEntry(p, Line(R"({"lvl":"packed","_entry":"code=42"})", L({{"lvl", "stream"}})));
  EXPECT_EQ(o.labels, R"({code="42", lvl="stream", lvl_extracted="packed"})");
}

}  // namespace
}  // namespace otelbox::query::logql
