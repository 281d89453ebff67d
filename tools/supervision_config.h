// tools/supervision_config.h — checks a supervision tree read from a file.
//
// Supervisor::Create checks one supervisor at a time and reports an unknown
// server kind only when the child starts. A config file deserves better:
// CheckSupervisionTree walks the whole tree before anything starts and names
// the offending field by its path, e.g.
//   a.textproto: supervision.children[1].supervisor.children[0] (id 'db'):
//   unknown server kind "nope" (known: counter, echo, kv)
//
// Thread-safety: pure functions (ServerKinds is read, thread-safe).
//
// Example:
//   std::set<std::string> names = {"root@a"};  // Names already taken.
//   absl::Status s = CheckSupervisionTree(config.supervision(),
//                                         "a.textproto: supervision", &names);
#ifndef POLIS_TOOLS_SUPERVISION_CONFIG_H_
#define POLIS_TOOLS_SUPERVISION_CONFIG_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "polis/supervisor.pb.h"

namespace polis::tools {

// OK if `spec` and every nested supervisor in it can be started: a known
// strategy, intensity >= 0, period_ms >= 0, a valid backoff; each child has
// an id unique among its siblings, one way to start, a known kind whose
// factory accepts its args (an instance is made and dropped, never
// started), shutdown_timeout_ms >= 0, max_mailbox (if set) in
// [0, kMaxMailboxLimit]; every registered name in the tree is new to
// `names` (which collects them). INVALID_ARGUMENT otherwise; the message
// starts with `path` (e.g. "FILE: supervision") and the field.
absl::Status CheckSupervisionTree(const supervision::SupervisorSpec& spec, const std::string& path,
                                  std::set<std::string>* names);

// One child, as CheckSupervisionTree checks each (its id is not compared
// with siblings here). `path` names it in the message.
absl::Status CheckChildSpec(const supervision::ChildSpec& child, const std::string& path,
                            std::set<std::string>* names);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_SUPERVISION_CONFIG_H_
