// Typed handlers (OnCall / OnCast / OnInfo): dispatch, the meaning of a
// returned error, decoding and type checks, deferred answers, Describe,
// the reply check of the virtual HandleCall, the owning Call<R> awaiter, and
// a typed call across two nodes.
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "genserver/genserver.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/node.h"
#include "tests/journal.h"
#include "tests/status_matchers.h"
#include "tests/test_values.h"
#include "tests/wait.h"

namespace polis {
namespace {

using ::google::protobuf::Empty;
using ::google::protobuf::Int64Value;
using ::google::protobuf::StringValue;
using ::polis::testing::Int;
using ::polis::testing::IsOk;
using ::polis::testing::IsOkAndHolds;
using ::polis::testing::StatusIs;
using ::polis::testing::Str;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

// An Int64Value / StringValue whose value is `v`.
MATCHER_P(HasValue, v, absl::StrCat("has value ", ::testing::PrintToString(v))) {
  return arg.value() == v;
}

using ::polis::testing::Journal;
using ::polis::testing::WaitFor;

// A value that fails the server-side parse of `type_name`: a message whose
// only field (number 1, length-delimited) holds invalid UTF-8, built from a
// private descriptor pool under that type's name. Parsed as a proto3
// string field (StringValue.value), those bytes are refused.
class UnparsableValue {
 public:
  explicit UnparsableValue(const std::string& type_name) {
    google::protobuf::FileDescriptorProto file;
    file.set_name("unparsable.proto");
    file.set_syntax("proto3");
    const size_t dot = type_name.rfind('.');
    file.set_package(type_name.substr(0, dot));
    google::protobuf::DescriptorProto* m = file.add_message_type();
    m->set_name(type_name.substr(dot + 1));
    google::protobuf::FieldDescriptorProto* f = m->add_field();
    f->set_name("value");
    f->set_number(1);
    f->set_type(google::protobuf::FieldDescriptorProto::TYPE_BYTES);
    f->set_label(google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
    const google::protobuf::FileDescriptor* fd = pool_.BuildFile(file);
    const google::protobuf::Descriptor* d = fd->message_type(0);
    message_.reset(factory_.GetPrototype(d)->New());
    message_->GetReflection()->SetString(message_.get(), d->field(0), "\xFF\xFE not UTF-8");
  }
  const google::protobuf::Message& message() const { return *message_; }

 private:
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
  std::unique_ptr<google::protobuf::Message> message_;
};

// Call Int64Value n: adds n, answers the total (n < 0: answers
// INVALID_ARGUMENT, total unchanged). Call StringValue: "stop" answers 42
// and stops with DATA_LOSS, "throw" throws, anything else is echoed.
// Cast Int64Value adds (n < 0: returns an error). Info StringValue is
// recorded. Terminate is recorded.
class Account : public GenServer {
 public:
  explicit Account(Journal* j) : j_(j) {
    OnCall(&Account::Add);
    OnCall<StringValue, StringValue>(&Account::Command);  // The explicit form.
    OnCast(&Account::Deposit);
    OnInfo(&Account::Note);
  }
  void Terminate(const absl::Status& reason) override {
    j_->Add(absl::StrCat("terminate:", absl::StatusCodeToString(reason.code())));
  }

 private:
  Task<absl::StatusOr<Int64Value>> Add(const Int64Value& n) {
    if (n.value() < 0) co_return absl::InvalidArgumentError("negative amount");
    total_ += n.value();
    co_return Int(total_);
  }
  Task<absl::StatusOr<StringValue>> Command(const StringValue& command) {
    if (command.value() == "stop") {
      Stop(absl::DataLossError("stopped on request"));
      co_return Str("42");
    }
    if (command.value() == "throw") throw std::runtime_error("boom in typed handler");
    co_return command;
  }
  Task<absl::Status> Deposit(const Int64Value& n) {
    if (n.value() < 0) co_return absl::InvalidArgumentError("negative deposit");
    total_ += n.value();
    co_return absl::OkStatus();
  }
  Task<absl::Status> Note(const StringValue& note) {
    j_->Add("info:" + note.value());
    co_return absl::OkStatus();
  }

  Journal* j_;
  int64_t total_ = 0;
};

class TypedHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto n = Node::Create({.name = "t", .scheduler_threads = 2});
    ASSERT_THAT(n, IsOk());
    node_ = std::move(*n);
  }
  // Whether `name` is released within 10 s. A server ends after its
  // Terminate and, after a Stop, after answering its caller: the name goes
  // a moment later.
  bool NameReleased(const std::string& name) {
    return WaitFor([&] { return absl::IsNotFound(node_->WhereIs(name).status()); });
  }
  Journal j_;  // Declared first: outlives the node, whose servers write to it.
  std::unique_ptr<Node> node_;
};

TEST_F(TypedHandlersTest, CallCastAndInfoReachTheirTypedHandlers) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Account>(&j_), {.name = "acc"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(5)), IsOkAndHolds(HasValue(5)));
  ASSERT_THAT(node_->Cast("acc", Int(10)), IsOk());
  ASSERT_THAT(node_->Send("acc", Str("hello")), IsOk());
  EXPECT_TRUE(j_.WaitFor("info:hello"));
  // The call comes after the cast from this thread, so it sees it.
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(1)), IsOkAndHolds(HasValue(16)));
  EXPECT_THAT(node_->Call<StringValue>("acc", Str("echo")), IsOk());
}

TEST_F(TypedHandlersTest, ReturnedErrorAnswersTheCallerAndTheServerKeepsRunning) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Account>(&j_), {.name = "acc"}), IsOk());
  ASSERT_THAT(node_->Call<Int64Value>("acc", Int(7)), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(-1)),
              StatusIs(absl::StatusCode::kInvalidArgument, "negative amount"));
  // Same server, state intact.
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(1)), IsOkAndHolds(HasValue(8)));
}

TEST_F(TypedHandlersTest, CastHandlerErrorIsLoggedAndTheServerKeepsRunning) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Account>(&j_), {.name = "acc"}), IsOk());
  ASSERT_THAT(node_->Cast("acc", Int(3)), IsOk());
  ASSERT_THAT(node_->Cast("acc", Int(-100)), IsOk());  // Returns an error: logged.
  ASSERT_THAT(node_->Cast("acc", Int(4)), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(0)), IsOkAndHolds(HasValue(7)));
}

TEST_F(TypedHandlersTest, StopWithAStatusFailsTheServerAfterItsAnswer) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Account>(&j_), {.name = "acc"}), IsOk());
  EXPECT_THAT(node_->Call<StringValue>("acc", Str("stop")), IsOkAndHolds(HasValue("42")));
  EXPECT_TRUE(j_.WaitFor("terminate:DATA_LOSS"));
  EXPECT_TRUE(NameReleased("acc"));
}

TEST_F(TypedHandlersTest, ThrowingTypedHandlerFailsTheServerWithInternal) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Account>(&j_), {.name = "acc"}), IsOk());
  EXPECT_THAT(node_->Call<StringValue>("acc", Str("throw")),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("boom in typed handler")));
  EXPECT_TRUE(j_.WaitFor("terminate:INTERNAL"));
  EXPECT_TRUE(NameReleased("acc"));
}

TEST_F(TypedHandlersTest, WrongPayloadBytesAreInvalidArgumentAndServerKeepsRunning) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Account>(&j_), {.name = "acc"}), IsOk());
  ASSERT_THAT(node_->Call<Int64Value>("acc", Int(2)), IsOk());
  UnparsableValue bad("google.protobuf.StringValue");
  EXPECT_THAT(node_->Call<StringValue>("acc", bad.message()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("acc"), HasSubstr("google.protobuf.StringValue"),
                             HasSubstr("does not parse"))));
  // As info: dropped (and logged), the server goes on.
  ASSERT_THAT(node_->Send("acc", bad.message()), IsOk());
  ASSERT_THAT(node_->Send("acc", Str("after")), IsOk());
  EXPECT_TRUE(j_.WaitFor("info:after"));
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(1)), IsOkAndHolds(HasValue(3)));
}

TEST_F(TypedHandlersTest, UndeclaredTypeIsInvalidArgumentAndServerKeepsRunning) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Account>(&j_), {.name = "acc"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Empty()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("google.protobuf.Empty")));
  // A declared type of the wrong kind: StringValue is a call and an info
  // type here, not a cast type. Dropped; the server goes on.
  ASSERT_THAT(node_->Cast("acc", Str("not a cast")), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("acc", Int(1)), IsOkAndHolds(HasValue(1)));
}

TEST_F(TypedHandlersTest, DescribeListsTheRegisteredTypesWithTheirFiles) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Account>(&j_), {.name = "acc", .kind = "account"}),
              IsOk());
  absl::StatusOr<wire::ServerDescription> d = node_->Describe("acc");
  ASSERT_THAT(d, IsOk());
  EXPECT_THAT(d->call_types(), ::testing::UnorderedElementsAre("google.protobuf.Int64Value",
                                                               "google.protobuf.StringValue"));
  EXPECT_THAT(d->cast_types(), ::testing::ElementsAre("google.protobuf.Int64Value"));
  EXPECT_THAT(d->info_types(), ::testing::ElementsAre("google.protobuf.StringValue"));
  EXPECT_FALSE(d->accepts_any_call());
  google::protobuf::FileDescriptorSet files;
  ASSERT_TRUE(files.ParseFromString(d->file_descriptor_set()));
  std::vector<std::string> names;
  for (const auto& f : files.file()) names.push_back(f.name());
  EXPECT_THAT(names, Contains("google/protobuf/wrappers.proto"));
}

// Call Int64Value n: answers the total once it reaches n — at once, or
// deferred until casts raise it (n < 0: INVALID_ARGUMENT at once). Cast
// Int64Value adds and answers the waiters it satisfies. Call Empty: answers
// how many wait.
class Threshold : public GenServer {
 public:
  explicit Threshold(Journal* j) : j_(j) {
    OnCall(&Threshold::WaitFor);
    OnCall(&Threshold::Waiting);
    OnCast(&Threshold::Add);
  }

 private:
  Task<Deferrable<Int64Value>> WaitFor(const Int64Value& n, const Caller<Int64Value>& caller) {
    if (n.value() < 0) co_return absl::InvalidArgumentError("negative threshold");
    if (total_ >= n.value()) co_return Int(total_);
    waiting_.push_back({n.value(), caller});
    j_->Add(absl::StrCat("waiting:", n.value()));
    co_return Deferred();
  }
  Task<absl::StatusOr<Int64Value>> Waiting(const Empty&) {
    co_return Int(static_cast<int64_t>(waiting_.size()));
  }
  Task<absl::Status> Add(const Int64Value& n) {
    total_ += n.value();
    std::vector<Waiter> still;
    for (Waiter& w : waiting_) {
      if (total_ >= w.threshold) {
        ReplyTo(w.caller, Int(total_));
      } else {
        still.push_back(std::move(w));
      }
    }
    waiting_ = std::move(still);
    co_return absl::OkStatus();
  }

  struct Waiter {
    int64_t threshold;
    Caller<Int64Value> caller;
  };
  Journal* j_;
  int64_t total_ = 0;
  std::vector<Waiter> waiting_;
};

TEST_F(TypedHandlersTest, DeferringHandlerAnswersNowLaterOrWithAnError) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Threshold>(&j_), {.name = "th"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("th", Int(0)), IsOkAndHolds(HasValue(0)));  // Now.
  EXPECT_THAT(node_->Call<Int64Value>("th", Int(-1)),
              StatusIs(absl::StatusCode::kInvalidArgument, "negative threshold"));
  absl::StatusOr<Int64Value> later;
  std::thread waiter([&] { later = node_->Call<Int64Value>("th", Int(10), absl::Seconds(30)); });
  ASSERT_TRUE(j_.WaitFor("waiting:10"));
  // The server is free while the call waits.
  EXPECT_THAT(node_->Call<Int64Value>("th", Empty()), IsOkAndHolds(HasValue(1)));
  ASSERT_THAT(node_->Cast("th", Int(4)), IsOk());
  ASSERT_THAT(node_->Cast("th", Int(6)), IsOk());
  waiter.join();
  EXPECT_THAT(later, IsOkAndHolds(HasValue(10)));
  EXPECT_THAT(node_->Call<Int64Value>("th", Empty()), IsOkAndHolds(HasValue(0)));
}

TEST_F(TypedHandlersTest, DeferredCallIsAbortedWhenItsServerStops) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Threshold>(&j_), {.name = "th"}), IsOk());
  absl::StatusOr<Int64Value> later;
  std::thread waiter([&] { later = node_->Call<Int64Value>("th", Int(10), absl::Seconds(30)); });
  ASSERT_TRUE(j_.WaitFor("waiting:10"));
  ASSERT_THAT(node_->Stop("th"), IsOk());
  waiter.join();
  EXPECT_THAT(later, StatusIs(absl::StatusCode::kAborted));
}

// Registers two call handlers for one type: a programming error that the
// server's start reports.
class TwoHandlers : public GenServer {
 public:
  TwoHandlers() {
    OnCall(&TwoHandlers::First);
    OnCall(&TwoHandlers::Second);
  }

 private:
  Task<absl::StatusOr<Int64Value>> First(const Int64Value& n) { co_return n; }
  Task<absl::StatusOr<Int64Value>> Second(const Int64Value& n) { co_return n; }
};

// Registers a method of another server class: refused at start too.
class Lender : public GenServer {
 public:
  Task<absl::StatusOr<Int64Value>> Lend(const Empty&) { co_return Int(1); }
};
class Borrower : public GenServer {
 public:
  Borrower() { OnCall(&Lender::Lend); }
};

TEST_F(TypedHandlersTest, AMethodOfAnotherServerClassMakesSpawnFail) {
  EXPECT_THAT(node_->Spawn(std::make_unique<Borrower>(), {.name = "borrower"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("borrower"), HasSubstr("not a method of this server"),
                             HasSubstr("google.protobuf.Empty"))));
}

TEST_F(TypedHandlersTest, TwoHandlersForOneTypeMakeSpawnFail) {
  EXPECT_THAT(node_->Spawn(std::make_unique<TwoHandlers>(), {.name = "two"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("two"), HasSubstr("two call handlers"),
                             HasSubstr("google.protobuf.Int64Value"))));
  EXPECT_THAT(node_->WhereIs("two"), StatusIs(absl::StatusCode::kNotFound));
}

// Typed handlers next to the virtual hooks: Int64Value calls and casts are
// typed; StringValue calls (declared) and casts of any type go to the
// hooks. A StringValue call "wrong" answers with an undeclared reply type.
class Mixed : public GenServer {
 public:
  explicit Mixed(Journal* j) : j_(j) {
    OnCall(&Mixed::Typed);
    OnCast(&Mixed::TypedCast);
    AcceptCall<StringValue, Int64Value>();
    AcceptAnyCast();
  }
  Task<absl::StatusOr<Reply>> HandleCall(const Message& m, const From&) override {
    absl::StatusOr<StringValue> s = m.As<StringValue>();
    if (!s.ok()) co_return Reply::Error(s.status());
    if (s->value() == "wrong") co_return Str("not an Int64Value");
    co_return Int(-1);
  }
  Task<absl::Status> HandleCast(const Message& m) override {
    j_->Add("hook-cast:" + m.type());
    co_return absl::OkStatus();
  }

 private:
  Task<absl::StatusOr<Int64Value>> Typed(const Int64Value& n) { co_return Int(n.value() + 1); }
  Task<absl::Status> TypedCast(const Int64Value& n) {
    j_->Add(absl::StrCat("typed-cast:", n.value()));
    co_return absl::OkStatus();
  }
  Journal* j_;
};

TEST_F(TypedHandlersTest, TypedHandlersComeFirstAndTheHooksTakeTheRest) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Mixed>(&j_), {.name = "mixed"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("mixed", Int(1)), IsOkAndHolds(HasValue(2)));
  EXPECT_THAT(node_->Call<Int64Value>("mixed", Str("x")), IsOkAndHolds(HasValue(-1)));
  ASSERT_THAT(node_->Cast("mixed", Int(5)), IsOk());
  ASSERT_THAT(node_->Cast("mixed", Empty()), IsOk());
  EXPECT_TRUE(j_.WaitFor("typed-cast:5"));
  EXPECT_TRUE(j_.WaitFor("hook-cast:google.protobuf.Empty"));
}

TEST_F(TypedHandlersTest, HookReplyOfAnUndeclaredTypeIsInternalAndServerKeepsRunning) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Mixed>(&j_), {.name = "mixed"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("mixed", Str("wrong")),
              StatusIs(absl::StatusCode::kInternal,
                       AllOf(HasSubstr("mixed"), HasSubstr("\"google.protobuf.StringValue\""),
                             HasSubstr("reply of type \"google.protobuf.StringValue\""),
                             HasSubstr("(declared: \"google.protobuf.Int64Value\")"))));
  EXPECT_THAT(node_->Call<Int64Value>("mixed", Str("right")), IsOkAndHolds(HasValue(-1)));
}

// Call StringValue s: answers s with "!" appended, or "throw" throws.
class Echo : public GenServer {
 public:
  Echo() { OnCall(&Echo::Answer); }

 private:
  Task<absl::StatusOr<StringValue>> Answer(const StringValue& s) { co_return Str(s.value() + "!"); }
};

// A long string: a protobuf string field longer than this lives on the
// heap, so a dangling request would be a read of freed memory (ASan).
std::string Long(const std::string& s) { return s + std::string(200, '.'); }

// Call StringValue s: calls "echo" with Long(s) through an awaiter it keeps
// in a variable, the request being a temporary long gone when awaited;
// answers echo's reply. Call Int64Value: awaits one call twice, answers
// the second outcome's code.
class Forwarder : public GenServer {
 public:
  Forwarder() {
    OnCall(&Forwarder::Forward);
    OnCall(&Forwarder::Twice);
  }

 private:
  Task<absl::StatusOr<StringValue>> Forward(const StringValue& s) {
    auto call = Call<StringValue>("echo", Str(Long(s.value())));
    // Overwrite what the temporary request used, as later work would.
    std::vector<std::string> churn(64, std::string(256, 'x'));
    absl::StatusOr<StringValue> reply = co_await call;
    co_return reply;
  }
  Task<absl::StatusOr<Int64Value>> Twice(const Int64Value&) {
    auto call = Call<StringValue>("echo", Str("once"));
    absl::StatusOr<StringValue> first = co_await call;
    if (!first.ok()) co_return first.status();
    absl::StatusOr<StringValue> second = co_await call;
    // The untyped awaiter from ProcessContext::CallRaw says the same.
    CallAwaiter raw = context().CallRaw("echo", Str("once"));
    absl::StatusOr<Message> raw_first = co_await raw;
    absl::StatusOr<Message> raw_second = co_await raw;
    if (!raw_first.ok() || raw_second.status().code() != second.status().code()) {
      co_return absl::InternalError(absl::StrCat("raw: ", raw_first.status().ToString(), " then ",
                                                 raw_second.status().ToString()));
    }
    co_return Int(static_cast<int64_t>(second.status().code()));
  }
};

TEST_F(TypedHandlersTest, KeptCallAwaiterOwnsItsRequest) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Echo>(), {.name = "echo"}), IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Forwarder>(), {.name = "fwd"}), IsOk());
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(node_->Call<StringValue>("fwd", Str(absl::StrCat("req", i))),
                IsOkAndHolds(HasValue(Long(absl::StrCat("req", i)) + "!")));
  }
}

TEST_F(TypedHandlersTest, AwaitingACallTwiceIsFailedPrecondition) {
  ASSERT_THAT(node_->Spawn(std::make_unique<Echo>(), {.name = "echo"}), IsOk());
  ASSERT_THAT(node_->Spawn(std::make_unique<Forwarder>(), {.name = "fwd"}), IsOk());
  EXPECT_THAT(node_->Call<Int64Value>("fwd", Int(0)),
              IsOkAndHolds(HasValue(static_cast<int64_t>(absl::StatusCode::kFailedPrecondition))));
}

TEST(TypedRemoteTest, TypedCallsAcrossTwoNodes) {
  Journal j;
  NodeOptions oa;
  oa.name = "a";
  oa.scheduler_threads = 2;
  oa.listen = absl::StrCat("inproc://typed-a-", getpid(), "-*");
  absl::StatusOr<std::unique_ptr<Node>> a = Node::Create(std::move(oa));
  ASSERT_THAT(a, IsOk());
  NodeOptions ob;
  ob.name = "b";
  ob.scheduler_threads = 2;
  ob.listen = absl::StrCat("inproc://typed-b-", getpid(), "-*");
  ob.seeds = {(*a)->endpoint()};
  absl::StatusOr<std::unique_ptr<Node>> b = Node::Create(std::move(ob));
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT((*b)->Join(absl::Seconds(10)), IsOk());
  ASSERT_THAT((*a)->Spawn(std::make_unique<Account>(&j), {.name = "acc"}), IsOk());
  ASSERT_THAT((*a)->Spawn(std::make_unique<Echo>(), {.name = "echo"}), IsOk());
  ASSERT_THAT((*b)->Spawn(std::make_unique<Forwarder>(), {.name = "fwd"}), IsOk());
  ASSERT_TRUE(WaitFor([&] {  // Names spread by gossip.
    return (*b)->WhereIs("acc").ok() && (*b)->WhereIs("echo").ok();
  }));
  // From a plain thread on b to a typed handler on a.
  EXPECT_THAT((*b)->Call<Int64Value>("acc", Int(5)), IsOkAndHolds(HasValue(5)));
  EXPECT_THAT((*b)->Call<Int64Value>("acc", Int(-5)),
              StatusIs(absl::StatusCode::kInvalidArgument, "negative amount"));
  UnparsableValue bad("google.protobuf.StringValue");
  EXPECT_THAT((*b)->Call<StringValue>("acc", bad.message()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not parse")));
  EXPECT_THAT((*b)->Call<Int64Value>("acc", Int(1)), IsOkAndHolds(HasValue(6)));
  // From a typed handler on b, through a kept awaiter, to one on a.
  EXPECT_THAT((*b)->Call<StringValue>("fwd", Str("far")),
              IsOkAndHolds(HasValue(Long("far") + "!")));
  (*b)->Shutdown();
  (*a)->Shutdown();
}

}  // namespace
}  // namespace polis
