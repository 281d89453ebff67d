// genserver/dynamic_supervisor.h — a supervisor whose children are started
// at run time.
//
// A dynamic supervisor starts empty; callers add children with the
// start_child call (SupervisorRequest.start_child), which fills what the
// request leaves unset from the spec's child_template and answers with the
// new child's ChildInfo (its id is "child-N" when the request gives none).
// It is a Supervisor in dynamic mode: one_for_one, the same restart types,
// intensity and backoff; children that end and are not restarted, and
// children terminated by terminate_child, are forgotten. At most
// max_children are held: start_child beyond that is RESOURCE_EXHAUSTED.
//
// Thread-safety: as Supervisor (a process; talk to it by calls).
//
// Example:
//   supervision::DynamicSupervisorSpec spec;
//   spec.set_max_children(100);
//   spec.mutable_child_template()->set_kind("session");
//   node->Spawn(*DynamicSupervisor::Create(spec), {.name = "sessions"});
//   supervision::ChildSpec child;  // everything from the template
//   node->Call<supervision::SupervisorReply>("sessions", StartChildRequest(child));
#ifndef POLIS_GENSERVER_DYNAMIC_SUPERVISOR_H_
#define POLIS_GENSERVER_DYNAMIC_SUPERVISOR_H_

#include <memory>

#include "absl/status/statusor.h"
#include "genserver/supervisor.h"
#include "polis/supervisor.pb.h"

namespace polis {

class DynamicSupervisor {
 public:
  // A dynamic supervisor configured by `spec`. INVALID_ARGUMENT for a bad
  // policy (negative max_children or intensity, bad backoff).
  static absl::StatusOr<std::unique_ptr<Supervisor>> Create(
      const supervision::DynamicSupervisorSpec& spec);

  DynamicSupervisor() = delete;
};

}  // namespace polis

#endif  // POLIS_GENSERVER_DYNAMIC_SUPERVISOR_H_
