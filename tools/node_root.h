// tools/node_root.h — the root supervisor of `polis node`, and how the main
// thread learns why the node must stop.
//
// `polis node` runs every server under one root Supervisor, like the top
// supervisor of an OTP application. StartRoot spawns a small anonymous
// watcher process (the analogue of OTP's application master) whose Init
// spawns the root under its name with SpawnOptions::monitor; when the root
// ends — escalation after its restart intensity was exceeded, a
// `shutdown` call, or ShutdownTree — the watcher records the reason in a
// NodeStop and ends. The main thread waits on the NodeStop, which a signal
// thread completes on SIGINT/SIGTERM too; whichever comes first decides.
//
// Why a monitor and not polling WhereIs(root) from the main thread: the
// end is reported at once, with its reason (what the node logs and exits
// with), and no poll interval or name lookup races with a restart.
//
// Thread-safety: NodeStop is thread-safe. StartRoot from a plain thread.
//
// Example:
//   auto stop = std::make_shared<NodeStop>();
//   absl::Status s = StartRoot(*node, *RootSupervisorSpec(config), "root@a", stop);
//   NodeStop::Cause why = stop->Wait();  // Blocks.
#ifndef POLIS_TOOLS_NODE_ROOT_H_
#define POLIS_TOOLS_NODE_ROOT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "node/node.h"
#include "polis/supervisor.pb.h"

namespace polis::tools {

// Why a node stops: the first of a stop signal and the end of its root.
class NodeStop {
 public:
  struct Cause {
    int signal = 0;            // SIGINT / SIGTERM; 0 if the root ended first.
    absl::Status root_reason;  // If signal == 0: how the root ended (OK = stopped normally).
  };

  // Record a cause; only the first one counts. Thread-safe.
  void SignalReceived(int signal);
  void RootEnded(absl::Status reason);

  // Blocks until a cause was recorded, and returns the first. Thread-safe.
  Cause Wait();

 private:
  void Record(Cause cause);

  absl::Mutex mu_;
  std::optional<Cause> cause_ ABSL_GUARDED_BY(mu_);
};

// Starts the root supervisor of `spec`, registered as `name`, under a
// watcher process that reports its end to `stop`. Returns once the root and
// all its children started. Errors: the root's Init error (a child that
// failed to start, prefixed "child 'ID': "), ALREADY_EXISTS if `name` is
// taken in the cluster, INVALID_ARGUMENT for a bad spec.
absl::Status StartRoot(Node& node, const supervision::SupervisorSpec& spec, const std::string& name,
                       std::shared_ptr<NodeStop> stop);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_NODE_ROOT_H_
