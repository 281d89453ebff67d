// bus/internal/test_handler.h — test-only InboundHandler that records what a
// transport delivered, plus a helper that polls until a condition holds.
//
// Thread-safety: a RecordingHandler is used by the polling thread only.
//
// Example:
//   RecordingHandler h;
//   ASSERT_TRUE(PollUntil({{t.get(), &h}}, [&] { return h.envelopes.size() == 1; }));
#ifndef POLIS_BUS_INTERNAL_TEST_HANDLER_H_
#define POLIS_BUS_INTERNAL_TEST_HANDLER_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "bus/transport.h"

namespace polis::bus::internal {

struct RecordingHandler : InboundHandler {
  std::vector<std::pair<wire::Envelope, ReturnPath>> envelopes;
  std::vector<std::pair<std::string, absl::Status>> downs;
  std::vector<absl::Status> bad;

  void OnEnvelope(const EnvelopeView& envelope, const ReturnPath& from, absl::Time) override {
    envelopes.emplace_back(ToProto(envelope), from);
  }
  void OnPeerDown(const std::string& endpoint, const absl::Status& why) override {
    downs.emplace_back(endpoint, why);
  }
  void OnBadInput(const absl::Status& why) override { bad.push_back(why); }
};

// Polls every transport in turn (short timeouts) until `done` or `limit`.
inline bool PollUntil(std::vector<std::pair<Transport*, InboundHandler*>> transports,
                      const std::function<bool()>& done,
                      absl::Duration limit = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    for (auto& [t, h] : transports) t->Poll(absl::Milliseconds(5), *h);
  }
  return true;
}

inline wire::Envelope MakeEnvelope(uint64_t ref, std::string payload = "hello") {
  wire::Envelope e;
  e.set_kind(wire::KIND_CAST);
  e.set_type("polis.test.Bytes");
  e.set_ref(ref);
  e.mutable_recipient()->set_name("echo");
  e.set_payload(std::move(payload));
  return e;
}

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_TEST_HANDLER_H_
