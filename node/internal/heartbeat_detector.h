// node/internal/heartbeat_detector.h — membership's FailureDetector over
// bus::Heartbeater: heartbeat datagrams on their own socket and thread.
//
// Owns the Heartbeater; passes its verdicts (a member went silent, a member
// was heard with news) to Membership, which posts them to the I/O thread.
//
// Thread-safety: as FailureDetector (all methods thread-safe). The
// heartbeat thread calls into Membership::OnSilent/OnHeard, which only post.
// Destroy it before the Membership it reports to.
//
// Example (NodeCore::Start):
//   POLIS_ASSIGN_OR_RETURN(detector_, HeartbeatDetector::Create(self, options, membership));
//   membership->set_detector(detector_.get());
#ifndef POLIS_NODE_INTERNAL_HEARTBEAT_DETECTOR_H_
#define POLIS_NODE_INTERNAL_HEARTBEAT_DETECTOR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bus/heartbeat.h"
#include "node/internal/local_node.h"
#include "node/internal/membership.h"

namespace polis::internal {

class HeartbeatDetector final : public FailureDetector, public bus::HeartbeatListener {
 public:
  // Binds the heartbeat socket next to `self.endpoint` and starts beating
  // (to no one until Watch). Errors as bus::Heartbeater::Create.
  static absl::StatusOr<std::unique_ptr<HeartbeatDetector>> Create(
      const LocalNode& self, const bus::HeartbeatOptions& options, Membership* membership);

  // FailureDetector.
  const std::string& address() const override { return beats_->address(); }
  std::string_view key() const override { return beats_->key(); }
  void Watch(const std::string& endpoint, uint64_t incarnation, const std::string& address,
             std::string_view key) override;
  void Unwatch(const std::string& endpoint) override { beats_->Unwatch(endpoint); }
  absl::Duration SinceHeard(const std::string& endpoint) const override;
  absl::Duration ClockOffset(const std::string& endpoint) const override;
  bus::HeartbeatCounters counters() const override { return beats_->counters(); }

  // bus::HeartbeatListener (heartbeat thread).
  void OnSilent(const std::string& endpoint, uint64_t incarnation,
                absl::Duration silent_for) override {
    membership_->OnSilent(endpoint, incarnation, silent_for);
  }
  void OnHeard(const std::string& endpoint, const wire::Heartbeat& beat) override {
    membership_->OnHeard(endpoint, beat.incarnation(), beat.state_version());
  }

 private:
  explicit HeartbeatDetector(Membership* membership) : membership_(membership) {}

  Membership* const membership_;
  std::unique_ptr<bus::Heartbeater> beats_;  // Last: its thread calls the above.
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_HEARTBEAT_DETECTOR_H_
