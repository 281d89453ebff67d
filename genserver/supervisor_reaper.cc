// genserver/supervisor_reaper.cc — see supervisor_reaper.h.
#include "genserver/supervisor_reaper.h"

#include "polis/supervisor.pb.h"

namespace polis {

SupervisorReaper::SupervisorReaper() {
  AcceptInfo<supervision::Reap>();
  set_kind("supervisor_reaper");
}

Task<absl::Status> SupervisorReaper::HandleInfo(const Message& message) {
  absl::StatusOr<supervision::Reap> reap = message.As<supervision::Reap>();
  if (!reap.ok()) co_return absl::OkStatus();  // Not ours: ignore.
  for (const supervision::ReapTarget& t : reap->targets()) {
    // NOT_FOUND (already ended) and DEADLINE_EXCEEDED (killed) both mean
    // the child is gone: nothing more to do for it.
    // A named awaiter: g++ 12 mishandles temporaries in co_await.
    StopAwaiter stopping = context().StopProcess(Pid{t.node(), t.pid()}, absl::OkStatus(),
                                                 absl::Milliseconds(t.timeout_ms()));
    (void)co_await stopping;
  }
  Stop();
  co_return absl::OkStatus();
}

}  // namespace polis
