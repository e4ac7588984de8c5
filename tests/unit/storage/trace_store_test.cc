#include "storage/traces/trace_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "storage/traces/search_block.h"
#include "storage/traces/span_codec.h"
#include "storage/traces/span_filter.h"
#include "test_util.h"

namespace otelbox::storage {
namespace {

using testing::kNowMs;
using testing::TempDir;

constexpr int64_t kRetentionMs = 15LL * 24 * 3600 * 1000;
constexpr uint64_t kNowNs = static_cast<uint64_t>(kNowMs) * 1'000'000;
constexpr uint64_t kMs = 1'000'000;
constexpr std::string_view kTenant = "fake";

TraceId Tid(uint8_t n) {
  TraceId id{};
  id[15] = n;
  id[0] = 0xab;
  return id;
}
SpanId Sid(uint8_t n) {
  SpanId id{};
  id[7] = n;
  return id;
}

std::shared_ptr<const Resource> Res(const std::string& service) {
  auto r = std::make_shared<Resource>();
  r->attributes.push_back({"service.name", {std::string(service)}});
  r->attributes.push_back({"host.cores", {int64_t{8}}});
  return r;
}

std::shared_ptr<const InstrumentationScope> Scope() {
  auto s = std::make_shared<InstrumentationScope>();
  s->name = "lib";
  s->version = "1.2";
  s->attributes.push_back({"scope.attr", {true}});
  return s;
}

Span MakeSpan(std::shared_ptr<const Resource> res, TraceId trace, uint8_t span, uint8_t parent,
              std::string name, uint64_t start_ns, uint64_t dur_ns) {
  Span s;
  s.resource = std::move(res);
  s.scope = Scope();
  s.trace_id = trace;
  s.span_id = Sid(span);
  if (parent) s.parent_span_id = Sid(parent);
  s.name = std::move(name);
  s.kind = SpanKind::kServer;
  s.start_time_unix_nano = start_ns;
  s.end_time_unix_nano = start_ns + dur_ns;
  return s;
}

// A span using every field and every attribute type.
Span FullSpan() {
  Span s = MakeSpan(Res("api"), Tid(1), 1, 0, "GET /users", kNowNs - 1000 * kMs, 5 * kMs);
  s.trace_state = "k=v";
  s.flags = 1;
  s.kind = SpanKind::kClient;
  s.attributes.push_back({"http.method", {std::string("GET")}});
  s.attributes.push_back({"http.status_code", {int64_t{500}}});
  s.attributes.push_back({"ratio", {0.25}});
  s.attributes.push_back({"cached", {false}});
  s.attributes.push_back({"tags", {AttributeArray{{std::string("a")}, {int64_t{2}}}}});
  s.attributes.push_back({"map", {AttributeList{{"x", {std::string("y")}}}}});
  s.attributes.push_back({"raw", {Bytes{std::string("\x00\x01", 2)}}});
  s.attributes.push_back({"empty", {}});
  s.dropped_attributes_count = 3;
  SpanEvent e;
  e.time_unix_nano = s.start_time_unix_nano + 1;
  e.name = "exception";
  e.attributes.push_back({"exception.message", {std::string("boom")}});
  e.dropped_attributes_count = 1;
  s.events.push_back(e);
  s.dropped_events_count = 2;
  SpanLink l;
  l.trace_id = Tid(9);
  l.span_id = Sid(9);
  l.trace_state = "a=b";
  l.attributes.push_back({"link.attr", {int64_t{1}}});
  l.flags = 1;
  s.links.push_back(l);
  s.dropped_links_count = 4;
  s.status_code = StatusCode::kError;
  s.status_message = "failed";
  return s;
}

void ExpectSameSpan(const Span& a, const Span& b) {
  ASSERT_TRUE(a.resource && b.resource);
  EXPECT_EQ(*a.resource, *b.resource);
  ASSERT_TRUE(a.scope && b.scope);
  EXPECT_EQ(*a.scope, *b.scope);
  EXPECT_EQ(a.trace_id, b.trace_id);
  EXPECT_EQ(a.span_id, b.span_id);
  EXPECT_EQ(a.parent_span_id, b.parent_span_id);
  EXPECT_EQ(a.trace_state, b.trace_state);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.start_time_unix_nano, b.start_time_unix_nano);
  EXPECT_EQ(a.end_time_unix_nano, b.end_time_unix_nano);
  EXPECT_EQ(a.attributes, b.attributes);
  EXPECT_EQ(a.dropped_attributes_count, b.dropped_attributes_count);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.dropped_events_count, b.dropped_events_count);
  EXPECT_EQ(a.links, b.links);
  EXPECT_EQ(a.dropped_links_count, b.dropped_links_count);
  EXPECT_EQ(a.status_code, b.status_code);
  EXPECT_EQ(a.status_message, b.status_message);
}

TEST(SpanCodecTest, GroupRoundTripKeepsEverything) {
  Span a = FullSpan();
  Span b = MakeSpan(a.resource, Tid(1), 2, 1, "db", a.start_time_unix_nano + 10, 3);
  std::string enc = EncodeSpanGroup({&a, &b});
  std::vector<Span> out;
  ASSERT_TRUE(DecodeSpanGroup(enc, &out));
  ASSERT_EQ(out.size(), 2u);
  ExpectSameSpan(a, out[0]);
  ExpectSameSpan(b, out[1]);
  // Shared resources stay shared.
  EXPECT_EQ(out[0].resource.get(), out[1].resource.get());
  uint64_t max_start;
  ASSERT_TRUE(SpanGroupMaxStart(enc, &max_start));
  EXPECT_EQ(max_start, b.start_time_unix_nano);
}

TEST(SpanCodecTest, TruncatedInputIsRejected) {
  Span a = FullSpan();
  std::string enc = EncodeSpanGroup({&a});
  for (size_t n = 0; n < enc.size(); ++n) {
    std::vector<Span> out;
    EXPECT_FALSE(DecodeSpanGroup(std::string_view(enc).substr(0, n), &out)) << n;
  }
}

TEST(SearchBlockTest, RowsDecodeAndMaterialize) {
  Span a = FullSpan();
  Span b = MakeSpan(Res("worker"), Tid(2), 1, 0, "job", a.start_time_unix_nano + 5, 7);
  std::string block = EncodeSearchBlock({&a, &b});
  SearchBlockReader r;
  ASSERT_TRUE(r.Parse(block));
  EXPECT_EQ(r.num_spans(), 2u);
  EXPECT_EQ(r.min_start_ns(), a.start_time_unix_nano);
  EXPECT_EQ(r.max_start_ns(), b.start_time_unix_nano);
  EXPECT_TRUE(r.ContainsString("worker"));
  EXPECT_TRUE(r.ContainsString("http.method"));
  EXPECT_FALSE(r.ContainsString("nope"));
  SpanView v;
  ASSERT_TRUE(r.Next(&v, true));
  EXPECT_EQ(v.name, "GET /users");
  ASSERT_NE(v.span_attrs, nullptr);
  EXPECT_EQ(v.span_attrs->size(), a.attributes.size());
  Span m;
  ASSERT_TRUE(r.MaterializeCurrent(&m));
  ExpectSameSpan(a, m);
  ASSERT_TRUE(r.Next(&v, false));
  EXPECT_EQ(v.name, "job");
  Span m2;
  ASSERT_TRUE(r.MaterializeCurrent(&m2));
  ExpectSameSpan(b, m2);
  EXPECT_FALSE(r.Next(&v, false));
  EXPECT_TRUE(r.ok());
}


TEST(SearchBlockTest, DictionaryFindsEveryStringOfTheBlockAndNoOther) {
  // Strings arrive in an order unrelated to their byte order (the dictionary numbers them
  // by first use; the lookup goes through the ids sorted by string).
  std::vector<Span> spans;
  std::set<std::string> present;
  for (int i = 0; i < 300; ++i) {
    const std::string user = "user-" + std::to_string((i * 7919) % 1000);
    Span s = MakeSpan(Res(i % 2 ? "api" : "db"), Tid(static_cast<uint8_t>(i)), 1, 0,
                      "op" + std::to_string(i % 13), kNowNs + i, 5);
    s.attributes.push_back({"user.id", {user}});
    present.insert(user);
    spans.push_back(std::move(s));
  }
  std::vector<const Span*> ptrs;
  for (const auto& s : spans) ptrs.push_back(&s);
  std::string block = EncodeSearchBlock(ptrs);
  SearchBlockReader r;
  ASSERT_TRUE(r.Parse(block));
  for (const auto& u : present) EXPECT_TRUE(r.ContainsString(u)) << u;
  for (const char* s : {"api", "db", "op0", "op12", "user.id", "service.name", "lib", "1.2"}) {
    EXPECT_TRUE(r.ContainsString(s)) << s;
  }
  for (const char* s : {"user-", "user-1000", "op13", "ap", "dbx", "zzz", "\xff"}) {
    if (present.count(s) == 0) EXPECT_FALSE(r.ContainsString(s)) << s;
  }
  // Two equal resources behind different pointers are one resource of the block: rows of
  // both still materialise with the same attributes.
  SpanView v;
  size_t rows = 0;
  while (r.Next(&v, true)) {
    Span m;
    ASSERT_TRUE(r.MaterializeCurrent(&m));
    ExpectSameSpan(spans[rows], m);
    ++rows;
  }
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(rows, spans.size());
}

TEST(SearchBlockTest, TruncatedOrCorruptBlocksAreRejected) {
  Span a = FullSpan();
  Span b = MakeSpan(Res("worker"), Tid(2), 1, 0, "job", a.start_time_unix_nano + 5, 7);
  const std::string block = EncodeSearchBlock({&a, &b});
  for (size_t n = 0; n < block.size(); ++n) {
    SearchBlockReader r;
    if (!r.Parse(std::string_view(block).substr(0, n))) continue;
    SpanView v;
    size_t rows = 0;
    while (r.Next(&v, true)) ++rows;
    EXPECT_FALSE(r.ok() && rows == 2) << "a block cut at " << n << " read whole";
  }
  std::string flipped = block;
  flipped[flipped.size() / 2] ^= 0x5a;  // inside the compressed rows
  SearchBlockReader r;
  if (r.Parse(flipped)) {
    SpanView v;
    while (r.Next(&v, true)) {
    }
  }
}
SpanCondition Cond(TraceScope scope, std::string key, ConditionOp op, ConditionOperand v) {
  SpanCondition c;
  c.scope = scope;
  c.key = std::move(key);
  c.op = op;
  c.operand = std::move(v);
  return c;
}
SpanCondition Intr(Intrinsic i, ConditionOp op, ConditionOperand v) {
  SpanCondition c;
  c.scope = TraceScope::kIntrinsic;
  c.intrinsic = i;
  c.op = op;
  c.operand = std::move(v);
  return c;
}

TEST(SpanFilterTest, Conditions) {
  Span s = FullSpan();
  std::vector<AttrView> a, b, c;
  SpanView v = ViewOfSpan(s, &a, &b, &c);
  auto match = [&](std::vector<SpanCondition> conds, bool all = true) {
    auto f = SpanFilter::Compile(conds, all);
    EXPECT_TRUE(f.ok());
    return (*f)->Matches(v);
  };
  using O = ConditionOp;
  EXPECT_TRUE(match({Cond(TraceScope::kResource, "service.name", O::kEq, std::string("api"))}));
  EXPECT_FALSE(match({Cond(TraceScope::kResource, "service.name", O::kEq, std::string("x"))}));
  EXPECT_TRUE(match({Cond(TraceScope::kUnscoped, "service.name", O::kEq, std::string("api"))}));
  EXPECT_TRUE(match({Cond(TraceScope::kSpan, "http.status_code", O::kGe, int64_t{500})}));
  EXPECT_TRUE(match({Cond(TraceScope::kSpan, "http.status_code", O::kEq, 500.0)}));
  EXPECT_FALSE(match({Cond(TraceScope::kSpan, "http.status_code", O::kLt, int64_t{500})}));
  EXPECT_TRUE(match({Cond(TraceScope::kSpan, "http.method", O::kRegex, std::string("G.*"))}));
  EXPECT_FALSE(match({Cond(TraceScope::kSpan, "http.method", O::kRegex, std::string("E.*"))}));
  EXPECT_TRUE(match({Cond(TraceScope::kSpan, "cached", O::kEq, false)}));
  EXPECT_FALSE(match({Cond(TraceScope::kSpan, "missing", O::kExists, {})}));
  EXPECT_TRUE(match({Cond(TraceScope::kInstrumentation, "scope.attr", O::kEq, true)}));
  EXPECT_TRUE(match({Intr(Intrinsic::kStatus, O::kEq, StatusCode::kError)}));
  EXPECT_FALSE(match({Intr(Intrinsic::kKind, O::kEq, SpanKind::kServer)}));
  EXPECT_TRUE(match({Intr(Intrinsic::kDuration, O::kGt, DurationNs{4 * static_cast<int64_t>(kMs)})}));
  EXPECT_FALSE(match({Intr(Intrinsic::kDuration, O::kGt, DurationNs{6 * static_cast<int64_t>(kMs)})}));
  EXPECT_TRUE(match({Intr(Intrinsic::kName, O::kEq, std::string("GET /users"))}));
  EXPECT_TRUE(match({Intr(Intrinsic::kTraceId, O::kEq, std::string("AB000000000000000000000000000001"))}));
  // Undecidable conditions never exclude.
  EXPECT_TRUE(match({Intr(Intrinsic::kRootName, O::kEq, std::string("zzz"))}));
  // OR: one true is enough; AND: one false excludes.
  EXPECT_TRUE(match({Intr(Intrinsic::kName, O::kEq, std::string("x")),
                     Intr(Intrinsic::kStatus, O::kEq, StatusCode::kError)},
                    false));
  EXPECT_FALSE(match({Intr(Intrinsic::kName, O::kEq, std::string("x")),
                      Intr(Intrinsic::kStatus, O::kEq, StatusCode::kError)},
                     true));
  EXPECT_FALSE(SpanFilter::Compile({Cond(TraceScope::kSpan, "a", O::kRegex, std::string("("))}, true).ok());
}

class TraceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    DatabaseOptions dbo;
    dbo.now_ms = [this] { return now_.load(); };
    dbo.trace_retention_ms = kRetentionMs;
    auto db = Database::Open(dir_.path(), dbo);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    TraceStoreOptions o;
    o.retention_ms = kRetentionMs;
    o.now_ms = [this] { return now_.load(); };
    o.block_spans = 1'000'000;  // tests cut explicitly
    o.block_interval = std::chrono::hours(1);
    auto store = TraceStore::Open(db_.get(), o, nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void Reopen() {
    store_.reset();
    db_.reset();
    Open();
  }

  void Append(std::vector<Span> spans, std::string_view tenant = kTenant) {
    SpanBatch b;
    b.spans = std::move(spans);
    auto st = store_->Append(tenant, b);
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->spans_rejected, 0);
  }

  // Trace ids (last byte) found by a search, in visit order.
  std::vector<int> Search(std::vector<SpanCondition> conds, bool all = true,
                          uint64_t start = kMinSpanTimeNs, uint64_t end = kMaxSpanTimeNs,
                          bool whole = true, std::vector<size_t>* sizes = nullptr) {
    TraceFetchRequest r;
    r.conditions = std::move(conds);
    r.all_conditions = all;
    r.start_ns = start;
    r.end_ns = end;
    r.whole_traces = whole;
    std::vector<int> ids;
    auto st = store_->FetchTraces(kTenant, r, [&](FetchedTrace&& t) {
      ids.push_back(t.trace_id[15]);
      if (sizes) sizes->push_back(t.spans.size());
      return true;
    }, nullptr);
    EXPECT_TRUE(st.ok()) << st;
    return ids;
  }

  std::atomic<int64_t> now_{kNowMs};
  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<TraceStore> store_;
};

TEST_F(TraceStoreTest, TraceFromSeveralAppendsIsOneTrace) {
  auto api = Res("api");
  const uint64_t t0 = kNowNs - 60'000 * kMs;
  Append({MakeSpan(api, Tid(1), 2, 1, "child", t0 + 10 * kMs, kMs)});
  Append({MakeSpan(api, Tid(1), 1, 0, "root", t0, 50 * kMs), MakeSpan(api, Tid(2), 1, 0, "other", t0, kMs)});
  // A retried export: the same span again is returned once.
  Append({MakeSpan(api, Tid(1), 2, 1, "child", t0 + 10 * kMs, kMs)});
  auto spans = store_->FindTrace(kTenant, Tid(1));
  ASSERT_TRUE(spans.ok());
  ASSERT_EQ(spans->size(), 2u);
  EXPECT_EQ((*spans)[0].name, "root");
  EXPECT_EQ((*spans)[1].name, "child");
  EXPECT_TRUE(store_->FindTrace(kTenant, Tid(7))->empty());
  EXPECT_TRUE(store_->FindTrace("other-tenant", Tid(1))->empty());
  // Time range: empty unless a span starts inside it.
  EXPECT_EQ(store_->FindTrace(kTenant, Tid(1), t0 - kMs, t0 + kMs)->size(), 2u);
  EXPECT_TRUE(store_->FindTrace(kTenant, Tid(1), t0 + 100 * kMs, t0 + 200 * kMs)->empty());
}

TEST_F(TraceStoreTest, FullSpanSurvivesStoreAndBlocks) {
  Span s = FullSpan();
  Append({s});
  auto before = store_->FindTrace(kTenant, s.trace_id);
  ASSERT_EQ(before->size(), 1u);
  ExpectSameSpan(s, (*before)[0]);
  ASSERT_TRUE(store_->CutBlocks().ok());
  std::vector<size_t> sizes;
  EXPECT_EQ(Search({}, true, kMinSpanTimeNs, kMaxSpanTimeNs, false, &sizes), std::vector<int>{1});
  TraceFetchRequest r;
  r.whole_traces = false;
  Span got;
  ASSERT_TRUE(store_->FetchTraces(kTenant, r, [&](FetchedTrace&& t) {
    got = t.spans[0];
    return true;
  }, nullptr).ok());
  ExpectSameSpan(s, got);
}

TEST_F(TraceStoreTest, SearchInHeadAndBlocksWithPrefilter) {
  const uint64_t t0 = kNowNs - 3 * 3600'000 * kMs;  // three hours ago
  auto api = Res("api"), db = Res("db");
  for (int i = 1; i <= 20; ++i) {
    Span root = MakeSpan(api, Tid(i), 1, 0, "GET", t0 + i * 600'000 * kMs, (i % 5 + 1) * 10 * kMs);
    root.attributes.push_back({"http.status_code", {int64_t{i % 2 ? 200 : 500}}});
    if (i % 2 == 0) root.status_code = StatusCode::kError;
    Span child = MakeSpan(db, Tid(i), 2, 1, "SELECT", root.start_time_unix_nano + kMs, kMs);
    Append({root, child});
    if (i == 10) ASSERT_TRUE(store_->CutBlocks().ok());  // half in blocks, half in head
  }
  using O = ConditionOp;
  auto svc = [](std::string s) {
    return Cond(TraceScope::kResource, "service.name", O::kEq, std::move(s));
  };
  EXPECT_EQ(Search({svc("db")}).size(), 20u);
  EXPECT_EQ(Search({svc("nope")}).size(), 0u);
  auto errors = Search({Intr(Intrinsic::kStatus, O::kEq, StatusCode::kError)});
  EXPECT_EQ(errors.size(), 10u);
  for (int id : errors) EXPECT_EQ(id % 2, 0);
  auto e500 = Search({svc("api"), Cond(TraceScope::kSpan, "http.status_code", O::kEq, int64_t{500})});
  EXPECT_EQ(std::set<int>(e500.begin(), e500.end()), std::set<int>(errors.begin(), errors.end()));
  // Duration bound: (i%5+1)*10ms > 40ms only for i%5 == 4.
  auto slow = Search({Intr(Intrinsic::kDuration, O::kGt, DurationNs{40 * static_cast<int64_t>(kMs)})});
  EXPECT_EQ(std::set<int>(slow.begin(), slow.end()), (std::set<int>{4, 9, 14, 19}));
  // Whole traces carry both spans even when only one matched.
  std::vector<size_t> sizes;
  Search({svc("db")}, true, kMinSpanTimeNs, kMaxSpanTimeNs, true, &sizes);
  for (size_t n : sizes) EXPECT_EQ(n, 2u);
  sizes.clear();
  Search({svc("db")}, true, kMinSpanTimeNs, kMaxSpanTimeNs, false, &sizes);
  for (size_t n : sizes) EXPECT_EQ(n, 1u);
  // Time range: traces 1..5 start in the first hour after t0 (+10..+50 min).
  auto early = Search({}, true, t0, t0 + 55 * 60'000 * kMs);
  EXPECT_EQ(std::set<int>(early.begin(), early.end()), (std::set<int>{1, 2, 3, 4, 5}));
  // Newest first: the head (traces 11..20) is visited before the blocks.
  auto all = Search({});
  ASSERT_EQ(all.size(), 20u);
  EXPECT_EQ(all.front(), 20);
  EXPECT_EQ(all.back(), 1);
  // OR mode.
  auto either = Search({svc("nope"), Intr(Intrinsic::kName, O::kEq, std::string("SELECT"))}, false);
  EXPECT_EQ(either.size(), 20u);
  // The visitor stops the scan.
  int visits = 0;
  TraceFetchRequest r;
  ASSERT_TRUE(store_->FetchTraces(kTenant, r, [&](FetchedTrace&&) { return ++visits < 3; }, nullptr).ok());
  EXPECT_EQ(visits, 3);
}

TEST_F(TraceStoreTest, ArrayElementsPassTheBlockDictionary) {
  // TraceQL matches an array when an element matches: such spans stay candidates.
  Span tagged = MakeSpan(Res("svc"), Tid(99), 1, 0, "tagged", kNowNs - 60'000 * kMs, kMs);
  tagged.attributes.push_back({"tags", {AttributeArray{{std::string("needle")}, {std::string("x")}}}});
  Append({tagged});
  ASSERT_TRUE(store_->CutBlocks().ok());
  EXPECT_EQ(Search({Cond(TraceScope::kSpan, "tags", ConditionOp::kEq, std::string("needle"))}),
            std::vector<int>{99});
}

TEST_F(TraceStoreTest, PartialTracesAreVisitedOnceAcrossAppendsAndBlocks) {
  const uint64_t t0 = kNowNs - 60'000 * kMs;
  auto r = Res("svc");
  Append({MakeSpan(r, Tid(1), 1, 0, "a", t0, kMs)});
  ASSERT_TRUE(store_->CutBlocks().ok());
  Append({MakeSpan(r, Tid(1), 2, 1, "b", t0 + kMs, kMs)});
  Append({MakeSpan(r, Tid(1), 3, 1, "c", t0 + 2 * kMs, kMs)});
  std::vector<size_t> sizes;
  EXPECT_EQ(Search({}, true, kMinSpanTimeNs, kMaxSpanTimeNs, false, &sizes), std::vector<int>{1});
  EXPECT_EQ(sizes, std::vector<size_t>{3});
  sizes.clear();
  EXPECT_EQ(Search({}, true, kMinSpanTimeNs, kMaxSpanTimeNs, true, &sizes), std::vector<int>{1});
  EXPECT_EQ(sizes, std::vector<size_t>{3});
}

// visit_per_block: a trace split over a block and the head is visited once per place,
// with that place's spans, and a visitor that returns false ends the scan at once.
TEST_F(TraceStoreTest, VisitPerBlockVisitsEachPlaceAndStopsEarly) {
  const uint64_t t0 = kNowNs - 60'000 * kMs;
  auto r = Res("svc");
  Append({MakeSpan(r, Tid(1), 1, 0, "a", t0, kMs), MakeSpan(r, Tid(2), 4, 0, "x", t0, kMs)});
  ASSERT_TRUE(store_->CutBlocks().ok());
  Append({MakeSpan(r, Tid(1), 2, 1, "b", t0 + kMs, kMs), MakeSpan(r, Tid(1), 3, 1, "c", t0 + 2 * kMs, kMs)});

  TraceFetchRequest req;
  req.whole_traces = false;
  req.visit_per_block = true;
  std::vector<std::pair<int, size_t>> visits;  // (trace id, spans) per visit
  auto st = store_->FetchTraces(kTenant, req, [&](FetchedTrace&& t) {
    visits.emplace_back(t.trace_id[15], t.spans.size());
    return true;
  }, nullptr);
  ASSERT_TRUE(st.ok()) << st;
  size_t trace1_spans = 0;
  int trace1_visits = 0, trace2_visits = 0;
  for (auto [id, n] : visits) {
    if (id == 1) trace1_spans += n, ++trace1_visits;
    if (id == 2) ++trace2_visits;
  }
  EXPECT_EQ(trace1_visits, 2);  // once in the head, once in the block
  EXPECT_EQ(trace1_spans, 3u);  // every candidate span exactly once overall
  EXPECT_EQ(trace2_visits, 1);

  int calls = 0;
  st = store_->FetchTraces(kTenant, req, [&](FetchedTrace&&) {
    ++calls;
    return false;
  }, nullptr);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(calls, 1);
}

TEST_F(TraceStoreTest, RestartReplaysHeadAndKeepsBlocks) {
  const uint64_t t0 = kNowNs - 60'000 * kMs;
  Append({MakeSpan(Res("a"), Tid(1), 1, 0, "x", t0, kMs)});
  ASSERT_TRUE(store_->CutBlocks().ok());
  Append({MakeSpan(Res("b"), Tid(2), 1, 0, "y", t0 + kMs, kMs)});
  Reopen();
  // The replayed head was cut into blocks at open.
  EXPECT_EQ(store_->head_spans(), 0u);
  auto ids = Search({});
  EXPECT_EQ(std::set<int>(ids.begin(), ids.end()), (std::set<int>{1, 2}));
  EXPECT_EQ(store_->FindTrace(kTenant, Tid(2))->size(), 1u);
  // After a cut the head log is empty: nothing is replayed twice.
  ASSERT_TRUE(store_->CutBlocks().ok());
  Reopen();
  EXPECT_EQ(store_->head_spans(), 0u);
  EXPECT_EQ(Search({}).size(), 2u);
}

TEST_F(TraceStoreTest, TagNamesAndTypedValues) {
  Span s = FullSpan();
  Span w = MakeSpan(Res("worker"), Tid(2), 1, 0, "job", s.start_time_unix_nano, kMs);
  w.attributes.push_back({"http.status_code", {int64_t{200}}});
  Append({s, w});
  TagRequest r;
  auto names = store_->TagNames(kTenant, r);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->resource, (std::vector<std::string>{"host.cores", "service.name"}));
  EXPECT_NE(std::find(names->span.begin(), names->span.end(), "http.method"), names->span.end());
  EXPECT_EQ(names->event, std::vector<std::string>{"exception.message"});
  EXPECT_EQ(names->link, std::vector<std::string>{"link.attr"});
  EXPECT_EQ(names->instrumentation, std::vector<std::string>{"scope.attr"});
  r.scope = TraceScope::kResource;
  names = store_->TagNames(kTenant, r);
  EXPECT_TRUE(names->span.empty());
  EXPECT_EQ(names->resource.size(), 2u);

  TagRequest v;
  v.scope = TraceScope::kResource;
  v.key = "service.name";
  auto values = store_->TagValues(kTenant, v);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<TagValue>{{TagValueType::kString, "api"},
                                            {TagValueType::kString, "worker"}}));
  v.scope = TraceScope::kSpan;
  v.key = "http.status_code";
  values = store_->TagValues(kTenant, v);
  EXPECT_EQ(*values, (std::vector<TagValue>{{TagValueType::kInt, "200"}, {TagValueType::kInt, "500"}}));
  v.key = "ratio";
  EXPECT_EQ(*store_->TagValues(kTenant, v), (std::vector<TagValue>{{TagValueType::kDouble, "0.25"}}));
  v.scope = TraceScope::kIntrinsic;
  v.intrinsic = Intrinsic::kStatus;
  EXPECT_EQ(*store_->TagValues(kTenant, v), (std::vector<TagValue>{{TagValueType::kStatus, "error"},
                                                                   {TagValueType::kStatus, "unset"}}));
  v.intrinsic = Intrinsic::kName;
  EXPECT_EQ(store_->TagValues(kTenant, v)->size(), 2u);
  v.intrinsic = Intrinsic::kDuration;
  EXPECT_TRUE(store_->TagValues(kTenant, v)->empty());
  // Filtered by a condition: only the worker's span.
  TagRequest f;
  f.scope = TraceScope::kSpan;
  f.key = "http.status_code";
  f.filter = {Cond(TraceScope::kResource, "service.name", ConditionOp::kEq, std::string("worker"))};
  EXPECT_EQ(*store_->TagValues(kTenant, f), (std::vector<TagValue>{{TagValueType::kInt, "200"}}));
  TagRequest fn;
  fn.filter = f.filter;
  auto fnames = store_->TagNames(kTenant, fn);
  EXPECT_EQ(fnames->span, std::vector<std::string>{"http.status_code"});
}

TEST_F(TraceStoreTest, RetentionRejectsAndExpires) {
  SpanBatch b;
  b.spans.push_back(MakeSpan(Res("a"), Tid(1), 1, 0, "old", kNowNs - 16ULL * 24 * 3600'000 * kMs, kMs));
  b.spans.push_back(MakeSpan(Res("a"), Tid(2), 1, 0, "new", kNowNs - 14ULL * 24 * 3600'000 * kMs, kMs));
  auto st = store_->Append(kTenant, b);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->spans_written, 1);
  EXPECT_EQ(st->spans_rejected, 1);
  EXPECT_FALSE(st->first_rejection.empty());
  ASSERT_TRUE(store_->CutBlocks().ok());
  EXPECT_EQ(Search({}).size(), 1u);
  // Two days later trace 2 is past retention: hidden at once, then compacted away.
  now_ += 2 * 24 * 3600'000LL;
  EXPECT_TRUE(store_->FindTrace(kTenant, Tid(2))->empty());
  EXPECT_TRUE(Search({}).empty());
  ASSERT_TRUE(db_->FlushAll().ok());
  store_->EnforceRetention();
  now_ -= 2 * 24 * 3600'000LL;  // reads would show it again if it were still stored
  EXPECT_TRUE(store_->FindTrace(kTenant, Tid(2))->empty());
  EXPECT_TRUE(Search({}).empty());
}

TEST_F(TraceStoreTest, BackgroundCutterMakesBlocks) {
  store_.reset();
  db_.reset();
  DatabaseOptions dbo;
  dbo.now_ms = [this] { return now_.load(); };
  auto db = Database::Open(dir_.path(), dbo);
  ASSERT_TRUE(db.ok());
  db_ = std::move(*db);
  TraceStoreOptions o;
  o.now_ms = [this] { return now_.load(); };
  o.block_spans = 10;
  auto store = TraceStore::Open(db_.get(), o, nullptr);
  ASSERT_TRUE(store.ok());
  store_ = std::move(*store);
  for (int i = 0; i < 50; ++i) {
    Append({MakeSpan(Res("a"), Tid(i), 1, 0, "x", kNowNs - kMs * (100 - i), kMs)});
  }
  for (int i = 0; i < 100 && store_->head_spans() >= 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LT(store_->head_spans(), 10u);
  EXPECT_EQ(Search({}).size(), 50u);
}

}  // namespace
}  // namespace otelbox::storage
