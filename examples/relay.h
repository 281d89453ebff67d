// examples/relay.h — the `relay` server: passes a call along a chain of
// servers, so that one request crosses several servers (and nodes). Made
// for tracing demos and tests: `polis trace` shows each hop.
//
// Calls take polis.examples.RelayRequest {via, request} and reply
// polis.examples.CounterReply (examples.proto):
//   via = [n]            calls counter n with `request`
//   via = [r, ..., n]    calls relay r with {via: [..., n], request}
//   via = []             INVALID_ARGUMENT; the server keeps running
// and answers with the counter's reply. The call to the next hop is
// awaited (co_await: no scheduler thread waits) with the default call
// timeout (kDefaultCallTimeout). A relay named twice in one chain is a call
// cycle (it takes no other message while it waits): DEADLINE_EXCEEDED. An
// error from downstream is this call's answer, with its code and details,
// its message prefixed by the hop ("relay_a -> relay_b: ..."; a chain of
// relays reads "relay_a -> relay_b -> counter_c: ...").
// Registered as server kind "relay"; takes no args.
//
// Thread-safety: a GenServer, stateless; it handles one call at a time
// (while it waits for the next hop it takes no other message).
//
// Example:
//   node->Spawn(std::make_unique<polis::examples::Relay>(), {.name = "relay_a"});
//   RelayRequest r; r.add_via("relay_b"); r.add_via("counter_c");
//   r.mutable_request()->set_add(1);
//   node->Call<CounterReply>("relay_a", r);   // counter_c's new value
#ifndef POLIS_EXAMPLES_RELAY_H_
#define POLIS_EXAMPLES_RELAY_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "examples/examples.pb.h"
#include "genserver/genserver.h"

namespace polis::examples {

class Relay : public GenServer {
 public:
  Relay();

 private:
  // The call handler: forwards `request` to its first hop.
  Task<absl::StatusOr<CounterReply>> Forward(const RelayRequest& request);
};

// `error` from hop `next`, as the answer of relay `self`: the same code and
// payloads, the message prefixed "self -> next: ", or "self -> " when it
// already starts with "next -> " (a relay's own prefix). Exposed for tests.
absl::Status AddHop(const absl::Status& error, absl::string_view self, absl::string_view next);

}  // namespace polis::examples

#endif  // POLIS_EXAMPLES_RELAY_H_
