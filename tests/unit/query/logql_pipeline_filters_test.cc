// LogQL line filters and label filters (Loki 3.x semantics: line_filters.logqltest,
// label_filters.logqltest, pkg/logql/log filter/ip tests).

#include <random>

#include <re2/re2.h>

#include "query/logql/pipeline_internal.h"
#include "tests/unit/query/logql_pipeline_test_util.h"

namespace otelbox::query::logql {
namespace {

using testing::Entry;
using testing::L;
using testing::Must;
using testing::RunEntry;

bool Matches(LineFilterOp op, std::vector<LineFilterTerm> terms, std::string_view line) {
  auto m = MakeLineMatcher(op, terms);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return false;
  return (*m)->Matches(line);
}

std::string LineFilterError(LineFilterOp op, std::vector<LineFilterTerm> terms) {
  auto m = MakeLineMatcher(op, terms);
  return m.ok() ? "ok" : std::string(m.status().message());
}

TEST(LogqlLineFilter, Substring) {
  EXPECT_TRUE(Matches(LineFilterOp::kContains, {{"err"}}, "req id=1 err=connrefused"));
  EXPECT_FALSE(Matches(LineFilterOp::kContains, {{"ERR"}}, "req id=1 err=connrefused"));
  EXPECT_FALSE(Matches(LineFilterOp::kNotContains, {{"err"}}, "req id=1 err=connrefused"));
  EXPECT_TRUE(Matches(LineFilterOp::kNotContains, {{"err"}}, "req id=2 ok"));
  EXPECT_TRUE(Matches(LineFilterOp::kContains, {{""}}, "anything"));
  EXPECT_TRUE(Matches(LineFilterOp::kContains, {{""}}, ""));
  EXPECT_FALSE(Matches(LineFilterOp::kNotContains, {{""}}, "anything"));
}

TEST(LogqlLineFilter, SubstringSearchMatchesStdFind) {
  // The SIMD search against std::string::find on random haystacks over a small alphabet,
  // at every length around the 16-byte block edges.
  std::mt19937 rng(7);
  const char alphabet[] = "abAB.:";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string hay(rng() % 70, 'x');
    for (char& c : hay) c = alphabet[rng() % 6];
    std::string needle(1 + rng() % 6, 'x');
    for (char& c : needle) c = alphabet[rng() % 6];
    bool want = hay.find(needle) != std::string::npos;
    ASSERT_EQ(internal::ContainsBytes(hay, needle), want) << hay << " / " << needle;
    std::string hay_lower = hay, needle_lower = needle;
    for (char& c : hay_lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : needle_lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ASSERT_EQ(internal::ContainsFold(hay, needle_lower), hay_lower.find(needle_lower) != std::string::npos)
        << hay << " / " << needle;
  }
}

TEST(LogqlLineFilter, RegexPrefilterAgreesWithRe2) {
  // Random lines against regexes with and without required substrings: the prefiltered
  // matcher must agree with a plain RE2 search.
  const char* exprs[] = {"status.?.?5[0-9][0-9]", "(?i)TimeOut", "foo(bar|baz)+qux", "a+b",
                         "(abc|def).*ghi", "^x[yz]{2,}", "[0-9]{3}-err", "(?s)ab.cd", "Ab|cD9"};
  const char alphabet[] = "abcdefghiqxyzstu09-5AB ";
  std::mt19937 rng(11);
  for (const char* expr : exprs) {
    RE2 plain(expr);
    ASSERT_TRUE(plain.ok());
    auto m = MakeLineMatcher(LineFilterOp::kRegex, {{expr}});
    ASSERT_TRUE(m.ok());
    for (int i = 0; i < 3000; ++i) {
      std::string line(rng() % 40, ' ');
      for (char& c : line) c = alphabet[rng() % (sizeof(alphabet) - 1)];
      if (i % 3 == 0) line.insert(rng() % (line.size() + 1), i % 2 ? "status=500" : "FOOBARqux abcXghi TIMEOUT");
      ASSERT_EQ((*m)->Matches(line), RE2::PartialMatch(line, plain)) << expr << " on " << line;
    }
  }
}

TEST(LogqlLineFilter, Regex) {
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{"code=5.."}}, "code=500 fail"));
  EXPECT_FALSE(Matches(LineFilterOp::kRegex, {{"code=5.."}}, "CODE=503 down"));
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{"(?i)code=5.."}}, "CODE=503 down"));
  EXPECT_TRUE(Matches(LineFilterOp::kNotRegex, {{"code=5.."}}, "code=200 pass"));
  // Literal fast paths keep regex semantics.
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{"(?i)ErRoR"}}, "an error here"));
  EXPECT_FALSE(Matches(LineFilterOp::kRegex, {{"(?i)error"}}, "an err0r here"));
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{R"(a\.b)"}}, "xa.by"));
  EXPECT_FALSE(Matches(LineFilterOp::kRegex, {{R"(a\.b)"}}, "xaxby"));
  // Go semantics: `.` does not match a newline unless (?s).
  EXPECT_FALSE(Matches(LineFilterOp::kRegex, {{"a.b"}}, "a\nb"));
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{"(?s)a.b"}}, "a\nb"));
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{"^abc$"}}, "abc"));
  // Alternations of literals (fast path) keep regex semantics.
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{"error|warn"}}, "a warn b"));
  EXPECT_FALSE(Matches(LineFilterOp::kRegex, {{"error|warn"}}, "a WARN b"));
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{"(?i)error|warn"}}, "a WARN b"));
  EXPECT_FALSE(Matches(LineFilterOp::kNotRegex, {{"error|warn"}}, "a warn b"));
  EXPECT_TRUE(Matches(LineFilterOp::kNotRegex, {{"error|warn"}}, "a info b"));
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{R"(a\|b|c)"}}, "xa|by"));
  EXPECT_FALSE(Matches(LineFilterOp::kRegex, {{R"(a\|b|c)"}}, "xay"));
  // An empty branch matches every line (and must not be dropped like an empty `or` operand).
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{"error|"}}, "info"));
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{"error|"}, {"x"}}, "info"));
  EXPECT_EQ(LineFilterError(LineFilterOp::kRegex, {{"("}}), "error parsing regexp: missing closing ): `(`");
}

TEST(LogqlLineFilter, Pattern) {
  EXPECT_TRUE(Matches(LineFilterOp::kPattern, {{"GET <_> 200"}}, "GET /api 200"));
  EXPECT_FALSE(Matches(LineFilterOp::kPattern, {{"GET <_> 200"}}, "POST /api 500"));
  EXPECT_TRUE(Matches(LineFilterOp::kNotPattern, {{"GET <_> 200"}}, "POST /api 500"));
  // No <_>: the pattern must match the whole line.
  EXPECT_FALSE(Matches(LineFilterOp::kPattern, {{"GET /api"}}, "GET /api 200"));
  EXPECT_TRUE(Matches(LineFilterOp::kPattern, {{"GET /api"}}, "GET /api"));
  EXPECT_TRUE(Matches(LineFilterOp::kPattern, {{"<_> error <_>"}}, "an error here"));
  EXPECT_FALSE(Matches(LineFilterOp::kPattern, {{"<_> error <_>"}}, "error here"));
  EXPECT_TRUE(Matches(LineFilterOp::kPattern, {{""}}, ""));
  EXPECT_FALSE(Matches(LineFilterOp::kPattern, {{""}}, "x"));
  EXPECT_EQ(LineFilterError(LineFilterOp::kPattern, {{"<verb> /api 200"}}),
            "named captures are not allowed: found '<verb>'");
}

TEST(LogqlLineFilter, Ip) {
  LineFilterTerm cidr{"192.168.1.0/24", true};
  EXPECT_TRUE(Matches(LineFilterOp::kContains, {cidr}, "src 192.168.1.10 ok"));
  EXPECT_FALSE(Matches(LineFilterOp::kContains, {cidr}, "src 10.0.0.9 ok"));
  EXPECT_FALSE(Matches(LineFilterOp::kContains, {cidr}, "no ip here"));
  EXPECT_TRUE(Matches(LineFilterOp::kNotContains, {cidr}, "no ip here"));
  EXPECT_EQ(LineFilterError(LineFilterOp::kContains, {{"notanip", true}}),
            "ip: invalid pattern: \"notanip\"");
  EXPECT_EQ(LineFilterError(LineFilterOp::kContains, {{"", true}}), "ip: invalid pattern: \"\"");
  EXPECT_EQ(LineFilterError(LineFilterOp::kRegex, {{"special"}, cidr}), "ip: invalid operation");
  EXPECT_EQ(LineFilterError(LineFilterOp::kContains, {{"192.168.0.1 - 192.189.10.12", true}}),
            "ip: invalid pattern: \"192.168.0.1 - 192.189.10.12\"");
}

struct IpCase {
  const char* pattern;
  const char* line;
  bool want;
};

TEST(LogqlLineFilter, IpPatternsFromLoki) {
  const IpCase cases[] = {
      {"192.168.0.1", "vpn 192.168.0.5 connected to vm", false},
      {"192.168.0.1", "vpn 192.168.0.1 connected to vm", true},
      {"192.168.0.1", "", false},
      {"::1", "vpn ::1 connected to vm", true},
      {"::1", "vpn connected to ::1", true},
      {"::1", "::1", true},
      {"192.168.0.1-192.189.10.12", "vpn 192.168.0.0 connected to vm", false},
      {"192.168.0.1-192.189.10.12", "vpn 192.168.0.0 192.168.0.1 connected to vm", true},
      {"192.168.0.1-192.189.10.12", "vpn 192.172.6.1 connected to vm", true},
      {"192.168.0.1-192.189.10.12", "vpn 192.255.255.255 connected to vm", false},
      {"2001:db8::1-2001:db8::8", "vpn 2001:db8::2 connected to vm", true},
      {"2001:db8::1-2001:db8::8", "vpn 2001:db8::9 connected to vm", false},
      {"192.168.4.5/16", "vpn 192.168.0.0 connected to vm", true},
      {"192.168.4.5/16", "vpn 192.172.6.1 connected to vm", false},
      {"192.168.4.5/16", "vpn 192.168.255.255 connected to vm", true},
      {"2001:db8::/32", "vpn 2001:db8::1 connected to vm", true},
      {"2001:db8::/32", "vpn 2001:db9::3 connected to vm", false},
      {"2001:db8::/32", "vpn 2001:dc8::1 and 2001:db8::2 connected to vm", true},
      {"10.0.0.0/8", "a=010.1.1.1", false},  // leading zeros are not an IPv4 address
      {"10.0.0.0/8", "x10.1.2.3y", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Matches(LineFilterOp::kContains, {{c.pattern, true}}, c.line), c.want)
        << c.pattern << " in " << c.line;
  }
}

TEST(LogqlLineFilter, OrChains) {
  std::vector<LineFilterTerm> terms = {{"error"}, {"warn"}};
  EXPECT_TRUE(Matches(LineFilterOp::kContains, terms, "level=error x"));
  EXPECT_TRUE(Matches(LineFilterOp::kContains, terms, "level=warn y"));
  EXPECT_FALSE(Matches(LineFilterOp::kContains, terms, "level=info z"));
  // A negative filter drops a line matching any operand.
  EXPECT_FALSE(Matches(LineFilterOp::kNotContains, terms, "level=error x"));
  EXPECT_TRUE(Matches(LineFilterOp::kNotContains, terms, "level=info z"));
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{"err.r"}, {"wa.n"}}, "level=warn y"));
  EXPECT_FALSE(Matches(LineFilterOp::kNotRegex, {{"err.r"}, {"wa.n"}}, "level=warn y"));
  EXPECT_TRUE(Matches(LineFilterOp::kPattern, {{"level=error <_>"}, {"level=warn <_>"}}, "level=warn y"));
  std::vector<LineFilterTerm> mixed = {{"special"}, {"10.0.0.0/8", true}};
  EXPECT_TRUE(Matches(LineFilterOp::kContains, mixed, "src 10.0.0.9 ok"));
  EXPECT_TRUE(Matches(LineFilterOp::kContains, mixed, "special no ip"));
  EXPECT_FALSE(Matches(LineFilterOp::kContains, mixed, "src 8.8.8.8 ok"));
  EXPECT_FALSE(Matches(LineFilterOp::kNotContains, mixed, "special no ip"));
}

TEST(LogqlLineFilter, OrChainDropsAlwaysTrueOperands) {
  // Loki's newOrFilter drops a TrueFilter operand rather than matching everything.
  EXPECT_FALSE(Matches(LineFilterOp::kContains, {{""}, {"x"}}, "abc"));
  EXPECT_TRUE(Matches(LineFilterOp::kContains, {{""}, {"x"}}, "axc"));
  EXPECT_FALSE(Matches(LineFilterOp::kContains, {{"x"}, {""}}, "abc"));
  EXPECT_FALSE(Matches(LineFilterOp::kRegex, {{".*"}, {"x"}}, "abc"));
  EXPECT_TRUE(Matches(LineFilterOp::kNotContains, {{""}, {"x"}}, "abc"));
  EXPECT_TRUE(Matches(LineFilterOp::kContains, {{""}, {""}}, "abc"));
  EXPECT_TRUE(Matches(LineFilterOp::kRegex, {{".*"}}, "a\nb"));
}

TEST(LogqlLineFilter, StageIsLineFilter) {
  auto s = Must(MakeLineFilter(LineFilterOp::kContains, {{"x"}}));
  EXPECT_TRUE(s->IsLineFilter());
  Entry e;
  e.line = "abc";
  EXPECT_FALSE(RunEntry(std::move(s), e).kept);
}

// ---- label filters --------------------------------------------------------------------------------

using Spec = LabelFilterSpec;
using storage::MatchType;

struct FilterResult {
  bool kept;
  std::string labels;
};

FilterResult Filter(const Spec& spec, std::string logfmt_line, std::vector<Label> stream = {},
                    std::vector<Label> meta = {}) {
  Pipeline p;
  p.Add(Must(MakeLogfmtParser(false, false, {})));
  auto f = MakeLabelFilter(spec);
  EXPECT_TRUE(f.ok()) << f.status();
  p.Add(std::move(*f));
  Entry e;
  e.line = std::move(logfmt_line);
  e.stream = std::move(stream);
  e.metadata = std::move(meta);
  auto o = RunEntry(p, e);
  return {o.kept, o.labels};
}

bool Keeps(const Spec& spec, std::string line, std::vector<Label> stream = {},
           std::vector<Label> meta = {}) {
  return Filter(spec, std::move(line), std::move(stream), std::move(meta)).kept;
}

TEST(LogqlLabelFilter, StringMatchers) {
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kEqual, "alpha"), "name=alpha"));
  EXPECT_FALSE(Keeps(Spec::String("name", MatchType::kEqual, "alpha"), "name=beta"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kNotEqual, "alpha"), "name=beta"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexMatch, "al.*"), "name=alpha"));
  // Anchored: a partial pattern does not match.
  EXPECT_FALSE(Keeps(Spec::String("name", MatchType::kRegexMatch, "alph"), "name=alpha"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexNoMatch, "alph"), "name=alpha"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexMatch, "(?i)ALPHA"), "name=alpha"));
  // From stream labels and metadata too.
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kEqual, "alpha"), "", L({{"name", "alpha"}})));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kEqual, "alpha"), "", {}, {{"name", "alpha"}}));
}

TEST(LogqlLabelFilter, AbsentLabelComparesAsEmpty) {
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kEqual, ""), "other=1"));
  EXPECT_FALSE(Keeps(Spec::String("name", MatchType::kNotEqual, ""), "other=1"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexMatch, ".*"), "other=1"));
  EXPECT_FALSE(Keeps(Spec::String("name", MatchType::kRegexMatch, ".+"), "other=1"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexMatch, ".*"), "", {}, {{"name", "a\nb"}}));
  EXPECT_FALSE(Keeps(Spec::String("name", MatchType::kRegexMatch, "a.b"), "", {}, {{"name", "a\nb"}}));
}

TEST(LogqlLabelFilter, LokiRegexSimplifications) {
  // An empty regex is always true in Loki (its simplifier), not "only empty".
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexMatch, ""), "name=x"));
  EXPECT_FALSE(Keeps(Spec::String("name", MatchType::kRegexNoMatch, ""), "name=x"));
  // `lit.*`, `.*lit`, `.*lit.*` become unanchored substring filters.
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexMatch, "foo.*"), "name=xfoo"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexMatch, ".*foo"), "name=foox"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexMatch, "(?i)FOO.*"), "name=xfoo"));
  EXPECT_FALSE(Keeps(Spec::String("name", MatchType::kRegexMatch, "foo.*"), "name=fo"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexNoMatch, "foo.*"), "name=bar"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexMatch, "a.*"), "", {}, {{"name", "a\nb"}}));
  // An escaped dot-star is a literal, not a wildcard.
  EXPECT_FALSE(Keeps(Spec::String("name", MatchType::kRegexMatch, R"(foo\.*)"), "name=xfoo"));
  EXPECT_TRUE(Keeps(Spec::String("name", MatchType::kRegexMatch, R"(foo\.*)"), "name=foo.."));
  // Other regexes stay anchored.
  EXPECT_FALSE(Keeps(Spec::String("name", MatchType::kRegexMatch, "fo+"), "name=xfoo"));
}

TEST(LogqlLabelFilter, Numbers) {
  EXPECT_TRUE(Keeps(Spec::Number("status", CompareOp::kGte, 500), "status=500"));
  EXPECT_FALSE(Keeps(Spec::Number("status", CompareOp::kGte, 500), "status=200"));
  EXPECT_TRUE(Keeps(Spec::Number("code", CompareOp::kEq, 200), "code=200.0"));
  EXPECT_TRUE(Keeps(Spec::Number("code", CompareOp::kLt, 0), "code=-1"));
  EXPECT_TRUE(Keeps(Spec::Number("code", CompareOp::kEq, 1500), "code=1.5e3"));
  EXPECT_TRUE(Keeps(Spec::Number("code", CompareOp::kNeq, 200), "code=201"));
  // Without the label the line is dropped, with no error.
  auto r = Filter(Spec::Number("status", CompareOp::kGt, 1), "x=1");
  EXPECT_FALSE(r.kept);
  // A value that does not convert keeps the line and sets LabelFilterErr.
  r = Filter(Spec::Number("status", CompareOp::kGt, 400), "status=abc");
  EXPECT_TRUE(r.kept);
  EXPECT_EQ(r.labels,
            R"({__error__="LabelFilterErr", __error_details__="strconv.ParseFloat: parsing "abc": invalid syntax", status="abc"})");
}

TEST(LogqlLabelFilter, Durations) {
  EXPECT_TRUE(Keeps(Spec::Duration("took", CompareOp::kGt, 1000000000), "took=1.5s"));
  EXPECT_FALSE(Keeps(Spec::Duration("took", CompareOp::kGt, 1000000000), "took=500ms"));
  EXPECT_TRUE(Keeps(Spec::Duration("took", CompareOp::kEq, 5400000000000), "took=90m"));
  EXPECT_TRUE(Keeps(Spec::Duration("took", CompareOp::kEq, 3600000000000), "took=1h0m0s"));
  EXPECT_TRUE(Keeps(Spec::Duration("took", CompareOp::kEq, 3600000000000), "took=3600000ms"));
  auto r = Filter(Spec::Duration("took", CompareOp::kGt, 1000000000), "took=90");
  EXPECT_EQ(r.labels,
            R"({__error__="LabelFilterErr", __error_details__="time: missing unit in duration "90"", took="90"})");
  r = Filter(Spec::Duration("took", CompareOp::kEq, 86400000000000), "took=1d");
  EXPECT_EQ(r.labels,
            R"({__error__="LabelFilterErr", __error_details__="time: unknown unit "d" in duration "1d"", took="1d"})");
}

TEST(LogqlLabelFilter, Bytes) {
  EXPECT_TRUE(Keeps(Spec::Bytes("size", CompareOp::kGt, 1000000), "size=2MB"));
  EXPECT_TRUE(Keeps(Spec::Bytes("size", CompareOp::kGt, 1000000), "size=2mb"));
  EXPECT_TRUE(Keeps(Spec::Bytes("size", CompareOp::kEq, 3000000), "size=3000KB"));
  EXPECT_TRUE(Keeps(Spec::Bytes("size", CompareOp::kLt, 2048), "size=2000B"));
  auto r = Filter(Spec::Bytes("size", CompareOp::kGt, 1000000), "size=oops");
  EXPECT_EQ(r.labels,
            R"({__error__="LabelFilterErr", __error_details__="strconv.ParseFloat: parsing "": invalid syntax", size="oops"})");
}

TEST(LogqlLabelFilter, Ip) {
  EXPECT_TRUE(Keeps(Spec::Ip("addr", CompareOp::kEq, "192.168.0.0/16"), "addr=192.168.3.4"));
  EXPECT_FALSE(Keeps(Spec::Ip("addr", CompareOp::kEq, "192.168.0.0/16"), "addr=10.0.0.1"));
  EXPECT_TRUE(Keeps(Spec::Ip("addr", CompareOp::kNeq, "192.168.0.0/16"), "addr=10.0.0.1"));
  EXPECT_TRUE(Keeps(Spec::Ip("addr", CompareOp::kEq, "10.0.0.0/8"), R"(addr="host 10.1.2.3:80")"));
  EXPECT_TRUE(Keeps(Spec::Ip("addr", CompareOp::kEq, "192.168.1.1-192.168.1.9"), "addr=192.168.1.5"));
  EXPECT_TRUE(Keeps(Spec::Ip("addr", CompareOp::kEq, "2001:db8::/32"), "addr=2001:db8::7"));
  // != keeps a value with no address but still drops a line without the label.
  EXPECT_TRUE(Keeps(Spec::Ip("addr", CompareOp::kNeq, "192.168.0.0/16"), "addr=none"));
  EXPECT_FALSE(Keeps(Spec::Ip("addr", CompareOp::kNeq, "192.168.0.0/16"), "x=1"));
  EXPECT_FALSE(MakeLabelFilter(Spec::Ip("addr", CompareOp::kEq, "bogus")).ok());
  EXPECT_EQ(MakeLabelFilter(Spec::Ip("addr", CompareOp::kGt, "10.0.0.0/8")).status().message(),
            "ip: invalid operation");
}

TEST(LogqlLabelFilter, IpKeepsErroredLines) {
  Pipeline p;
  p.Add(Must(MakeJsonParser({})));
  p.Add(Must(MakeLabelFilter(Spec::Ip("addr", CompareOp::kEq, "1.2.3.0/24"))));
  Entry e;
  e.line = "not json";
  auto o = RunEntry(p, e);
  EXPECT_TRUE(o.kept);
  EXPECT_NE(o.labels.find("JSONParserErr"), std::string::npos);
}

TEST(LogqlLabelFilter, AndOrSemantics) {
  auto level_error = Spec::String("lvl", MatchType::kEqual, "error");
  auto took = Spec::Duration("took", CompareOp::kGt, 1000000000);
  // or skips its right side when the left matched: no conversion error.
  auto r = Filter(Spec::Or(level_error, took), "lvl=error took=oops");
  EXPECT_TRUE(r.kept);
  EXPECT_EQ(r.labels.find("__error__"), std::string::npos);
  // The other order converts first and fails.
  r = Filter(Spec::Or(took, level_error), "lvl=error took=oops");
  EXPECT_TRUE(r.kept);
  EXPECT_NE(r.labels.find("LabelFilterErr"), std::string::npos);
  // and runs both.
  r = Filter(Spec::And(level_error, took), "lvl=error took=oops");
  EXPECT_NE(r.labels.find("LabelFilterErr"), std::string::npos);
  // The first failing filter owns the details.
  r = Filter(Spec::And(Spec::Duration("x", CompareOp::kGt, 1), Spec::Duration("y", CompareOp::kGt, 1)),
             "x=nope y=90");
  EXPECT_NE(r.labels.find(R"(invalid duration "nope")"), std::string::npos) << r.labels;
  r = Filter(Spec::And(Spec::Duration("y", CompareOp::kGt, 1), Spec::Duration("x", CompareOp::kGt, 1)),
             "x=nope y=90");
  EXPECT_NE(r.labels.find("missing unit"), std::string::npos) << r.labels;
  // x="1" or (y="1" and z="1")
  auto tree = Spec::Or(Spec::String("x", MatchType::kEqual, "1"),
                       Spec::And(Spec::String("y", MatchType::kEqual, "1"),
                                 Spec::String("z", MatchType::kEqual, "1")));
  EXPECT_TRUE(Keeps(tree, "x=1 y=0 z=0"));
  EXPECT_TRUE(Keeps(tree, "x=0 y=1 z=1"));
  EXPECT_FALSE(Keeps(tree, "x=0 y=1 z=0"));
  EXPECT_FALSE(Keeps(tree, "x=0 y=0 z=1"));
}

TEST(LogqlLabelFilter, ErrorLabelFilters) {
  Pipeline p;
  p.Add(Must(MakeLogfmtParser(false, false, {})));
  p.Add(Must(MakeLabelFilter(Spec::Duration("took", CompareOp::kGt, 1000000000))));
  p.Add(Must(MakeLabelFilter(Spec::String("__error__", MatchType::kEqual, ""))));
  Entry e;
  e.line = "took=oops";
  EXPECT_FALSE(RunEntry(p, e).kept);
  e.line = "took=2s";
  EXPECT_TRUE(RunEntry(p, e).kept);
  // __error_details__ is not special: reads as absent.
  EXPECT_TRUE(Keeps(Spec::String("__error_details__", MatchType::kEqual, ""), "a=1"));
  // A converting filter cannot read __error__.
  Pipeline q;
  q.Add(Must(MakeLogfmtParser(false, false, {})));
  q.Add(Must(MakeLabelFilter(Spec::Duration("took", CompareOp::kGt, 1000000000))));
  q.Add(Must(MakeLabelFilter(Spec::Number("__error__", CompareOp::kGt, 0))));
  e.line = "took=oops";
  EXPECT_FALSE(RunEntry(q, e).kept);
}

TEST(LogqlLabelFilter, BadRegexFailsAtBuild) {
  auto f = MakeLabelFilter(Spec::String("a", MatchType::kRegexMatch, "("));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "error parsing regexp: missing closing ): `(`");
}

}  // namespace
}  // namespace otelbox::query::logql
