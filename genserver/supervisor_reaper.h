// genserver/supervisor_reaper.h — the companion process that stops a
// supervisor's children when the supervisor ended without stopping them.
//
// A supervisor's Terminate must not block, so it cannot wait for its
// children to stop. Each supervisor therefore spawns one anonymous reaper
// in its Init; Terminate sends it a supervision::Reap listing the children
// still running (reverse start order, usually none), and the reaper stops
// them one by one with ProcessContext::StopProcess, then ends.
//
// Thread-safety: a GenServer; used only through messages.
//
// Example (inside Supervisor):
//   absl::StatusOr<Pid> reaper = co_await context().Spawn(
//       std::make_unique<SupervisorReaper>());
//   ...  // in Terminate:
//   Send(reaper, reap);
#ifndef POLIS_GENSERVER_SUPERVISOR_REAPER_H_
#define POLIS_GENSERVER_SUPERVISOR_REAPER_H_

#include "genserver/genserver.h"

namespace polis {

class SupervisorReaper : public GenServer {
 public:
  SupervisorReaper();

 protected:
  // On supervision::Reap: stops each target in order, then ends normally.
  Task<absl::Status> HandleInfo(const Message& message) override;
};

}  // namespace polis

#endif  // POLIS_GENSERVER_SUPERVISOR_REAPER_H_
