// Tracing end to end in one process: every way a message is sent while a
// handler runs (call, cast, send, send_after, a deferred reply) is a child
// of that handler's span, on this node or another (tcp); failures are
// marked on spans; traceparent in and out; sampling decided once per
// trace; the store's drop counter under a flood. Reads the spans back with
// Node::QuerySpans, as `polis trace` does.
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/log.h"
#include "bus/inproc_transport.h"
#include "base/trace_context.h"
#include "genserver/genserver.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/journal.h"
#include "tests/node_fixtures.h"
#include "tests/status_matchers.h"
#include "tests/test_values.h"
#include "tests/wait.h"

namespace polis {
namespace {

using ::google::protobuf::StringValue;
using ::polis::testing::IsOk;
using ::polis::testing::Journal;
using ::polis::testing::Str;
using ::polis::testing::TestNodes;
using ::polis::testing::WaitFor;

// Does what its call says, so each test builds the tree it wants:
//   "call:NAME[:REST]"  calls NAME with REST (default "leaf")
//   "cast:NAME" / "send:NAME" / "after:NAME"  casts / sends / SendAfter(1ms)
//                       "note" to NAME
//   "defer"             answers later, from the info a 1 ms timer sends
//   "fail"              answers INTERNAL "boom" (the server keeps running)
//   "throw"             throws (the server dies)
//   anything else       answers "ok"
// Casts and infos are written to the journal as "NAME:VALUE", with the
// handler's trace and span ("NAME:trace:HEX:SPAN").
class Hop : public GenServer {
 public:
  Hop(std::string name, Journal* j) : name_(std::move(name)), j_(j) {
    OnCall(&Hop::Do);
    OnCast(&Hop::Note);
    OnInfo(&Hop::Note);
  }

 private:
  Task<Deferrable<StringValue>> Do(const StringValue& req, const Caller<StringValue>& caller) {
    std::vector<std::string> p = absl::StrSplit(req.value(), absl::MaxSplits(':', 2));
    absl::Status s;
    if (p[0] == "call" && p.size() >= 2) {
      // Built before co_await: g++ 12 mishandles temporaries inside it.
      const StringValue next = Str(p.size() > 2 ? p[2] : std::string("leaf"));
      TypedCallAwaiter<StringValue> call = Call<StringValue>(p[1], next);
      absl::StatusOr<StringValue> r = co_await call;
      if (!r.ok()) co_return r.status();
      co_return *r;
    }
    if (p[0] == "cast") s = Cast(p[1], Str("note"));
    if (p[0] == "send") s = Send(p[1], Str("note"));
    if (p[0] == "after") s = SendAfter(absl::Milliseconds(1), p[1], Str("note")).status();
    if (p[0] == "defer") {
      deferred_ = caller;
      s = SendAfter(absl::Milliseconds(1), Str("answer")).status();
      if (s.ok()) co_return Deferred();
    }
    if (p[0] == "fail") co_return absl::InternalError("boom");
    if (p[0] == "log") POLIS_LOG(WARNING) << "hello from a handler";
    if (p[0] == "hang") {  // never answers
      j_->Add(absl::StrCat(name_, ":hanging"));
      co_return Deferred();
    }
    if (p[0] == "throw") throw std::runtime_error("kaboom");
    if (!s.ok()) co_return s;
    co_return Str("ok");
  }
  Task<absl::Status> Note(const StringValue& v) {
    if (v.value() == "answer" && deferred_) {
      ReplyTo(*deferred_, Str("deferred-ok"));
      deferred_.reset();
    }
    const TraceContext& t = context().trace();
    j_->Add(absl::StrCat(name_, ":", v.value()));
    j_->Add(absl::StrCat(name_, ":trace:", t.trace_id.Hex(), ":", SpanIdHex(t.span_id)));
    co_return absl::OkStatus();
  }

  std::string name_;
  Journal* j_;
  std::optional<Caller<StringValue>> deferred_;
};

// Every span of `trace` on `nodes`, by span id.
absl::flat_hash_map<uint64_t, wire::Span> SpansOf(const std::vector<Node*>& nodes,
                                                   const TraceId& trace) {
  absl::flat_hash_map<uint64_t, wire::Span> out;
  wire::SpanQuery q;
  q.add_trace_ids(std::string(trace.view()));
  for (Node* n : nodes) {
    absl::StatusOr<wire::SpanQueryReply> r = n->QuerySpans("", q);
    if (!r.ok()) continue;
    for (const wire::Span& s : r->spans()) out[s.span_id()] = s;
  }
  return out;
}

// The span of `kind` for server `server` (the first found), or null.
const wire::Span* Find(const absl::flat_hash_map<uint64_t, wire::Span>& spans,
                       wire::SpanKind kind, const std::string& server) {
  for (const auto& [id, s] : spans) {
    if (s.kind() == kind && s.server() == server) return &s;
  }
  return nullptr;
}

class TracingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(nodes_.StartMesh({"a", "b"}), IsOk());
    ASSERT_THAT(nodes_[0]->Spawn(std::make_unique<Hop>("x", &j_), {.name = "x"}), IsOk());
    ASSERT_THAT(nodes_[0]->Spawn(std::make_unique<Hop>("y", &j_), {.name = "y"}), IsOk());
    ASSERT_THAT(nodes_[1]->Spawn(std::make_unique<Hop>("z", &j_), {.name = "z"}), IsOk());
    for (Node* n : {nodes_[0], nodes_[1]}) {
      for (const char* name : {"x", "y", "z"}) ASSERT_THAT(testing::AwaitName(*n, name), IsOk());
    }
  }

  // Calls `server` on node a with `request` under a new sampled trace;
  // returns the trace and waits until `spans` spans of it are recorded.
  TraceContext CallTraced(const std::string& server, const std::string& request, size_t spans,
                          absl::StatusCode want = absl::StatusCode::kOk) {
    TraceContext root = nodes_[0]->StartTrace();
    EXPECT_TRUE(root.sampled);  // the default sampler: always
    {
      ScopedTrace scope(root);
      absl::StatusOr<StringValue> r = nodes_[0]->Call<StringValue>(server, Str(request));
      EXPECT_EQ(r.status().code(), want) << r.status();
    }
    EXPECT_TRUE(WaitFor([&] { return SpansOf(all(), root.trace_id).size() >= spans; }))
        << SpansOf(all(), root.trace_id).size() << " spans of " << spans << "; dropped a="
        << nodes_[0]->trace_stats().dropped << " b=" << nodes_[1]->trace_stats().dropped;
    return root;
  }
  std::vector<Node*> all() { return {nodes_[0], nodes_[1]}; }

  TestNodes nodes_{"tcp"};
  Journal j_;
};

TEST_F(TracingTest, ACallAcrossNodesIsAReplySpanAroundTheServersCallSpan) {
  // thread → x (a) → z (b): reply(x) ⊃ call(x) → reply(z) ⊃ call(z).
  TraceContext root = CallTraced("x", "call:z", 4);
  auto spans = SpansOf(all(), root.trace_id);
  ASSERT_EQ(spans.size(), 4u);
  const wire::Span* reply_x = Find(spans, wire::SPAN_KIND_REPLY, "x");
  const wire::Span* call_x = Find(spans, wire::SPAN_KIND_CALL, "x");
  const wire::Span* reply_z = Find(spans, wire::SPAN_KIND_REPLY, "z");
  const wire::Span* call_z = Find(spans, wire::SPAN_KIND_CALL, "z");
  ASSERT_TRUE(reply_x && call_x && reply_z && call_z);
  EXPECT_EQ(reply_x->parent_span_id(), root.span_id);
  EXPECT_EQ(call_x->parent_span_id(), reply_x->span_id());
  EXPECT_EQ(reply_z->parent_span_id(), call_x->span_id());
  EXPECT_EQ(call_z->parent_span_id(), reply_z->span_id());
  EXPECT_EQ(call_x->node(), "a");
  EXPECT_EQ(call_z->node(), "b");
  EXPECT_EQ(reply_z->node(), "a");
  EXPECT_EQ(reply_z->peer_node(), "b");
  EXPECT_EQ(call_z->sender().node(), "a");
  EXPECT_EQ(call_z->message_type(), "google.protobuf.StringValue");
  // The caller's wait contains the server's handling.
  EXPECT_LE(reply_z->start_unix_nano(), reply_z->end_unix_nano());
  EXPECT_LE(call_z->start_unix_nano(), call_z->end_unix_nano());
  EXPECT_LE(call_x->start_unix_nano(), reply_z->start_unix_nano());
  EXPECT_GE(call_x->end_unix_nano(), reply_z->end_unix_nano());
  for (const auto& [id, s] : spans) {
    EXPECT_EQ(s.trace_id(), std::string(root.trace_id.view()));
    EXPECT_EQ(s.status_code(), 0);
  }
}

TEST_F(TracingTest, CastsSendsAndTimersAreChildrenOfTheHandlerThatMadeThem) {
  for (const char* how : {"cast", "send", "after"}) {
    SCOPED_TRACE(how);
    j_.Clear();
    // Local (y on a) and remote (z on b).
    for (const char* to : {"y", "z"}) {
      const size_t want = std::string(how) == "after" ? 4 : 3;  // + the timer span
      TraceContext root = CallTraced("x", absl::StrCat(how, ":", to), want);
      auto spans = SpansOf(all(), root.trace_id);
      const wire::Span* call_x = Find(spans, wire::SPAN_KIND_CALL, "x");
      const wire::SpanKind kind = std::string(how) == "cast" ? wire::SPAN_KIND_CAST
                                                              : wire::SPAN_KIND_INFO;
      const wire::Span* note = Find(spans, kind, to);
      ASSERT_TRUE(call_x && note) << how << " to " << to;
      if (std::string(how) == "after") {
        const wire::Span* timer = Find(spans, wire::SPAN_KIND_TIMER, to);
        ASSERT_NE(timer, nullptr);
        EXPECT_EQ(timer->parent_span_id(), call_x->span_id());
        EXPECT_EQ(timer->node(), "a");  // the timer lives where it was set
        EXPECT_EQ(note->parent_span_id(), timer->span_id());
      } else {
        EXPECT_EQ(note->parent_span_id(), call_x->span_id());
      }
      // The handler saw the same ids (ProcessContext::trace).
      EXPECT_TRUE(j_.Has(absl::StrCat(to, ":trace:", root.trace_id.Hex(), ":",
                                      SpanIdHex(note->span_id()))));
    }
  }
}

TEST_F(TracingTest, ADeferredReplyBelongsToTheHandlerThatAnsweredIt) {
  TraceContext root = CallTraced("x", "defer", 4);
  auto spans = SpansOf(all(), root.trace_id);
  const wire::Span* call_x = Find(spans, wire::SPAN_KIND_CALL, "x");
  const wire::Span* timer = Find(spans, wire::SPAN_KIND_TIMER, "");
  const wire::Span* info = Find(spans, wire::SPAN_KIND_INFO, "x");
  const wire::Span* reply = Find(spans, wire::SPAN_KIND_REPLY, "x");
  ASSERT_TRUE(call_x && timer && info && reply) << spans.size();
  EXPECT_EQ(timer->parent_span_id(), call_x->span_id());
  EXPECT_EQ(info->parent_span_id(), timer->span_id());
  // The caller's wait ends after the info that answered it started.
  EXPECT_GE(reply->end_unix_nano(), info->start_unix_nano());
  EXPECT_EQ(reply->status_code(), 0);
}

TEST_F(TracingTest, FailuresAreMarkedOnTheirSpans) {
  // A handler that answers an error.
  TraceContext failed = CallTraced("z", "fail", 2, absl::StatusCode::kInternal);
  auto spans = SpansOf(all(), failed.trace_id);
  const wire::Span* call = Find(spans, wire::SPAN_KIND_CALL, "z");
  const wire::Span* reply = Find(spans, wire::SPAN_KIND_REPLY, "z");
  ASSERT_TRUE(call && reply);
  EXPECT_EQ(call->status_code(), static_cast<int>(absl::StatusCode::kInternal));
  EXPECT_EQ(call->status_message(), "boom");
  EXPECT_EQ(reply->status_code(), static_cast<int>(absl::StatusCode::kInternal));

  // A handler that throws: the server dies, its span says why.
  TraceContext threw = CallTraced("y", "throw", 2, absl::StatusCode::kInternal);
  spans = SpansOf(all(), threw.trace_id);
  call = Find(spans, wire::SPAN_KIND_CALL, "y");
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(call->status_code(), static_cast<int>(absl::StatusCode::kInternal));
  EXPECT_NE(call->status_message().find("kaboom"), std::string::npos) << call->status_message();

  // A name no one holds: only the caller's span, NOT_FOUND.
  TraceContext missing = CallTraced("x", "call:nobody", 3, absl::StatusCode::kNotFound);
  spans = SpansOf(all(), missing.trace_id);
  reply = Find(spans, wire::SPAN_KIND_REPLY, "nobody");
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->status_code(), static_cast<int>(absl::StatusCode::kNotFound));

  // A timeout: the caller's span is DEADLINE_EXCEEDED.
  TraceContext root = nodes_[0]->StartTrace();
  {
    ScopedTrace scope(root);
    // z defers and answers 1 ms later; a 0 ms budget has passed by then.
    EXPECT_EQ(nodes_[0]->Call<StringValue>("z", Str("defer"), absl::ZeroDuration())
                  .status()
                  .code(),
              absl::StatusCode::kDeadlineExceeded);
  }
  ASSERT_TRUE(WaitFor([&] {
    const auto s = SpansOf(all(), root.trace_id);
    const wire::Span* r = Find(s, wire::SPAN_KIND_REPLY, "z");
    return r != nullptr &&
           r->status_code() == static_cast<int>(absl::StatusCode::kDeadlineExceeded);
  }));
}

TEST_F(TracingTest, LogLinesWrittenByAHandlerCarryItsTraceAndSpan) {
  ::testing::internal::CaptureStderr();
  TraceContext root = CallTraced("x", "log", 2);
  const std::string err = ::testing::internal::GetCapturedStderr();
  const auto spans = SpansOf(all(), root.trace_id);  // Find points into it
  const wire::Span* call = Find(spans, wire::SPAN_KIND_CALL, "x");
  ASSERT_NE(call, nullptr);
  EXPECT_NE(err.find(absl::StrCat("trace_id=", root.trace_id.Hex(), " span_id=",
                                  SpanIdHex(call->span_id()), " hello from a handler")),
            std::string::npos)
      << err;
}

TEST_F(TracingTest, ATraceparentIsContinuedAndTheSampledFlagHonoured) {
  absl::StatusOr<TraceContext> given =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(given.ok());
  {
    ScopedTrace scope(*given);
    ASSERT_THAT(nodes_[0]->Call<StringValue>("z", Str("leaf")), IsOk());
  }
  ASSERT_TRUE(WaitFor([&] { return SpansOf(all(), given->trace_id).size() == 2; }));
  auto spans = SpansOf(all(), given->trace_id);
  EXPECT_EQ(Find(spans, wire::SPAN_KIND_REPLY, "z")->parent_span_id(), 0x00f067aa0ba902b7u);

  // Not sampled upstream: recorded nowhere, though every node samples all.
  absl::StatusOr<TraceContext> unsampled =
      ParseTraceparent("00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  {
    ScopedTrace scope(*unsampled);
    ASSERT_THAT(nodes_[0]->Call<StringValue>("x", Str("call:z")), IsOk());
  }
  // A later sampled call to the same servers is recorded: once it is, the
  // unsampled one (handled before it, in order) would have been too.
  CallTraced("x", "call:z", 4);
  EXPECT_TRUE(SpansOf(all(), unsampled->trace_id).empty());
}

TEST(TracingSampling, ANeverNodeRecordsNothingOfItsOwnButAllOfASampledTrace) {
  TestNodes nodes("inproc");
  ASSERT_THAT(nodes.StartMesh({"a"}), IsOk());
  NodeOptions o;
  o.name = "never";
  o.listen = nodes.Endpoint("never");
  o.seeds = {nodes[0]->endpoint()};
  o.trace.sampler = Sampler::Never();
  absl::StatusOr<std::unique_ptr<Node>> never = testing::StartJoinedNode(std::move(o));
  ASSERT_THAT(never, IsOk());
  Journal j;
  ASSERT_THAT((*never)->Spawn(std::make_unique<Hop>("n", &j), {.name = "n"}), IsOk());
  ASSERT_THAT(nodes[0]->Spawn(std::make_unique<Hop>("s", &j), {.name = "s"}), IsOk());
  ASSERT_THAT(testing::AwaitName(*nodes[0], "n"), IsOk());
  ASSERT_THAT(testing::AwaitName(**never, "s"), IsOk());

  // Started on the never node: nothing, anywhere.
  TraceContext own = (*never)->StartTrace();
  EXPECT_FALSE(own.sampled);
  {
    ScopedTrace scope(own);
    ASSERT_THAT((*never)->Call<StringValue>("s", Str("call:n")), IsOk());
  }
  // Started on a (always): recorded on both, the never node included.
  TraceContext sampled = nodes[0]->StartTrace();
  {
    ScopedTrace scope(sampled);
    ASSERT_THAT(nodes[0]->Call<StringValue>("n", Str("call:s")), IsOk());
  }
  std::vector<Node*> both = {nodes[0], never->get()};
  ASSERT_TRUE(WaitFor([&] { return SpansOf(both, sampled.trace_id).size() == 4; }));
  EXPECT_TRUE(SpansOf(both, own.trace_id).empty());
  EXPECT_GE((*never)->trace_stats().recorded, 2u);
}

TEST(TracingPeerDown, ACallToANodeThatDiesEndsItsSpansWithUnavailable) {
  TestNodes nodes("inproc");
  ASSERT_THAT(nodes.StartMesh({"a"}), IsOk());
  auto t = bus::InProcTransport::Create({});
  ASSERT_THAT(t, IsOk());
  bus::InProcTransport* victim_transport = t->get();
  NodeOptions o;
  o.name = "v";
  o.listen = nodes.Endpoint("v");
  o.seeds = {nodes[0]->endpoint()};
  o.transport = *std::move(t);
  absl::StatusOr<std::unique_ptr<Node>> victim = testing::StartJoinedNode(std::move(o));
  ASSERT_THAT(victim, IsOk());
  Journal j;
  ASSERT_THAT(nodes[0]->Spawn(std::make_unique<Hop>("x", &j), {.name = "x"}), IsOk());
  ASSERT_THAT((*victim)->Spawn(std::make_unique<Hop>("v", &j), {.name = "v"}), IsOk());
  ASSERT_THAT(testing::AwaitName(*nodes[0], "v"), IsOk());

  TraceContext root = nodes[0]->StartTrace();
  std::thread killer([&] {
    j.WaitFor("v:hanging");
    victim_transport->Kill();  // as kill -9: no Goodbye, the connection drops
  });
  {
    ScopedTrace scope(root);
    EXPECT_EQ(nodes[0]->Call<StringValue>("x", Str("call:v:hang"), absl::Seconds(30))
                  .status()
                  .code(),
              absl::StatusCode::kUnavailable);
  }
  killer.join();
  // On a: the thread's reply span for x, x's call span (recorded when its
  // handler ends, just after it answered) and x's reply span for v.
  ASSERT_TRUE(WaitFor([&] { return SpansOf({nodes[0]}, root.trace_id).size() >= 3; }));
  auto spans = SpansOf({nodes[0]}, root.trace_id);
  const wire::Span* reply_v = Find(spans, wire::SPAN_KIND_REPLY, "v");
  const wire::Span* call_x = Find(spans, wire::SPAN_KIND_CALL, "x");
  ASSERT_TRUE(reply_v && call_x);
  EXPECT_EQ(reply_v->status_code(), static_cast<int>(absl::StatusCode::kUnavailable))
      << reply_v->status_message();
  EXPECT_EQ(reply_v->peer_node(), "v");
  EXPECT_EQ(call_x->status_code(), static_cast<int>(absl::StatusCode::kUnavailable));
  (*victim)->Shutdown();
}

TEST(TracingStore, AFloodFillsTheStoreDropsTheOldestAndCountsThem) {
  NodeOptions o;
  o.name = "small";
  o.trace.max_spans = 1024;
  absl::StatusOr<std::unique_ptr<Node>> node = testing::StartNode(std::move(o));
  ASSERT_THAT(node, IsOk());
  Journal j;
  ASSERT_THAT((*node)->Spawn(std::make_unique<Hop>("f", &j), {.name = "f"}), IsOk());
  constexpr int kCasts = 20000;
  for (int i = 0; i < kCasts; ++i) ASSERT_THAT((*node)->Cast(Target("f"), Str("x")), IsOk());
  ASSERT_THAT((*node)->Call<StringValue>("f", Str("sync")), IsOk());  // after every cast
  ASSERT_TRUE(WaitFor([&] { return (*node)->trace_stats().recorded >= kCasts + 2; }));
  const TraceStats s = (*node)->trace_stats();
  EXPECT_LE(s.stored, 1024u);
  EXPECT_GE(s.dropped, s.recorded - 1024);
  EXPECT_EQ(s.recorded - s.dropped, s.stored);
  wire::SpanQuery q;
  q.set_last(5);
  absl::StatusOr<wire::SpanQueryReply> r = (*node)->QuerySpans("", q);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->dropped(), s.dropped);
  EXPECT_EQ(r->traces_size(), 5);
}

}  // namespace
}  // namespace polis
