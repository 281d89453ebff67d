#include "node/internal/outgoing.h"

#include <algorithm>

#include "base/clock.h"

namespace polis::internal {

OutgoingEnvelope::OutgoingEnvelope(wire::Kind kind, const Pid& sender, std::string_view to_node,
                                   const TraceContext& trace) {
  v_.version = bus::kWireVersion;
  v_.kind = kind;
  v_.sender = {.node = sender.node, .pid = sender.id, .present = true};
  v_.recipient = {.node = to_node, .present = true};
  if (!trace.trace_id.empty()) {
    v_.trace_id = trace.trace_id.view();
    v_.trace_flags = trace.flags();
  }
  v_.span_id = trace.span_id;
  v_.parent_span_id = trace.parent_span_id;
}

OutgoingEnvelope OutgoingEnvelope::System(std::string_view from_node,
                                          const google::protobuf::Message& payload) {
  OutgoingEnvelope out;
  out.v_.version = bus::kWireVersion;
  out.v_.kind = wire::KIND_SYSTEM;
  out.v_.sender = {.node = from_node, .present = true};
  out.Carrying(payload);
  return out;
}

OutgoingEnvelope OutgoingEnvelope::Of(const Letter& l, std::string_view to_node) {
  OutgoingEnvelope out(l.kind, l.sender, to_node, l.trace);
  if (l.to_name.empty()) {
    out.ToPid(l.to_pid);
  } else {
    out.To(l.to_name);
  }
  out.Carrying(l.message);
  if (l.kind == wire::KIND_CALL || l.kind == wire::KIND_SYSTEM) {
    out.ExpectingReply(l.from.ref, l.from.node, l.from.pid, l.from.deadline,
                       l.from.deadline < absl::InfiniteFuture() ? l.from.deadline - base::Now()
                                                                : absl::InfiniteDuration());
  }
  return out;
}

OutgoingEnvelope& OutgoingEnvelope::To(std::string_view name) {
  v_.recipient.name = name;
  return *this;
}

OutgoingEnvelope& OutgoingEnvelope::ToPid(uint64_t pid) {
  v_.recipient.pid = pid;
  return *this;
}

OutgoingEnvelope& OutgoingEnvelope::Carrying(const Message& message) {
  v_.type = message.type();
  v_.payload = message.bytes();
  return *this;
}

OutgoingEnvelope& OutgoingEnvelope::Carrying(const google::protobuf::Message& message) {
  v_.type = message.GetDescriptor()->full_name();
  v_.payload_message = &message;
  return *this;
}

OutgoingEnvelope& OutgoingEnvelope::ExpectingReply(uint64_t ref, std::string_view reply_node,
                                                   uint64_t reply_pid, absl::Time deadline,
                                                   absl::Duration time_left) {
  v_.ref = ref;
  v_.reply_to = {.node = reply_node, .pid = reply_pid, .present = true};
  if (deadline < absl::InfiniteFuture()) {
    // Both clocks' views of one instant (bus/WIRE.md, "Deadlines"): the
    // time left, which the receiver counts from when it reads the call, and
    // the instant itself on the wall clock (base::Now() reads it).
    v_.timeout_us = std::max<int64_t>(1, absl::ToInt64Microseconds(time_left));
    v_.deadline_unix_us = std::max<int64_t>(1, absl::ToUnixMicros(deadline));
  }
  return *this;
}

OutgoingEnvelope& OutgoingEnvelope::Answering(const From& to, const absl::Status& status,
                                              const Message& reply) {
  v_.recipient.pid = to.pid;
  v_.ref = to.ref;
  if (status.ok()) {
    Carrying(reply);
  } else {
    v_.status_code = static_cast<int32_t>(status.code());
    const absl::string_view m = status.message();
    v_.status_message = std::string_view(m.data(), m.size());
    v_.status_details = bus::StatusDetailsView(status);  // its payloads; `status` outlives v_
  }
  return *this;
}

}  // namespace polis::internal
