// node/internal/outgoing.h — the one way an envelope leaving this node is
// built.
//
// Every envelope this node puts on the wire is an OutgoingEnvelope: a cast,
// info or call (made from a Letter, or straight from a handler's protobuf
// on the I/O thread's fast paths), a reply, and the system messages (Hello,
// NamesChanged, Goodbye). The constructor stamps what every envelope
// carries — the wire version (bus::kWireVersion, the one constant), kind,
// sender, recipient node and trace — and the setters add the rest. The
// result is a bus::EnvelopeView, which the transport encodes straight into
// its outgoing batch: no protobuf object, no copy of the payload.
//
// Thread-safety: a value. Its view's strings point into the arguments given
// (the sender, names, the payload, the trace's bytes), which must outlive
// its use; Transport::Send and Channel::Send encode at once.
//
// Example (a call from a process, the fast path):
//   OutgoingEnvelope out(wire::KIND_CALL, caller->pid(), route.node, trace);
//   out.To(name).Carrying(request).ExpectingReply(ref, self.name, caller->pid().id, deadline,
//                                                 timeout);
//   transport.Send(route.endpoint, out.view());
#ifndef POLIS_NODE_INTERNAL_OUTGOING_H_
#define POLIS_NODE_INTERNAL_OUTGOING_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bus/envelope.h"
#include "google/protobuf/message.h"
#include "node/internal/letter.h"
#include "node/message.h"

namespace polis::internal {

class OutgoingEnvelope {
 public:
  // An envelope of `kind` from `sender` to node `to_node`, in `trace` (an
  // untraced one carries its span ids but no trace id).
  OutgoingEnvelope(wire::Kind kind, const Pid& sender, std::string_view to_node,
                   const TraceContext& trace);
  // A system message (KIND_SYSTEM, no recipient, no trace) from node
  // `from_node` carrying `payload`.
  static OutgoingEnvelope System(std::string_view from_node,
                                 const google::protobuf::Message& payload);
  // The envelope for letter `l`, bound for node `to_node`. A call's timeout
  // is its deadline less now.
  static OutgoingEnvelope Of(const Letter& l, std::string_view to_node);

  // Addressed to server `name` / to process `pid` of the recipient node.
  OutgoingEnvelope& To(std::string_view name);
  OutgoingEnvelope& ToPid(uint64_t pid);
  // The payload: bytes already serialized, or a protobuf the codec
  // serializes straight into the batch (it must not change until sent).
  OutgoingEnvelope& Carrying(const Message& message);
  OutgoingEnvelope& Carrying(const google::protobuf::Message& message);
  // A request awaiting a reply: `ref` to process `reply_pid` on node
  // `reply_node`, whose caller gives up at `deadline` (a base::Now()
  // instant, i.e. on the wall clock; InfiniteFuture: never), `time_left`
  // from now (passed, not computed, so that a caller that knows it needs no
  // clock read). Sets timeout_us and deadline_unix_us (bus/WIRE.md,
  // "Deadlines").
  OutgoingEnvelope& ExpectingReply(uint64_t ref, std::string_view reply_node, uint64_t reply_pid,
                                   absl::Time deadline, absl::Duration time_left);
  // The answer to call `to`: `reply` if `status` is OK, else the status
  // with its payloads as details (its message must already be valid UTF-8:
  // the wire's is a proto3 string).
  OutgoingEnvelope& Answering(const From& to, const absl::Status& status, const Message& reply);

  const bus::EnvelopeView& view() const { return v_; }

 private:
  OutgoingEnvelope() = default;
  bus::EnvelopeView v_;
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_OUTGOING_H_
