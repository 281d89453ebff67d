// node/internal/bad_input_test.cc — every refusal the code base reports
// lands on its reason.
#include "node/internal/bad_input.h"

#include <gtest/gtest.h>

namespace polis::internal {
namespace {

BadInputReason C(const absl::Status& s) { return ClassifyBadInput(s); }

TEST(BadInputTest, ClassifiesTheRefusalsNodesReport) {
  EXPECT_EQ(C(absl::DataLossError("frame of 3 bytes is shorter than the 8-byte header")),
            BadInputReason::kFraming);
  EXPECT_EQ(C(absl::InvalidArgumentError("not a polis frame (bad magic)")),
            BadInputReason::kFraming);
  EXPECT_EQ(C(absl::InvalidArgumentError("frame has unknown flags 0x80")),
            BadInputReason::kFraming);
  EXPECT_EQ(C(absl::DataLossError("frame says another follows, but the message ends")),
            BadInputReason::kFraming);
  EXPECT_EQ(C(absl::FailedPreconditionError("frame has wire version 7; this node speaks 1")),
            BadInputReason::kVersion);
  EXPECT_EQ(C(absl::FailedPreconditionError("envelope has version 9; this node speaks 1")),
            BadInputReason::kVersion);
  EXPECT_EQ(C(absl::InvalidArgumentError("multipart message dropped: a polis message is one frame")),
            BadInputReason::kMultipart);
  EXPECT_EQ(C(absl::ResourceExhaustedError("envelope of 9 bytes is over the limit of 8")),
            BadInputReason::kOversized);
  EXPECT_EQ(C(absl::DataLossError("frame body is not a parsable polis.wire.Envelope")),
            BadInputReason::kUndecodable);
  EXPECT_EQ(C(absl::DataLossError("Hello does not parse")), BadInputReason::kUndecodable);
  EXPECT_EQ(C(absl::InvalidArgumentError("envelope of unknown kind 42")),
            BadInputReason::kUnknownKind);
  EXPECT_EQ(C(absl::InvalidArgumentError("unknown system message \"x\"")),
            BadInputReason::kUnknownSystem);
  EXPECT_EQ(C(absl::PermissionDeniedError("Hello about another node")), BadInputReason::kRefused);
  EXPECT_EQ(C(absl::InvalidArgumentError("Hello from \"x\" without its own entry")),
            BadInputReason::kOther);
}

TEST(BadInputTest, CountsPerReason) {
  BadInputCounts c;
  c.Count(BadInputReason::kFraming);
  c.Count(BadInputReason::kFraming);
  c.Count(BadInputReason::kOther);
  EXPECT_EQ(c.Get(BadInputReason::kFraming), 2u);
  EXPECT_EQ(c.Get(BadInputReason::kOther), 1u);
  EXPECT_EQ(c.Get(BadInputReason::kRefused), 0u);
  EXPECT_STREQ(BadInputReasonName(BadInputReason::kUnknownSystem), "unknown_system");
}

}  // namespace
}  // namespace polis::internal
