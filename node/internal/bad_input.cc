// node/internal/bad_input.cc — see bad_input.h.
#include "node/internal/bad_input.h"

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace polis::internal {

BadInputReason ClassifyBadInput(const absl::Status& why) {
  const absl::string_view m = why.message();
  switch (why.code()) {
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return BadInputReason::kRefused;
    case absl::StatusCode::kResourceExhausted:
      return BadInputReason::kOversized;
    case absl::StatusCode::kFailedPrecondition:
      if (absl::StrContains(m, "version")) return BadInputReason::kVersion;
      return BadInputReason::kOther;
    case absl::StatusCode::kDataLoss:
      if (absl::StrContains(m, "pars")) return BadInputReason::kUndecodable;  // parse, parsable
      return BadInputReason::kFraming;
    case absl::StatusCode::kInvalidArgument:
      if (absl::StartsWith(m, "multipart")) return BadInputReason::kMultipart;
      if (absl::StartsWith(m, "unknown system message")) return BadInputReason::kUnknownSystem;
      if (absl::StrContains(m, "unknown kind")) return BadInputReason::kUnknownKind;
      if (absl::StrContains(m, "frame")) return BadInputReason::kFraming;
      return BadInputReason::kOther;
    default:
      return BadInputReason::kOther;
  }
}

const char* BadInputReasonName(BadInputReason reason) {
  switch (reason) {
    case BadInputReason::kFraming: return "framing";
    case BadInputReason::kVersion: return "version";
    case BadInputReason::kMultipart: return "multipart";
    case BadInputReason::kOversized: return "oversized";
    case BadInputReason::kUndecodable: return "undecodable";
    case BadInputReason::kUnknownKind: return "unknown_kind";
    case BadInputReason::kUnknownSystem: return "unknown_system";
    case BadInputReason::kRefused: return "refused";
    case BadInputReason::kOther: return "other";
  }
  return "other";
}

}  // namespace polis::internal
