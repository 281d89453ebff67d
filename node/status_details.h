// node/status_details.h — typed details on an error, as gRPC's
// google.rpc.Status carries them.
//
// An error's code says what kind of failure it was and its message says it
// to a person; a caller that must act on the failure (offer a smaller
// withdrawal, retry after a delay, fix the named field) needs more, in a
// form a program can read. A handler attaches a protobuf message to its
// absl::Status as a payload, under "type.googleapis.com/" + the message's
// full name; the payloads cross the wire with the reply (polis.wire.Envelope
// .status_details, bus/WIRE.md "Errors: code, message and details"), so the
// caller's status has them too, whether the server is local or remote, and
// whether the caller is a plain thread or another server's handler.
//
// What goes where: the message is for people and logs (any text; bytes
// that are not UTF-8 arrive as U+FFFD); a detail is for programs (any
// protobuf message; one per type). Details count toward the envelope size
// limit, so keep them small. Plain absl payloads (SetPayload with any UTF-8
// type URL) travel the same way; these helpers only add the naming and the
// (de)serialization of protobuf messages.
//
// Thread-safety: free functions on values; safe from any thread.
//
// Example:
//   // In a server's HandleCall:
//   InsufficientFunds f;
//   f.set_balance(balance_);
//   co_return Reply::Error(polis::WithDetail(absl::FailedPreconditionError("balance too low"), f));
//   // In the caller, on any node:
//   absl::StatusOr<Receipt> r = node->Call<Receipt>("bank", withdraw);
//   if (std::optional<InsufficientFunds> f = polis::GetDetail<InsufficientFunds>(r.status())) {
//     Offer(f->balance());
//   }
#ifndef POLIS_NODE_STATUS_DETAILS_H_
#define POLIS_NODE_STATUS_DETAILS_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace polis {

// What a detail's type URL starts with (as google.protobuf.Any::PackFrom).
inline constexpr std::string_view kDetailTypeUrlPrefix = "type.googleapis.com/";

// The type URL a detail of message type `type` is stored under:
// "type.googleapis.com/" + its full name, e.g.
// "type.googleapis.com/bank.InsufficientFunds".
std::string DetailTypeUrl(const google::protobuf::Descriptor& type);

// `status` with `detail` attached: its serialization as the payload under
// DetailTypeUrl(its type), replacing a detail of the same type already
// there. Code, message and other payloads are kept. An OK status is returned
// unchanged (absl::Status holds no payloads when OK: an OK reply has no
// details).
absl::Status WithDetail(absl::Status status, const google::protobuf::Message& detail);

// Parses the detail of `out`'s type that `status` carries into `*out`. True
// on success; false if `status` carries none (e.g. it is OK, or the server
// attached another type), or if its bytes do not parse as that type (then
// `*out` is unspecified).
bool UnpackDetail(const absl::Status& status, google::protobuf::Message* out);

// The detail of type T that `status` carries, or nullopt (none, or it does
// not parse as a T). T is a generated protobuf message type.
template <typename T>
std::optional<T> GetDetail(const absl::Status& status) {
  T detail;
  if (!UnpackDetail(status, &detail)) return std::nullopt;
  return detail;
}

}  // namespace polis

#endif  // POLIS_NODE_STATUS_DETAILS_H_
