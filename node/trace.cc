#include "node/trace.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace polis {

Sampler::Sampler(double ratio) : ratio_(std::clamp(ratio, 0.0, 1.0)) {
  // ratio 1 samples every id, 0 none; between, ids whose low 8 bytes (as a
  // number) are below ratio * 2^64.
  if (ratio_ >= 1.0) {
    threshold_ = std::numeric_limits<uint64_t>::max();
  } else {
    threshold_ = static_cast<uint64_t>(std::ldexp(ratio_, 64));
  }
}

absl::StatusOr<Sampler> Sampler::Parse(std::string_view text) {
  if (text == "always") return Always();
  if (text == "never") return Never();
  double r;
  if (!absl::SimpleAtod(absl::string_view(text.data(), text.size()), &r) || !(r >= 0.0) ||
      r > 1.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("trace sampling \"", absl::string_view(text.data(), text.size()),
                     "\": expected always, never, or a ratio between 0 and 1 (e.g. 0.1)"));
  }
  return Ratio(r);
}

bool Sampler::Sample(const TraceId& id) const {
  if (ratio_ >= 1.0) return true;
  if (ratio_ <= 0.0) return false;
  uint64_t low;
  std::memcpy(&low, id.bytes.data() + 8, sizeof(low));
  return low < threshold_;
}

std::string Sampler::ToString() const {
  if (ratio_ >= 1.0) return "always";
  if (ratio_ <= 0.0) return "never";
  return absl::StrCat(ratio_);
}

}  // namespace polis
