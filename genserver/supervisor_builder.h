// genserver/supervisor_builder.h — supervision trees configured in code.
//
// SupervisorBuilder collects a supervisor's policy and its children — C++
// factories, server kinds, nested specs or nested builders — in start order,
// and Build() checks them and makes the Supervisor. A builder is a value:
// copy it to make several identical trees; a nested builder is copied into
// the child's factory, so each restart of a nested supervisor builds a
// fresh subtree.
//
// Thread-safety: not synchronized; build on one thread. Factories it holds
// run on the supervisor's process.
//
// Example:
//   polis::SupervisorBuilder workers;
//   workers.strategy(supervision::REST_FOR_ONE)
//       .Add("db", [] { return NewDb(); }, {.name = "db"})
//       .Add("cache", [] { return NewCache(); }, {.name = "cache"});
//   polis::SupervisorBuilder root;
//   root.intensity(1, absl::Seconds(10)).AddSupervisor("workers", workers);
//   absl::StatusOr<std::unique_ptr<polis::Supervisor>> sup = root.Build();
#ifndef POLIS_GENSERVER_SUPERVISOR_BUILDER_H_
#define POLIS_GENSERVER_SUPERVISOR_BUILDER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "genserver/supervisor.h"
#include "genserver/supervisor_child.h"
#include "polis/supervisor.pb.h"

namespace polis {

class SupervisorBuilder {
 public:
  // Default policy: one_for_one, 3 restarts in 5 s, no backoff.
  SupervisorBuilder() = default;
  // Policy and children of `spec` (children by kind / nested spec).
  explicit SupervisorBuilder(const supervision::SupervisorSpec& spec);

  SupervisorBuilder& strategy(supervision::Strategy strategy);
  SupervisorBuilder& intensity(int max_restarts, absl::Duration period);
  SupervisorBuilder& backoff(supervision::Backoff backoff);

  // A child made by `factory` on every start.
  SupervisorBuilder& Add(std::string id, ChildFactory factory, const ChildOptions& options = {});
  // A child described by `spec` (kind, supervisor or dynamic_supervisor).
  SupervisorBuilder& Add(const supervision::ChildSpec& spec);
  // A nested supervisor built from `tree` on every start.
  SupervisorBuilder& AddSupervisor(std::string id, SupervisorBuilder tree,
                                   ChildOptions options = {});

  // The supervisor. The first error of any Add (INVALID_ARGUMENT), or
  // Supervisor::Create's (ALREADY_EXISTS for duplicate ids / names).
  absl::StatusOr<std::unique_ptr<Supervisor>> Build() const;

 private:
  Supervisor::Options options_;
  std::vector<ChildDef> children_;
  absl::Status error_;  // First failed Add.
};

}  // namespace polis

#endif  // POLIS_GENSERVER_SUPERVISOR_BUILDER_H_
