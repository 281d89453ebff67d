// node/internal/scheduler_test.cc — where the scheduler puts a runnable
// process and which one a worker runs next, decided step by step on a
// scheduler that is never started (Scheduler::Step through ManualHost): a
// process woken by a worker stays on that worker, newest first; a plain
// thread's wake-up goes to the process's last worker (not to worker 0, the
// I/O thread, when there is another); an idle worker
// steals; processes pinned to the I/O thread go to worker 0 and are never
// stolen by another worker. One test starts the scheduler for real, where
// workers sleep: a worker with surplus work wakes a sleeping one to steal it.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/internal/manual_host.h"
#include "node/internal/spin.h"

namespace polis::internal {
namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;

// Guards every Recorder's journal: the workers of a started scheduler may
// write at once (a stepped one writes from the test's thread only).
ABSL_CONST_INIT absl::Mutex journal_mu(absl::kConstInit);

// Writes "NAME@WORKER" for every letter it handles; a letter "send:A,B"
// also puts a letter in A's then B's mailbox from inside the run. Then it
// calls `*after` with its name, if that is set (on the worker running it).
class Recorder : public Behaviour {
 public:
  Recorder(std::string name, std::vector<std::string>* journal,
           std::map<std::string, Process*>* world, const Scheduler* scheduler,
           const std::function<void(const std::string&)>* after)
      : name_(std::move(name)),
        journal_(journal),
        world_(world),
        scheduler_(scheduler),
        after_(after) {}

  Task<absl::Status> OnStart(ProcessContext&) override { co_return absl::OkStatus(); }
  Task<absl::Status> OnMessage(ProcessContext&, Incoming& in) override {
    const std::string text = in.message.As<google::protobuf::StringValue>()->value();
    {
      absl::MutexLock lock(&journal_mu);
      journal_->push_back(absl::StrCat(name_, "@", scheduler_->CurrentWorker()));
    }
    if (text.rfind("send:", 0) == 0) {
      for (absl::string_view to : absl::StrSplit(text.substr(5), ',')) {
        ManualHost::Deliver(*(*world_)[std::string(to)], wire::KIND_CAST, "hi");
      }
    }
    if (*after_) (*after_)(name_);
    co_return absl::OkStatus();
  }
  void OnTerminate(ProcessContext&, const absl::Status&) override {}
  wire::ServerDescription Describe() const override { return {}; }

 private:
  std::string name_;
  std::vector<std::string>* journal_;
  std::map<std::string, Process*>* world_;
  const Scheduler* scheduler_;
  const std::function<void(const std::string&)>* after_;
};

// An I/O driver with nothing to do, counting its wake-ups.
class IdleIo : public IoDriver {
 public:
  void IoRound(absl::Duration) override {}
  void RunPostedIo() override {}
  void WakeIo() override { ++wakes; }
  int wakes = 0;
};

class SchedulerTest : public ::testing::Test {
 protected:
  explicit SchedulerTest(int workers = 2, IoDriver* io = nullptr) : host_(workers, io) {}

  // Spawns NAME and runs its Init on worker `w`.
  std::shared_ptr<Process> Spawn(const std::string& name, int w) {
    auto p = host_.Spawn(
        std::make_unique<Recorder>(name, &journal_, &world_, &host_.scheduler(), &after_letter_),
        name);
    world_[name] = p.get();
    EXPECT_TRUE(host_.Step(w)) << name;  // Init, on `w` (its own or stolen).
    return p;
  }
  Scheduler& scheduler() { return host_.scheduler(); }

  // What a Recorder does after each letter (nothing if empty). Set it before
  // the scheduler starts; declared before host_ so that it outlives the
  // processes.
  std::function<void(const std::string& name)> after_letter_;
  ManualHost host_;
  std::vector<std::string> journal_;
  std::map<std::string, Process*> world_;
};

TEST_F(SchedulerTest, ProcessesAWorkerWakesStayOnItAndTheNewestRunsFirst) {
  auto x = Spawn("x", 0);
  auto a = Spawn("a", 1);
  auto b = Spawn("b", 1);
  ManualHost::Deliver(*x, wire::KIND_CAST, "send:a,b");
  ASSERT_EQ(scheduler().queued(0), 1u);  // x's last worker.
  EXPECT_TRUE(host_.Step(0));            // x wakes a, then b.
  EXPECT_EQ(scheduler().queued(0), 2u);  // On worker 0, not on a's and b's.
  EXPECT_EQ(scheduler().queued(1), 0u);
  EXPECT_TRUE(host_.Step(0));
  EXPECT_TRUE(host_.Step(0));
  EXPECT_FALSE(host_.Step(0));
  EXPECT_THAT(journal_, ElementsAre("x@0", "b@0", "a@0"));
}

TEST_F(SchedulerTest, APlainThreadsWakeUpGoesToTheProcesssLastWorker) {
  auto a = Spawn("a", 1);
  ManualHost::Deliver(*a, wire::KIND_CAST, "hi");
  EXPECT_EQ(scheduler().queued(1), 1u);
  EXPECT_EQ(scheduler().queued(0), 0u);
  EXPECT_TRUE(host_.Step(1));
  EXPECT_THAT(journal_, ElementsAre("a@1"));
}

// The driver is a base constructed before the host and destroyed after it
// (the host's scheduler wakes worker 0's I/O when it stops).
struct IdleIoHolder {
  IdleIo io_;
};
class SchedulerWithIoTest : protected IdleIoHolder, public SchedulerTest {
 protected:
  SchedulerWithIoTest() : SchedulerTest(2, &io_) {}
};

// Worker 0 sleeps in the transport's poll and does the node's I/O, so a
// plain thread's wake-up of an unpinned process that last ran there goes
// to another worker (idle workers may still steal it back).
TEST_F(SchedulerWithIoTest, APlainThreadsWakeUpAvoidsTheIoWorker) {
  auto a = Spawn("a", 0);
  const int wakes = io_.wakes;
  ManualHost::Deliver(*a, wire::KIND_CAST, "hi");
  EXPECT_EQ(scheduler().queued(0), 0u);
  EXPECT_EQ(scheduler().queued(1), 1u);
  EXPECT_EQ(io_.wakes, wakes);  // Worker 0's poll was not interrupted.
  EXPECT_TRUE(host_.Step(1));
  EXPECT_THAT(journal_, ElementsAre("a@1"));
}

TEST_F(SchedulerTest, AnIdleWorkerStealsFromABusyOne) {
  auto a = Spawn("a", 0);
  ManualHost::Deliver(*a, wire::KIND_CAST, "hi");
  ASSERT_EQ(scheduler().queued(0), 1u);
  EXPECT_TRUE(host_.Step(1));  // Nothing of its own: takes a from worker 0.
  EXPECT_THAT(journal_, ElementsAre("a@1"));
  ManualHost::Deliver(*a, wire::KIND_CAST, "hi");
  EXPECT_EQ(scheduler().queued(1), 1u);  // a's last worker is now 1.
}

TEST_F(SchedulerTest, PinnedProcessesRunOnlyOnWorkerZero) {
  auto x = Spawn("x", 1);
  auto p = Spawn("p", 1);
  p->pinned().store(true);
  ManualHost::Deliver(*p, wire::KIND_CAST, "hi");  // From a plain thread.
  EXPECT_EQ(scheduler().queued(0), 1u);            // Not p's last worker.
  EXPECT_FALSE(host_.Step(1));                     // Worker 1 does not steal it.
  EXPECT_TRUE(host_.Step(0));
  // Woken by another worker, it still goes to worker 0.
  ManualHost::Deliver(*x, wire::KIND_CAST, "send:p");
  EXPECT_TRUE(host_.Step(1));
  EXPECT_EQ(scheduler().queued(0), 1u);
  EXPECT_FALSE(host_.Step(1));
  EXPECT_TRUE(host_.Step(0));
  EXPECT_THAT(journal_, ElementsAre("p@0", "x@1", "p@0"));
}

TEST_F(SchedulerTest, WorkerZeroAlternatesBetweenItsLocalAndSharedQueues) {
  // q and r are pinned: woken by worker 0 itself they go to its local queue;
  // u is not pinned and goes to the shared queue. Neither queue starves.
  auto x = Spawn("x", 0);
  auto q = Spawn("q", 0);
  auto r = Spawn("r", 0);
  auto u = Spawn("u", 0);
  auto v = Spawn("v", 0);
  x->pinned().store(true);
  q->pinned().store(true);
  r->pinned().store(true);
  ManualHost::Deliver(*x, wire::KIND_CAST, "send:u,q,v,r");
  EXPECT_TRUE(host_.Step(0));  // x (shared queue: from a plain thread)
  EXPECT_EQ(scheduler().queued(0), 2u);  // u and v; q and r are local.
  while (host_.Step(0)) {
  }
  EXPECT_THAT(journal_, ElementsAre("x@0", "r@0", "v@0", "q@0", "u@0"));
}

// The host's scheduler started for real, with two workers that sleep when
// idle, as in a node. Processes are spawned (and their Init stepped on this
// thread) before it starts.
class StartedSchedulerTest : public SchedulerTest {
 protected:
  // How long a test waits for what must happen before it reports failure
  // (instead of hanging); far beyond what a correct scheduler takes.
  static constexpr absl::Duration kLiveness = absl::Seconds(10);

  // The workers stop before the host, on this thread, ends the processes
  // and before the members below, which they may be using, go.
  ~StartedSchedulerTest() override { scheduler().Stop(); }

  absl::Notification b_ran_;
  absl::Notification c_ran_;
  bool a_saw_b_ = false;  // Written by a's worker; read after Stop.
};

// A worker that makes two processes runnable keeps both (newest first) and,
// having one to spare, wakes a sleeping worker to steal it. Here a's handler
// wakes b then c onto its own worker 0 and then holds that worker until b
// has run. c is next on worker 0, so b can run meanwhile only if worker 1,
// asleep, was woken and stole it (a thief takes the oldest).
TEST_F(StartedSchedulerTest, AWorkerWithSurplusWorkWakesASleepingOneToStealIt) {
  auto a = Spawn("a", 0);
  auto b = Spawn("b", 0);
  auto c = Spawn("c", 0);
  after_letter_ = [this](const std::string& name) {
    if (name == "a") a_saw_b_ = b_ran_.WaitForNotificationWithTimeout(kLiveness);
    if (name == "b") b_ran_.Notify();
    if (name == "c") c_ran_.Notify();
  };
  scheduler().Start();
  // Both workers asleep: nothing but a wake-up makes worker 1 look for work.
  ASSERT_TRUE(SpinUntil(base::Now() + kLiveness, [&] { return scheduler().parked() == 2; }))
      << scheduler().DebugString();
  // From this thread, a goes to its last worker, 0, which alone is woken.
  ManualHost::Deliver(*a, wire::KIND_CAST, "send:b,c");
  ASSERT_TRUE(c_ran_.WaitForNotificationWithTimeout(kLiveness)) << scheduler().DebugString();
  scheduler().Stop();  // Joins the workers: the journal and a_saw_b_ are settled.
  EXPECT_TRUE(a_saw_b_) << "b did not run while a held worker 0: worker 1 was not woken";
  EXPECT_THAT(journal_, ElementsAre("a@0", "b@1", AnyOf("c@0", "c@1")));
}

// The same surplus, queued while worker 1 spins for work rather than sleeps:
// no worker is parked, so the push wakes none, and worker 1 must look for
// work to steal once more before it sleeps. A long spin (300 ms) makes sure
// worker 1 is still spinning when a queues b and c; a is pinned to worker 0
// (a plain thread's wake would otherwise go to the spinning worker).
TEST_F(StartedSchedulerTest, AWorkerThatSpunThroughSurplusWorkStealsItBeforeItSleeps) {
  auto a = Spawn("a", 0);
  auto b = Spawn("b", 0);
  auto c = Spawn("c", 0);
  auto d = Spawn("d", 1);
  a->pinned().store(true);  // Woken onto worker 0 even while worker 1 spins.
  absl::Notification d_ran;
  after_letter_ = [&](const std::string& name) {
    if (name == "a") a_saw_b_ = b_ran_.WaitForNotificationWithTimeout(kLiveness);
    if (name == "b") b_ran_.Notify();
    if (name == "c") c_ran_.Notify();
    if (name == "d") d_ran.Notify();
  };
  scheduler().set_spin(absl::Milliseconds(300));
  scheduler().Start();
  ASSERT_TRUE(SpinUntil(base::Now() + kLiveness, [&] { return scheduler().parked() == 2; }))
      << scheduler().DebugString();
  // d's run on worker 1 ends in a 300 ms spin; a, on worker 0, queues b and
  // c within it, while no worker is parked.
  ManualHost::Deliver(*d, wire::KIND_CAST, "hi");
  ASSERT_TRUE(d_ran.WaitForNotificationWithTimeout(kLiveness));
  ManualHost::Deliver(*a, wire::KIND_CAST, "send:b,c");
  ASSERT_TRUE(c_ran_.WaitForNotificationWithTimeout(kLiveness)) << scheduler().DebugString();
  scheduler().Stop();
  EXPECT_TRUE(a_saw_b_) << "b did not run while a held worker 0: worker 1 went to sleep without "
                           "looking for the surplus queued during its spin";
  EXPECT_THAT(journal_, ElementsAre("d@1", "a@0", "b@1", AnyOf("c@0", "c@1")));
}

}  // namespace
}  // namespace polis::internal
