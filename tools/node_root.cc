// tools/node_root.cc — see node_root.h.
#include "tools/node_root.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "genserver/genserver.h"
#include "genserver/supervisor.h"

namespace polis::tools {
namespace {

// Spawns the root supervisor in its Init, monitoring it from before it can
// run, and reports the root's end to a NodeStop, then ends.
class RootWatcher : public GenServer {
 public:
  RootWatcher(supervision::SupervisorSpec spec, std::string name, std::shared_ptr<NodeStop> stop)
      : spec_(std::move(spec)), name_(std::move(name)), stop_(std::move(stop)) {
    AcceptInfo<wire::ProcessDown>();
    set_kind("root_watcher");
  }

 protected:
  Task<absl::Status> Init() override {
    absl::StatusOr<std::unique_ptr<Supervisor>> root = Supervisor::Create(spec_);
    if (!root.ok()) co_return root.status();
    // Named awaiter and options: g++ 12 mishandles temporaries in co_await.
    SpawnOptions options{.name = name_, .kind = "supervisor", .monitor = true};
    SpawnAwaiter spawning = context().Spawn(std::move(*root), std::move(options));
    absl::StatusOr<Pid> pid = co_await spawning;
    if (!pid.ok()) co_return pid.status();
    monitor_ = spawning.monitor_ref();
    co_return absl::OkStatus();
  }

  Task<absl::Status> HandleInfo(const Message& message) override {
    absl::StatusOr<wire::ProcessDown> down = message.As<wire::ProcessDown>();
    if (!down.ok() || down->monitor_ref() != monitor_) co_return absl::OkStatus();
    stop_->RootEnded(down->status_code() == 0
                         ? absl::OkStatus()
                         : absl::Status(static_cast<absl::StatusCode>(down->status_code()),
                                        down->status_message()));
    Stop();
    co_return absl::OkStatus();
  }

 private:
  const supervision::SupervisorSpec spec_;
  const std::string name_;
  const std::shared_ptr<NodeStop> stop_;
  uint64_t monitor_ = 0;
};

}  // namespace

void NodeStop::SignalReceived(int signal) { Record(Cause{.signal = signal}); }

void NodeStop::RootEnded(absl::Status reason) {
  Record(Cause{.signal = 0, .root_reason = std::move(reason)});
}

void NodeStop::Record(Cause cause) {
  absl::MutexLock lock(&mu_);
  if (!cause_.has_value()) cause_ = std::move(cause);
}

NodeStop::Cause NodeStop::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::optional<Cause>* cause) { return cause->has_value(); }, &cause_));
  return *cause_;
}

absl::Status StartRoot(Node& node, const supervision::SupervisorSpec& spec, const std::string& name,
                       std::shared_ptr<NodeStop> stop) {
  absl::StatusOr<Pid> watcher = node.Spawn(
      std::make_unique<RootWatcher>(spec, name, std::move(stop)), {.kind = "root_watcher"});
  if (!watcher.ok()) {
    return absl::Status(watcher.status().code(),
                        absl::StrCat("root supervisor '", name, "': ", watcher.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace polis::tools
