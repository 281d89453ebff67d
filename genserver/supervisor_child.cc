// genserver/supervisor_child.cc — see supervisor_child.h.
#include "genserver/supervisor_child.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "genserver/dynamic_supervisor.h"
#include "genserver/server_kinds.h"
#include "genserver/supervisor.h"

namespace polis {

ChildDef MakeChild(std::string id, ChildFactory factory, const ChildOptions& options) {
  ChildDef def;
  def.spec.set_id(std::move(id));
  def.spec.set_name(options.name);
  def.spec.set_restart(options.restart);
  def.spec.set_shutdown_timeout_ms(absl::ToInt64Milliseconds(options.shutdown_timeout));
  def.factory = std::move(factory);
  return def;
}

absl::Status ValidateChildSpec(const supervision::ChildSpec& spec) {
  if (spec.id().empty()) return absl::InvalidArgumentError("child spec without an id");
  if (spec.shutdown_timeout_ms() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("child '", spec.id(), "': shutdown_timeout_ms must be >= 0"));
  }
  if (spec.has_max_mailbox() && (spec.max_mailbox() < 0 || spec.max_mailbox() > kMaxMailboxLimit)) {
    return absl::InvalidArgumentError(
        absl::StrCat("child '", spec.id(), "': max_mailbox must be in [0, ", kMaxMailboxLimit,
                     "] (0 = no bound), got ", spec.max_mailbox()));
  }
  if (spec.start_case() == supervision::ChildSpec::kKind) {
    // A kind not registered (yet) is reported when the child starts.
    absl::Status args = ServerKinds::CheckArgs(spec.kind(), spec.args(), spec.typed_args());
    if (!args.ok() && args.code() != absl::StatusCode::kNotFound) {
      return absl::Status(args.code(), absl::StrCat("child '", spec.id(), "': ", args.message()));
    }
  }
  return absl::OkStatus();
}

int64_t MaxMailboxOf(const supervision::ChildSpec& spec) {
  return spec.has_max_mailbox() ? spec.max_mailbox() : SpawnOptions::kDefaultMaxMailbox;
}

supervision::Restart RestartOf(const supervision::ChildSpec& spec) {
  return spec.has_restart() ? spec.restart() : supervision::PERMANENT;
}

absl::StatusOr<ChildDef> ChildFromSpec(const supervision::ChildSpec& spec) {
  if (absl::Status s = ValidateChildSpec(spec); !s.ok()) return s;
  ChildDef def;
  def.spec = spec;
  switch (spec.start_case()) {
    case supervision::ChildSpec::kKind:
      def.factory = [kind = spec.kind(), args = spec.args(), typed = spec.typed_args()]() {
        return ServerKinds::Create(kind, args, typed);
      };
      break;
    case supervision::ChildSpec::kSupervisor: {
      // Validate now, so a bad nested spec fails the whole tree at once.
      if (absl::Status s = Supervisor::Create(spec.supervisor()).status(); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat("child '", spec.id(), "': ", s.message()));
      }
      def.factory = [sup = spec.supervisor()]() -> absl::StatusOr<std::unique_ptr<Behaviour>> {
        absl::StatusOr<std::unique_ptr<Supervisor>> s = Supervisor::Create(sup);
        if (!s.ok()) return s.status();
        return std::unique_ptr<Behaviour>(std::move(*s));
      };
      break;
    }
    case supervision::ChildSpec::kDynamicSupervisor: {
      if (absl::Status s = DynamicSupervisor::Create(spec.dynamic_supervisor()).status();
          !s.ok()) {
        return absl::Status(s.code(), absl::StrCat("child '", spec.id(), "': ", s.message()));
      }
      def.factory = [sup = spec.dynamic_supervisor()]()
          -> absl::StatusOr<std::unique_ptr<Behaviour>> {
        absl::StatusOr<std::unique_ptr<Supervisor>> s = DynamicSupervisor::Create(sup);
        if (!s.ok()) return s.status();
        return std::unique_ptr<Behaviour>(std::move(*s));
      };
      break;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "child '", spec.id(), "': set one of kind, supervisor or dynamic_supervisor"));
  }
  return def;
}

}  // namespace polis
