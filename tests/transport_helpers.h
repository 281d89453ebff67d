// tests/transport_helpers.h — driving a bus::Transport by hand in tests: an
// InboundHandler that records everything delivered, a loop that polls
// transports until a condition holds, and a ready-made envelope.
//
// For bus/ tests (target polis::testing_bus): needs polis::bus only.
//
// Thread-safety: a RecordingHandler is used by the polling thread only;
// PollUntil polls from the calling thread (a transport's owner).
//
// Example:
//   RecordingHandler h;
//   ASSERT_THAT(b->Send(ep, MakeEnvelope(1, "ping")), IsOk());
//   ASSERT_TRUE(PollUntil({{a.get(), &h}}, [&] { return h.envelopes.size() == 1; }));
//   EXPECT_EQ(h.envelopes[0].first.payload(), "ping");
#ifndef POLIS_TESTS_TRANSPORT_HELPERS_H_
#define POLIS_TESTS_TRANSPORT_HELPERS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "bus/transport.h"
#include "tests/wait.h"

namespace polis::testing {

// Keeps a copy of every envelope (with its return path), peer-down notice
// and bad input the transport hands it, in arrival order.
struct RecordingHandler : bus::InboundHandler {
  std::vector<std::pair<wire::Envelope, bus::ReturnPath>> envelopes;
  std::vector<std::pair<std::string, absl::Status>> downs;
  std::vector<absl::Status> bad;
  std::vector<std::string> bad_from;  // the Sender's Address() of each `bad`

  void OnEnvelope(const bus::EnvelopeView& envelope, const bus::ReturnPath& from, absl::Time,
                  const bus::Sender&) override {
    envelopes.emplace_back(bus::ToProto(envelope), from);
  }
  void OnPeerDown(const std::string& endpoint, const absl::Status& why) override {
    downs.emplace_back(endpoint, why);
  }
  void OnBadInput(const absl::Status& why, const bus::Sender& from) override {
    bad.push_back(why);
    bad_from.push_back(from.Address());
  }
};

// Polls every transport in turn (5 ms each: a poll returns as soon as
// input arrives) until `done` (true) or `limit` has passed (false).
inline bool PollUntil(std::vector<std::pair<bus::Transport*, bus::InboundHandler*>> transports,
                      const std::function<bool()>& done, absl::Duration limit = kWaitTimeout) {
  const absl::Time deadline = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    for (auto& [t, h] : transports) t->Poll(absl::Milliseconds(5), *h);
  }
  return true;
}

// A cast to "echo" of type polis.test.Bytes, with reference `ref`.
inline wire::Envelope MakeEnvelope(uint64_t ref, std::string payload = "hello") {
  wire::Envelope e;
  e.set_kind(wire::KIND_CAST);
  e.set_type("polis.test.Bytes");
  e.set_ref(ref);
  e.mutable_recipient()->set_name("echo");
  e.set_payload(std::move(payload));
  return e;
}

}  // namespace polis::testing

#endif  // POLIS_TESTS_TRANSPORT_HELPERS_H_
