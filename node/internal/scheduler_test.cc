// node/internal/scheduler_test.cc — where the scheduler puts a runnable
// process and which one a worker runs next, decided step by step on a
// scheduler that is never started (Scheduler::Step through ManualHost): a
// process woken by a worker stays on that worker, newest first; a plain
// thread's wake-up goes to the process's last worker (not to worker 0, the
// I/O thread, when there is another); an idle worker
// steals; processes pinned to the I/O thread go to worker 0 and are never
// stolen by another worker.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node/internal/manual_host.h"

namespace polis::internal {
namespace {

using ::testing::ElementsAre;

// Writes "NAME@WORKER" for every letter it handles; a letter "send:A,B"
// also puts a letter in A's then B's mailbox from inside the run.
class Recorder : public Behaviour {
 public:
  Recorder(std::string name, std::vector<std::string>* journal,
           std::map<std::string, Process*>* world, const Scheduler* scheduler)
      : name_(std::move(name)), journal_(journal), world_(world), scheduler_(scheduler) {}

  Task<absl::Status> OnStart(ProcessContext&) override { co_return absl::OkStatus(); }
  Task<absl::Status> OnMessage(ProcessContext&, Incoming& in) override {
    const std::string text = in.message.As<google::protobuf::StringValue>()->value();
    journal_->push_back(absl::StrCat(name_, "@", scheduler_->CurrentWorker()));
    if (text.rfind("send:", 0) == 0) {
      for (absl::string_view to : absl::StrSplit(text.substr(5), ',')) {
        ManualHost::Deliver(*(*world_)[std::string(to)], wire::KIND_CAST, "hi");
      }
    }
    co_return absl::OkStatus();
  }
  void OnTerminate(ProcessContext&, const absl::Status&) override {}
  wire::ServerDescription Describe() const override { return {}; }

 private:
  std::string name_;
  std::vector<std::string>* journal_;
  std::map<std::string, Process*>* world_;
  const Scheduler* scheduler_;
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
    auto p = host_.Spawn(std::make_unique<Recorder>(name, &journal_, &world_, &host_.scheduler()),
                         name);
    world_[name] = p.get();
    EXPECT_TRUE(host_.Step(w)) << name;  // Init, on `w` (its own or stolen).
    return p;
  }
  Scheduler& scheduler() { return host_.scheduler(); }

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

}  // namespace
}  // namespace polis::internal
