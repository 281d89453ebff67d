// genserver/supervisor_child.h — how a supervisor makes its children.
//
// A child is a ChildSpec (id, registered name, restart type, shutdown
// timeout) plus a ChildFactory that makes a fresh, not yet started server
// for every start and restart. The factory comes either from code (a
// lambda, for code-configured trees) or from the spec itself: a server kind
// registered with ServerKinds, or a nested (dynamic) supervisor spec.
//
// Thread-safety: plain values. A ChildFactory is called only on the
// supervisor's process, one call at a time; it must not block.
//
// Example:
//   polis::ChildDef def = polis::MakeChild("worker", [] {
//       return absl::StatusOr<std::unique_ptr<polis::Behaviour>>(std::make_unique<Worker>());
//     }, {.name = "worker", .restart = polis::supervision::TRANSIENT});
//   absl::StatusOr<polis::ChildDef> from_config = polis::ChildFromSpec(spec);
#ifndef POLIS_GENSERVER_SUPERVISOR_CHILD_H_
#define POLIS_GENSERVER_SUPERVISOR_CHILD_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/behaviour.h"
#include "polis/supervisor.pb.h"

namespace polis {

// Makes a fresh server; its error fails that start (counted like a
// failed Init).
using ChildFactory = std::function<absl::StatusOr<std::unique_ptr<Behaviour>>()>;

// Per-child settings for code-configured children.
struct ChildOptions {
  // Name to register (and re-register on every restart); "" = anonymous.
  std::string name;
  supervision::Restart restart = supervision::PERMANENT;
  // Time the child's Terminate gets when the supervisor stops it; zero =
  // the default (5 s for servers, 30 s for supervisors).
  absl::Duration shutdown_timeout = absl::ZeroDuration();
};

// Largest ChildSpec.max_mailbox accepted (a billion letters: far past any
// node's memory; a larger value is a typo, and 0 means no bound).
inline constexpr int64_t kMaxMailboxLimit = 1'000'000'000;

// The mailbox bound the child's process gets: spec.max_mailbox() if set,
// else SpawnOptions::kDefaultMaxMailbox.
int64_t MaxMailboxOf(const supervision::ChildSpec& spec);

// One child as a supervisor holds it.
struct ChildDef {
  supervision::ChildSpec spec;  // id, name, restart, shutdown timeout (start unused if factory set).
  ChildFactory factory;         // Makes each instance.
};

inline constexpr absl::Duration kDefaultWorkerShutdown = absl::Seconds(5);
inline constexpr absl::Duration kDefaultSupervisorShutdown = absl::Seconds(30);

// A child made by `factory`.
ChildDef MakeChild(std::string id, ChildFactory factory, const ChildOptions& options = {});

// A child made from its spec: `kind` through ServerKinds::Create(kind,
// args, typed_args), `supervisor` / `dynamic_supervisor` through their Create.
// INVALID_ARGUMENT if the spec is invalid (see ValidateChildSpec) or names
// no way to start. An unknown kind is reported when the child starts
// (NOT_FOUND), so that kinds may be registered later.
absl::StatusOr<ChildDef> ChildFromSpec(const supervision::ChildSpec& spec);

// INVALID_ARGUMENT for an empty id, a negative shutdown timeout, a
// max_mailbox outside [0, kMaxMailboxLimit], or a registered kind's args /
// typed_args that ServerKinds::CheckArgs refuses (the message names the
// child, the kind and the field). An unknown kind is not an error here.
absl::Status ValidateChildSpec(const supervision::ChildSpec& spec);

// The restart type, PERMANENT if unset.
supervision::Restart RestartOf(const supervision::ChildSpec& spec);

}  // namespace polis

#endif  // POLIS_GENSERVER_SUPERVISOR_CHILD_H_
