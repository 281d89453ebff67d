// node/internal/process_test.cc — a process's life, step by step: Init
// before any letter, one letter at a time in order, a hook that waits takes
// no letters until its slot completes, the run claim hands over mail that
// arrives meanwhile, and every way of dying (error, throw, stop, kill)
// answers what is open, tells the node once and runs Terminate once.
// Driven by ManualHost: no threads, no sleeps.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/internal/manual_host.h"

namespace polis::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// A behaviour that does what each letter's text says and writes down what
// happened. "wait" suspends the hook on `gate`; "fail:X" returns an error;
// "throw" throws; "stop" stops itself; "poke" puts a cast "poked" in its
// own mailbox while it runs; anything else is handled (a call is answered
// "re:TEXT").
class Script : public Behaviour {
 public:
  explicit Script(std::vector<std::string>* journal) : journal_(journal) {}

  Process* self = nullptr;  // Set by the test after Spawn (for "wait").
  std::shared_ptr<CallSlot> gate;

  Task<absl::Status> OnStart(ProcessContext&) override {
    journal_->push_back("init");
    co_return absl::OkStatus();
  }
  Task<absl::Status> OnMessage(ProcessContext& ctx, Incoming& in) override {
    const std::string text = in.message.As<google::protobuf::StringValue>()->value();
    journal_->push_back(absl::StrCat(wire::Kind_Name(in.kind), ":", text));
    if (text == "wait") {
      // Named first: g++ 12 destroys a braced temporary in a co_await
      // expression twice (genserver/genserver.h, compiler note).
      AwaitSlot wait{self, gate};
      absl::StatusOr<Message> r = co_await wait;
      journal_->push_back(absl::StrCat("woke:", r.status().ToString()));
    } else if (absl::StartsWith(text, "fail:")) {
      co_return absl::DataLossError(text.substr(5));
    } else if (text == "throw") {
      throw std::runtime_error("boom");
    } else if (text == "stop") {
      ctx.Stop();
    } else if (text == "poke") {
      ManualHost::Deliver(*self, wire::KIND_CAST, "poked");
    }
    if (in.kind == wire::KIND_CALL) {
      google::protobuf::StringValue v;
      v.set_value("re:" + text);
      ctx.ReplyRaw(in.from, absl::OkStatus(), Message::From(v));
    }
    co_return absl::OkStatus();
  }
  void OnTerminate(ProcessContext&, const absl::Status& reason) override {
    journal_->push_back(absl::StrCat("terminate:", absl::StatusCodeToString(reason.code())));
  }
  wire::ServerDescription Describe() const override { return {}; }

 private:
  std::vector<std::string>* journal_;
};

class ProcessTest : public ::testing::Test {
 protected:
  std::shared_ptr<Process> Start() {
    auto script = std::make_unique<Script>(&journal_);
    script_ = script.get();
    std::shared_ptr<Process> p = host_.Spawn(std::move(script), "p");
    script_->self = p.get();
    return p;
  }

  ManualHost host_;
  std::vector<std::string> journal_;
  Script* script_ = nullptr;
};

// A full mailbox: casts and infos are dropped and counted, a call is
// answered RESOURCE_EXHAUSTED at once, the runtime's DOWN still gets in,
// and the server handles what it queued and works on afterwards.
TEST_F(ProcessTest, AFullMailboxRefusesCallsAndDropsCastsButNotDowns) {
  std::shared_ptr<Process> p = Start();
  host_.RunUntilIdle();  // Init.
  p->set_max_mailbox(3);
  for (int i = 0; i < 10; ++i) ManualHost::Deliver(*p, wire::KIND_CAST, absl::StrCat("c", i));
  EXPECT_EQ(p->mailbox_length(), 3);
  EXPECT_EQ(p->dropped(), 7u);
  ManualHost::Deliver(*p, wire::KIND_CALL, "full", /*ref=*/9);
  ASSERT_THAT(host_.replies, SizeIs(1));  // Before the process ran at all.
  EXPECT_EQ(host_.replies[0].to.ref, 9u);
  EXPECT_EQ(host_.replies[0].status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(p->dropped(), 7u);  // A refused call is answered, not counted.
  LetterPtr down = NewLetter();
  down->kind = wire::KIND_INFO;
  down->message = Message::From(wire::ProcessDown());
  down->sender = Pid{"test", 0};
  LetterPtr forged = NewLetter();  // The same type from a user: counts.
  forged->kind = wire::KIND_INFO;
  forged->message = Message::From(wire::ProcessDown());
  forged->sender = Pid{"test", 0};
  p->Deliver(std::move(forged));
  EXPECT_EQ(p->mailbox_length(), 3);
  EXPECT_EQ(p->dropped(), 8u);
  down->runtime_notice = true;  // The runtime's own notice: bypasses the bound.
  p->Deliver(std::move(down));
  EXPECT_EQ(p->mailbox_length(), 4);
  host_.RunUntilIdle();
  ManualHost::Deliver(*p, wire::KIND_CALL, "after", /*ref=*/10);
  host_.RunUntilIdle();
  ASSERT_THAT(host_.replies, SizeIs(2));
  EXPECT_TRUE(host_.replies[1].status.ok());
  EXPECT_EQ(host_.replies[1].text, "re:after");
  EXPECT_EQ(journal_[1], "KIND_CAST:c0");
  EXPECT_EQ(journal_[3], "KIND_CAST:c2");
}

TEST_F(ProcessTest, InitRunsBeforeAnyLetterAndLettersRunInOrder) {
  std::shared_ptr<Process> p = Start();
  ManualHost::Deliver(*p, wire::KIND_CAST, "a");
  ManualHost::Deliver(*p, wire::KIND_CALL, "b", /*ref=*/7);
  ManualHost::Deliver(*p, wire::KIND_INFO, "c");
  EXPECT_THAT(journal_, IsEmpty());  // Nothing runs until a worker steps.
  EXPECT_EQ(host_.RunUntilIdle(), 1);  // One run: Init and all three letters.
  EXPECT_THAT(journal_, ElementsAre("init", "KIND_CAST:a", "KIND_CALL:b", "KIND_INFO:c"));
  ASSERT_THAT(host_.replies, SizeIs(1));
  EXPECT_EQ(host_.replies[0].to.ref, 7u);
  EXPECT_EQ(host_.replies[0].text, "re:b");
  EXPECT_FALSE(p->dead());
}

TEST_F(ProcessTest, AWaitingHookTakesNoLettersUntilItsSlotCompletes) {
  std::shared_ptr<Process> p = Start();
  script_->gate = CallSlot::ForProcess(42, p.get());
  ManualHost::Deliver(*p, wire::KIND_CAST, "wait");
  ManualHost::Deliver(*p, wire::KIND_CAST, "after");
  host_.RunUntilIdle();
  EXPECT_THAT(journal_, ElementsAre("init", "KIND_CAST:wait"));
  EXPECT_FALSE(host_.Step());  // Suspended: not runnable, though mail waits.

  script_->gate->Complete(Message());  // Schedules the process again.
  EXPECT_TRUE(host_.Step());
  EXPECT_THAT(journal_, ElementsAre("init", "KIND_CAST:wait", "woke:OK", "KIND_CAST:after"));
}

TEST_F(ProcessTest, MailThatArrivesWhileItRunsIsHandledAfterItsClaimIsReleased) {
  std::shared_ptr<Process> p = Start();
  host_.RunUntilIdle();
  // The run's budget (64 letters) ends with "poke", which puts a letter in
  // the box while the process holds its claim: that sender could not
  // schedule it, so giving up the claim must.
  for (int i = 0; i < 63; ++i) ManualHost::Deliver(*p, wire::KIND_CAST, "x");
  ManualHost::Deliver(*p, wire::KIND_CAST, "poke");
  EXPECT_TRUE(host_.Step());
  EXPECT_EQ(journal_.back(), "KIND_CAST:poke");
  EXPECT_TRUE(host_.Step());
  EXPECT_EQ(journal_.back(), "KIND_CAST:poked");
  EXPECT_FALSE(host_.Step());
}

TEST_F(ProcessTest, ARunHandlesAtMostItsBudgetThenQueuesBehindOthers) {
  std::shared_ptr<Process> busy = Start();
  host_.RunUntilIdle();
  for (int i = 0; i < 100; ++i) ManualHost::Deliver(*busy, wire::KIND_CAST, "x");
  std::vector<std::string> other_journal;
  auto other_script = std::make_unique<Script>(&other_journal);
  std::shared_ptr<Process> other = host_.Spawn(std::move(other_script), "other");
  // Queue order now: busy, then other (LIFO takes `other` first: it is the
  // newest), so first run other's Init, then busy's first budget.
  EXPECT_TRUE(host_.Step());
  EXPECT_THAT(other_journal, ElementsAre("init"));
  EXPECT_TRUE(host_.Step());
  EXPECT_EQ(journal_.size(), 1u + 64u);  // Init + one budget of letters.
  ManualHost::Deliver(*other, wire::KIND_CAST, "me");
  // `busy` was re-queued behind the work already queued; `other` is newer.
  EXPECT_TRUE(host_.Step());
  EXPECT_THAT(other_journal, ElementsAre("init", "KIND_CAST:me"));
  EXPECT_TRUE(host_.Step());
  EXPECT_EQ(journal_.size(), 1u + 100u);
  EXPECT_FALSE(host_.Step());
}

TEST_F(ProcessTest, AHandlerErrorFailsTheProcessAndAnswersWhatIsOpen) {
  std::shared_ptr<Process> p = Start();
  p->AddMonitor(Pid{"test", 99}, /*ref=*/5);
  ManualHost::Deliver(*p, wire::KIND_CALL, "fail:broken", /*ref=*/1);
  ManualHost::Deliver(*p, wire::KIND_CALL, "never", /*ref=*/2);
  host_.RunUntilIdle();
  EXPECT_THAT(journal_, ElementsAre("init", "KIND_CALL:fail:broken", "terminate:DATA_LOSS"));
  EXPECT_TRUE(p->dead());
  ASSERT_THAT(host_.replies, SizeIs(2));
  EXPECT_EQ(host_.replies[0].to.ref, 1u);  // The call being handled: its error.
  EXPECT_EQ(host_.replies[0].status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(host_.replies[1].to.ref, 2u);  // A queued call: the server stopped.
  EXPECT_EQ(host_.replies[1].status.code(), absl::StatusCode::kAborted);
  ASSERT_THAT(host_.forgotten, SizeIs(1));
  ASSERT_THAT(host_.downs, SizeIs(1));
  EXPECT_EQ(host_.downs[0].ref, 5u);
  EXPECT_EQ(host_.downs[0].reason.code(), absl::StatusCode::kDataLoss);
}

TEST_F(ProcessTest, AThrowingHandlerFailsWithInternalNamingTheException) {
  std::shared_ptr<Process> p = Start();
  ManualHost::Deliver(*p, wire::KIND_CALL, "throw", /*ref=*/3);
  host_.RunUntilIdle();
  ASSERT_THAT(host_.replies, SizeIs(1));
  EXPECT_EQ(host_.replies[0].status.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StrContains(host_.replies[0].status.message(), "boom"));
  EXPECT_THAT(journal_, ElementsAre("init", "KIND_CALL:throw", "terminate:INTERNAL"));
}

TEST_F(ProcessTest, StopAfterTheHookEndsTheProcessNormally) {
  std::shared_ptr<Process> p = Start();
  ManualHost::Deliver(*p, wire::KIND_CALL, "stop", /*ref=*/4);
  host_.RunUntilIdle();
  ASSERT_THAT(host_.replies, SizeIs(1));
  EXPECT_TRUE(host_.replies[0].status.ok());  // Answered before it stopped.
  EXPECT_THAT(journal_, ElementsAre("init", "KIND_CALL:stop", "terminate:OK"));
  EXPECT_THAT(host_.forgotten, SizeIs(1));
}

TEST_F(ProcessTest, AStopRequestAbandonsAWaitingHookAndForgetsItsCall) {
  std::shared_ptr<Process> p = Start();
  script_->gate = CallSlot::ForProcess(42, p.get());
  ManualHost::Deliver(*p, wire::KIND_CAST, "wait");
  host_.RunUntilIdle();
  auto stopped = std::make_shared<CallSlot>(0, "", nullptr);
  p->RequestStop(absl::CancelledError("shutdown"), stopped);
  host_.RunUntilIdle();
  EXPECT_THAT(journal_, ElementsAre("init", "KIND_CAST:wait", "terminate:CANCELLED"));
  EXPECT_THAT(host_.abandoned, ElementsAre(42u));  // A late reply is dropped.
  EXPECT_TRUE(stopped->done());
  // The slot completing now resumes nothing: the hook is gone.
  script_->gate->Complete(Message());
  host_.RunUntilIdle();
  EXPECT_THAT(journal_, ElementsAre("init", "KIND_CAST:wait", "terminate:CANCELLED"));
}

TEST_F(ProcessTest, AKilledProcessIsForgottenOnceAndRefusesItsMail) {
  std::shared_ptr<Process> p = Start();
  host_.RunUntilIdle();
  ManualHost::Deliver(*p, wire::KIND_CALL, "late", /*ref=*/9);
  p->Kill();
  EXPECT_THAT(host_.forgotten, SizeIs(1));  // At once, before it runs.
  host_.RunUntilIdle();
  EXPECT_THAT(journal_, ElementsAre("init"));  // No Terminate after a kill.
  ASSERT_THAT(host_.replies, SizeIs(1));
  EXPECT_EQ(host_.replies[0].status.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(host_.forgotten, SizeIs(1));
  p->Kill();  // Twice is once.
  EXPECT_THAT(host_.forgotten, SizeIs(1));
}

}  // namespace
}  // namespace polis::internal
