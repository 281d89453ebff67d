// base/status_macros.h — early-return helpers for absl::Status.
//
// Debian 12's Abseil (20220623) has no RETURN_IF_ERROR / ASSIGN_OR_RETURN.
// These are the small equivalents every polis layer uses; the names follow
// what Abseil later adopted so an upgrade is a rename.
//
// Thread-safety: macros only; no state.
//
// Example:
//   absl::StatusOr<int> Parse(absl::string_view s);
//   absl::Status Use(absl::string_view s) {
//     POLIS_ASSIGN_OR_RETURN(int n, Parse(s));
//     POLIS_RETURN_IF_ERROR(Check(n));
//     return absl::OkStatus();
//   }
#ifndef POLIS_BASE_STATUS_MACROS_H_
#define POLIS_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define POLIS_RETURN_IF_ERROR(expr)                 \
  do {                                              \
    ::absl::Status polis_status_ = (expr);          \
    if (!polis_status_.ok()) return polis_status_;  \
  } while (0)

#define POLIS_STATUS_CONCAT_INNER_(a, b) a##b
#define POLIS_STATUS_CONCAT_(a, b) POLIS_STATUS_CONCAT_INNER_(a, b)

#define POLIS_ASSIGN_OR_RETURN(lhs, expr) \
  POLIS_ASSIGN_OR_RETURN_IMPL_(POLIS_STATUS_CONCAT_(polis_statusor_, __LINE__), lhs, expr)

#define POLIS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

#endif  // POLIS_BASE_STATUS_MACROS_H_
