// node/internal/letter.h — one message inside a node (a mailbox entry).
//
// A Letter is the in-memory form of a wire::Envelope: local sends build a
// Letter directly (no serialization of the envelope); remote sends hand the
// transport a view of it (OutgoingEnvelope::Of, encoded straight into the
// outgoing batch) and make one from the view of a received frame
// (FromView). Replies are never Letters: they complete a CallSlot, or are
// encoded from their parts (Router::SendReply).
//
// Thread-safety: a Letter is owned by one thread at a time (the sender until
// it is pushed into a mailbox, then the receiving process).
#ifndef POLIS_NODE_INTERNAL_LETTER_H_
#define POLIS_NODE_INTERNAL_LETTER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bus/envelope.h"
#include "bus/transport.h"
#include "node/message.h"
#include "polis/envelope.pb.h"

namespace polis::internal {

// Intrusive link of the mailbox queue (kept apart so the queue's stub node
// costs 8 bytes, not a whole Letter).
struct MailboxLink {
  std::atomic<MailboxLink*> next{nullptr};
};

// The Incoming part (kind, message, sender, from, trace) is what the
// receiving process's handler sees: the process hands it the letter itself,
// no copy. Its runtime_notice (a ProcessDown, NodeDown or NameLost the
// runtime made) is set only by Router::Inform, or by NodeCore for a
// ProcessDown a node peer sent about one of its own processes; never from a
// user's message.
struct Letter : MailboxLink, Incoming {
  std::string to_name;         // Recipient by name, or
  uint64_t to_pid = 0;         // by pid (local).

  // Empties every field, keeping the strings' buffers (up to
  // kKeptCapacity bytes each) for the next letter built in this one.
  void Clear();
  static constexpr size_t kKeptCapacity = 512;
};

// Hands a finished letter back to this thread's free list (bounded; past it,
// deletes). Letters are recycled whole, buffers included: a letter decoded
// from the wire reuses the payload buffer of one handled before, so a steady
// stream of small messages costs no malloc per message.
struct LetterRecycler {
  void operator()(Letter* l) const noexcept;
};
using LetterPtr = std::unique_ptr<Letter, LetterRecycler>;

// An empty letter, from this thread's free list if it has one.
LetterPtr NewLetter();

// From the wire (copies what it keeps); `path` is the connection it arrived
// on, `received` when (a base::Now() reading). A call's deadline is
// ReceivedCallDeadline's.
LetterPtr FromView(const bus::EnvelopeView& env, const bus::ReturnPath& path,
                   absl::Time received);
// When a call read at `received` (a base::Now() reading: the wall clock)
// expires: the earlier of `received` + its timeout_us and its caller's
// deadline_unix_us + bus::kClockSkewAllowance; InfiniteFuture if it carries
// neither (bus/WIRE.md, "Deadlines"). At or before `received` if the
// caller's deadline passed more than the allowance ago: the process drops
// the call at dequeue (Process::StartNextLetter), like any expired call.
absl::Time ReceivedCallDeadline(const bus::EnvelopeView& env, absl::Time received);
// What a KIND_REPLY envelope answers: its status if not OK, else its payload.
absl::StatusOr<Message> ReplyOf(const bus::EnvelopeView& env);

// A fresh random 64-bit id (span ids), never 0.
uint64_t RandomId();
// A fresh random trace id.
TraceId NewTraceId();
// (The trace context of a message sent: Tracer::Child, tracer.h.)

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_LETTER_H_
