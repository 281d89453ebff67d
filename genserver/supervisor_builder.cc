// genserver/supervisor_builder.cc — see supervisor_builder.h.
#include "genserver/supervisor_builder.h"

#include <utility>

namespace polis {

SupervisorBuilder::SupervisorBuilder(const supervision::SupervisorSpec& spec) {
  absl::StatusOr<Supervisor::Options> o = Supervisor::OptionsFromSpec(spec);
  if (!o.ok()) {
    error_ = o.status();
    return;
  }
  options_ = *std::move(o);
  for (const supervision::ChildSpec& c : spec.children()) Add(c);
}

SupervisorBuilder& SupervisorBuilder::strategy(supervision::Strategy strategy) {
  options_.strategy = strategy;
  return *this;
}

SupervisorBuilder& SupervisorBuilder::intensity(int max_restarts, absl::Duration period) {
  options_.intensity = max_restarts;
  options_.period = period;
  return *this;
}

SupervisorBuilder& SupervisorBuilder::backoff(supervision::Backoff backoff) {
  options_.backoff = std::move(backoff);
  return *this;
}

SupervisorBuilder& SupervisorBuilder::Add(std::string id, ChildFactory factory,
                                          const ChildOptions& options) {
  children_.push_back(MakeChild(std::move(id), std::move(factory), options));
  return *this;
}

SupervisorBuilder& SupervisorBuilder::Add(const supervision::ChildSpec& spec) {
  absl::StatusOr<ChildDef> def = ChildFromSpec(spec);
  if (!def.ok()) {
    if (error_.ok()) error_ = def.status();
    return *this;
  }
  children_.push_back(*std::move(def));
  return *this;
}

SupervisorBuilder& SupervisorBuilder::AddSupervisor(std::string id, SupervisorBuilder tree,
                                                    ChildOptions options) {
  if (!tree.error_.ok() && error_.ok()) error_ = tree.error_;
  ChildDef def = MakeChild(
      std::move(id),
      [tree = std::move(tree)]() -> absl::StatusOr<std::unique_ptr<Behaviour>> {
        absl::StatusOr<std::unique_ptr<Supervisor>> s = tree.Build();
        if (!s.ok()) return s.status();
        return std::unique_ptr<Behaviour>(std::move(*s));
      },
      options);
  def.spec.mutable_supervisor();  // Marks it as a supervisor in which_children.
  children_.push_back(std::move(def));
  return *this;
}

absl::StatusOr<std::unique_ptr<Supervisor>> SupervisorBuilder::Build() const {
  if (!error_.ok()) return error_;
  return Supervisor::Create(options_, children_);
}

}  // namespace polis
