// node/internal/bad_input.h — why a node refused a frame or message, as one
// of a fixed set of reasons (the `reason` label of polis_bad_input_total).
//
// Everything a peer sends that a node refuses reaches the TrustGate as a
// status (trust.h: from bus/frame_codec.cc and the transports through
// InboundHandler::OnBadInput, membership, monitors, NodeCore, the trust
// rules; counted per peer too, peer_refusals.h). ClassifyBadInput maps it to
// a reason by code and message; BadInputCounts counts per reason with one
// relaxed fetch_add (on the bad path only: a good envelope costs nothing).
//
// Thread-safety: ClassifyBadInput is pure; BadInputCounts is thread-safe.
//
// Example:
//   BadInputCounts counts;
//   BadInputReason r = ClassifyBadInput(absl::InvalidArgumentError(
//       "not a polis frame (bad magic)"));             // kFraming
//   counts.Count(r);
//   BadInputReasonName(r);                            // "framing"
#ifndef POLIS_NODE_INTERNAL_BAD_INPUT_H_
#define POLIS_NODE_INTERNAL_BAD_INPUT_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"

namespace polis::internal {

enum class BadInputReason {
  kFraming,        // Bad magic, flags, lengths, truncated batch (DATA_LOSS / INVALID_ARGUMENT).
  kVersion,        // Unknown wire version (frame, envelope or Hello).
  kMultipart,      // A multipart ZeroMQ message.
  kOversized,      // An envelope over max_message_bytes (RESOURCE_EXHAUSTED).
  kUndecodable,    // A body or payload that does not parse.
  kUnknownKind,    // An envelope kind this node does not know.
  kUnknownSystem,  // A system message type this node does not know.
  kRefused,        // Refused by the trust rules (PERMISSION_DENIED, UNAUTHENTICATED).
  kOther,          // Anything else (a malformed Hello, ...).
};
inline constexpr size_t kBadInputReasons = 9;

BadInputReason ClassifyBadInput(const absl::Status& why);

// "framing", "version", "multipart", "oversized", "undecodable",
// "unknown_kind", "unknown_system", "refused", "other".
const char* BadInputReasonName(BadInputReason reason);

class BadInputCounts {
 public:
  void Count(BadInputReason r) {
    counts_[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t Get(BadInputReason r) const {
    return counts_[static_cast<size_t>(r)].load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<uint64_t>, kBadInputReasons> counts_{};
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_BAD_INPUT_H_
