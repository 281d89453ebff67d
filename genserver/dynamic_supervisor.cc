// genserver/dynamic_supervisor.cc — see dynamic_supervisor.h.
#include "genserver/dynamic_supervisor.h"

#include <utility>

namespace polis {

absl::StatusOr<std::unique_ptr<Supervisor>> DynamicSupervisor::Create(
    const supervision::DynamicSupervisorSpec& spec) {
  Supervisor::Options o;
  o.strategy = supervision::ONE_FOR_ONE;
  if (spec.has_intensity()) o.intensity = spec.intensity();
  if (spec.period_ms() != 0) o.period = absl::Milliseconds(spec.period_ms());
  o.backoff = spec.backoff();
  o.dynamic = true;
  o.max_children = spec.max_children();
  o.child_template = spec.child_template();
  if (o.child_template.shutdown_timeout_ms() < 0) {
    return absl::InvalidArgumentError("child_template.shutdown_timeout_ms must be >= 0");
  }
  return Supervisor::Create(std::move(o), {});
}

}  // namespace polis
