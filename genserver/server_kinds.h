// genserver/server_kinds.h — server kinds registered by name at link time.
//
// A "kind" is a named factory of servers ("counter", "echo", "kv"). The
// generic node (`polis node --serve=counter`) and supervisor child specs in
// config files start servers by kind, so a user's own binary can host its
// own kinds just by linking a file that registers them.
//
// A kind takes its arguments in one of two forms:
//  - typed: the kind declares a protobuf message `Args` of its own
//    (`Register<Args>`, POLIS_REGISTER_TYPED_SERVER_KIND). A spec gives it
//    either `typed_args` (a google.protobuf.Any holding exactly `Args`:
//    64-bit integers arrive exact) or `args` (a google.protobuf.Struct,
//    converted to `Args` through JSON: unknown fields, wrong types,
//    fractions for integer fields and integers of magnitude >= 2^53 for
//    64-bit fields, which a Struct's doubles cannot hold exactly, are
//    INVALID_ARGUMENT naming the kind and the field), never both.
//  - free-form: the factory gets the `args` Struct as is (`Register`,
//    POLIS_REGISTER_SERVER_KIND) and does its own checks; `typed_args` is
//    refused.
//
// Thread-safety: Register runs during static initialization (or before any
// node starts); Create, CheckArgs, ArgsType and List are thread-safe
// afterwards.
//
// Example (in counter.cc, with `message CounterArgs { int64 initial = 1; }`):
//   POLIS_REGISTER_TYPED_SERVER_KIND("counter", CounterArgs,
//       [](const CounterArgs& args) -> absl::StatusOr<std::unique_ptr<polis::Behaviour>> {
//         return std::make_unique<Counter>(args.initial());
//       });
//   // Free-form: POLIS_REGISTER_SERVER_KIND("raw", [](const google::protobuf::Struct& args) ...);
// Libraries holding registrations must be linked whole (CMake:
// "$<LINK_LIBRARY:WHOLE_ARCHIVE,polis_examples>"), or the linker drops them.
#ifndef POLIS_GENSERVER_SERVER_KINDS_H_
#define POLIS_GENSERVER_SERVER_KINDS_H_

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "node/behaviour.h"

namespace polis {

// The factory of a free-form kind: gets the spec's `args` Struct as is.
using ServerFactory =
    std::function<absl::StatusOr<std::unique_ptr<Behaviour>>(const google::protobuf::Struct& args)>;

// The factory of a typed kind: gets its own `Args` message, already filled
// from the spec's `typed_args` or `args`.
template <typename Args>
using TypedServerFactory =
    std::function<absl::StatusOr<std::unique_ptr<Behaviour>>(const Args& args)>;

class ServerKinds {
 public:
  // Registers the free-form kind `kind`. Returns false (and keeps the
  // first) if already taken.
  static bool Register(const std::string& kind, ServerFactory factory);

  // Registers the typed kind `kind`, whose arguments are the protobuf
  // message `Args` (a generated message type). Returns false (and keeps
  // the first) if already taken. Call as `Register<CounterArgs>(...)`.
  template <typename Args>
  static bool Register(const std::string& kind, TypedServerFactory<Args> factory) {
    static_assert(std::is_base_of_v<google::protobuf::Message, Args>,
                  "a kind's Args must be a generated protobuf message");
    return RegisterTyped(kind, Args::default_instance(),
                         [f = std::move(factory)](const google::protobuf::Message& m) {
                           return f(static_cast<const Args&>(m));
                         });
  }

  // A new server of `kind` configured by `args` and `typed_args` (a
  // spec's two fields; an empty Struct and an Any with no type_url count
  // as not given). NOT_FOUND for an unknown kind (the message lists the
  // known ones); INVALID_ARGUMENT for args that break the rules above;
  // the factory's own error otherwise.
  static absl::StatusOr<std::unique_ptr<Behaviour>> Create(
      const std::string& kind, const google::protobuf::Struct& args = {},
      const google::protobuf::Any& typed_args = {});

  // Checks `args` and `typed_args` against `kind` without making a server:
  // NOT_FOUND for an unknown kind, INVALID_ARGUMENT as Create. A free-form
  // kind's Struct is its factory's to judge, so only `typed_args` (refused)
  // and "both given" are checked for it.
  static absl::Status CheckArgs(const std::string& kind, const google::protobuf::Struct& args,
                                const google::protobuf::Any& typed_args);

  // The full name of `kind`'s Args message ("polis.examples.CounterArgs"),
  // or "google.protobuf.Struct" for a free-form kind. NOT_FOUND for an
  // unknown kind.
  static absl::StatusOr<std::string> ArgsType(const std::string& kind);

  // Registered kinds, sorted.
  static std::vector<std::string> List();
  // Every kind whose Register was refused (already taken), in order, since
  // the program started: how a plugin loader learns that a library it
  // loaded registered a kind that was already there.
  static std::vector<std::string> Refused();

 private:
  using MessageFactory = std::function<absl::StatusOr<std::unique_ptr<Behaviour>>(
      const google::protobuf::Message& args)>;
  // `prototype` must outlive the program (a generated default instance).
  static bool RegisterTyped(const std::string& kind, const google::protobuf::Message& prototype,
                            MessageFactory factory);
};

#define POLIS_KIND_CONCAT_INNER_(a, b) a##b
#define POLIS_KIND_CONCAT_(a, b) POLIS_KIND_CONCAT_INNER_(a, b)
#define POLIS_REGISTER_SERVER_KIND(kind, factory)                          \
  [[maybe_unused]] static const bool POLIS_KIND_CONCAT_(polis_kind_reg_, \
                                                        __LINE__) =       \
      ::polis::ServerKinds::Register(kind, factory)
// Above: a free-form kind; below: a typed kind, its arguments the message `ArgsType`.
#define POLIS_REGISTER_TYPED_SERVER_KIND(kind, ArgsType, factory)                    \
  [[maybe_unused]] static const bool POLIS_KIND_CONCAT_(polis_kind_reg_, __LINE__) = \
      ::polis::ServerKinds::Register<ArgsType>(kind, factory)

}  // namespace polis

#endif  // POLIS_GENSERVER_SERVER_KINDS_H_
