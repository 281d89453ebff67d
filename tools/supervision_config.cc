// tools/supervision_config.cc — see supervision_config.h.
#include "tools/supervision_config.h"

#include "absl/strings/str_cat.h"
#include "genserver/backoff.h"
#include "genserver/server_kinds.h"
#include "genserver/supervisor_child.h"

namespace polis::tools {
namespace {

namespace sv = supervision;

absl::Status Bad(const std::string& path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

// The policy fields shared by SupervisorSpec and DynamicSupervisorSpec.
absl::Status CheckPolicy(const std::string& path, bool has_intensity, int intensity,
                         int64_t period_ms, const sv::Backoff& backoff) {
  if (has_intensity && intensity < 0) return Bad(path, "intensity must be >= 0");
  if (period_ms < 0) return Bad(path, "period_ms must be >= 0");
  if (absl::Status s = ValidateBackoff(backoff); !s.ok()) {
    return Bad(absl::StrCat(path, ".backoff"), s.message());
  }
  return absl::OkStatus();
}

absl::Status CheckKind(const std::string& path, const sv::ChildSpec& child) {
  absl::StatusOr<std::unique_ptr<Behaviour>> made =
      ServerKinds::Create(child.kind(), child.args(), child.typed_args());
  if (!made.ok()) return Bad(path, made.status().message());
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckChildSpec(const sv::ChildSpec& child, const std::string& path,
                            std::set<std::string>* names) {
  if (child.shutdown_timeout_ms() < 0) return Bad(path, "shutdown_timeout_ms must be >= 0");
  if (child.has_max_mailbox() &&
      (child.max_mailbox() < 0 || child.max_mailbox() > kMaxMailboxLimit)) {
    return Bad(path, absl::StrCat("max_mailbox must be in [0, ", kMaxMailboxLimit,
                                  "] (0 = no bound), got ", child.max_mailbox()));
  }
  if (child.has_restart() && !sv::Restart_IsValid(child.restart())) {
    return Bad(path, absl::StrCat("unknown restart type ", child.restart()));
  }
  if (!child.name().empty() && !names->insert(child.name()).second) {
    return Bad(path, absl::StrCat("name '", child.name(),
                                  "' is used twice on this node (names must be unique)"));
  }
  switch (child.start_case()) {
    case sv::ChildSpec::kKind:
      return CheckKind(path, child);
    case sv::ChildSpec::kSupervisor:
      return CheckSupervisionTree(child.supervisor(), absl::StrCat(path, ".supervisor"), names);
    case sv::ChildSpec::kDynamicSupervisor: {
      const sv::DynamicSupervisorSpec& d = child.dynamic_supervisor();
      const std::string dpath = absl::StrCat(path, ".dynamic_supervisor");
      if (d.max_children() < 0) return Bad(dpath, "max_children must be >= 0");
      if (absl::Status s =
              CheckPolicy(dpath, d.has_intensity(), d.intensity(), d.period_ms(), d.backoff());
          !s.ok()) {
        return s;
      }
      // The template's args may be completed by start_child: check the kind
      // and the args' form and fields (a typed kind's missing fields are
      // defaults), without making a server.
      const sv::ChildSpec& t = d.child_template();
      if (t.start_case() != sv::ChildSpec::kKind) return absl::OkStatus();
      if (absl::Status s = ServerKinds::CheckArgs(t.kind(), t.args(), t.typed_args()); !s.ok()) {
        return Bad(absl::StrCat(dpath, ".child_template"), s.message());
      }
      return absl::OkStatus();
    }
    default:
      return Bad(path, "set one of kind, supervisor or dynamic_supervisor");
  }
}

absl::Status CheckSupervisionTree(const sv::SupervisorSpec& spec, const std::string& path,
                                  std::set<std::string>* names) {
  if (!sv::Strategy_IsValid(spec.strategy())) {
    return Bad(path, absl::StrCat("unknown strategy ", spec.strategy(),
                                  " (ONE_FOR_ONE, ONE_FOR_ALL or REST_FOR_ONE)"));
  }
  if (absl::Status s = CheckPolicy(path, spec.has_intensity(), spec.intensity(), spec.period_ms(),
                                   spec.backoff());
      !s.ok()) {
    return s;
  }
  std::set<std::string> ids;
  for (int i = 0; i < spec.children_size(); ++i) {
    const sv::ChildSpec& child = spec.children(i);
    std::string child_path = absl::StrCat(path, ".children[", i, "]");
    if (child.id().empty()) return Bad(child_path, "a child needs an id");
    absl::StrAppend(&child_path, " (id '", child.id(), "')");
    if (!ids.insert(child.id()).second) {
      return Bad(child_path, "duplicate child id (ids must be unique among siblings)");
    }
    if (absl::Status s = CheckChildSpec(child, child_path, names); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace polis::tools
