// genserver/server_kinds.h — server kinds registered by name at link time.
//
// A "kind" is a named factory of servers ("counter", "echo", "kv"). The
// generic node (`polis node --serve=counter`) and supervisor child specs in
// config files start servers by kind, so a user's own binary can host its
// own kinds just by linking a file that registers them.
//
// Thread-safety: Register runs during static initialization (or before any
// node starts); Create and List are thread-safe afterwards.
//
// Example (in counter.cc):
//   POLIS_REGISTER_SERVER_KIND("counter", [](const google::protobuf::Struct& args)
//       -> absl::StatusOr<std::unique_ptr<polis::Behaviour>> {
//     return std::make_unique<Counter>();
//   });
// Libraries holding registrations must be linked whole (CMake:
// "$<LINK_LIBRARY:WHOLE_ARCHIVE,polis_examples>"), or the linker drops them.
#ifndef POLIS_GENSERVER_SERVER_KINDS_H_
#define POLIS_GENSERVER_SERVER_KINDS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "node/behaviour.h"

namespace polis {

using ServerFactory = std::function<absl::StatusOr<std::unique_ptr<Behaviour>>(
    const google::protobuf::Struct& args)>;

class ServerKinds {
 public:
  // Registers `kind`. Returns false (and keeps the first) if already taken.
  static bool Register(const std::string& kind, ServerFactory factory);
  // A new server of `kind` configured by `args`. NOT_FOUND for an unknown
  // kind (the message lists the known ones); the factory's own error for bad
  // args (INVALID_ARGUMENT).
  static absl::StatusOr<std::unique_ptr<Behaviour>> Create(
      const std::string& kind, const google::protobuf::Struct& args = {});
  // Registered kinds, sorted.
  static std::vector<std::string> List();
  // Every kind whose Register was refused (already taken), in order, since
  // the program started: how a plugin loader learns that a library it
  // loaded registered a kind that was already there.
  static std::vector<std::string> Refused();
};

#define POLIS_KIND_CONCAT_INNER_(a, b) a##b
#define POLIS_KIND_CONCAT_(a, b) POLIS_KIND_CONCAT_INNER_(a, b)
#define POLIS_REGISTER_SERVER_KIND(kind, factory)                          \
  [[maybe_unused]] static const bool POLIS_KIND_CONCAT_(polis_kind_reg_, \
                                                        __LINE__) =       \
      ::polis::ServerKinds::Register(kind, factory)

}  // namespace polis

#endif  // POLIS_GENSERVER_SERVER_KINDS_H_
