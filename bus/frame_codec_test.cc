// bus/frame_codec_test.cc — round trips and every refusal of DecodeFrame.
#include "bus/frame_codec.h"

#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "bus/transport.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace polis::bus {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;

wire::Envelope FullEnvelope() {
  wire::Envelope e;
  e.set_version(kWireVersion);
  e.set_kind(wire::KIND_CALL);
  e.set_type("polis.examples.CounterRequest");
  e.mutable_sender()->set_node("a");
  e.mutable_sender()->set_pid(7);
  e.mutable_recipient()->set_name("counter");
  e.set_payload(std::string(100, '\x01'));
  e.set_trace_id(std::string(16, 't'));
  e.set_span_id(0x1122334455667788);
  e.set_parent_span_id(42);
  e.set_ref(99);
  e.mutable_reply_to()->set_pid(7);
  e.set_timeout_us(5'000'000);
  e.set_status_code(3);
  e.set_status_message("bad");
  return e;
}

std::string Encode(const wire::Envelope& e) {
  std::string frame;
  EXPECT_THAT(EncodeFrame(e, kDefaultMaxMessageBytes, &frame), IsOk());
  return frame;
}

absl::Status Decode(const std::string& frame, int64_t max = kDefaultMaxMessageBytes) {
  EnvelopeView out;
  return DecodeFrame(frame.data(), frame.size(), max, &out);
}

TEST(FrameCodecTest, RoundTripKeepsEveryField) {
  const wire::Envelope in = FullEnvelope();
  const std::string frame = Encode(in);
  EnvelopeView out;
  ASSERT_THAT(DecodeFrame(frame.data(), frame.size(), kDefaultMaxMessageBytes, &out), IsOk());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(in, ToProto(out)));
}

TEST(FrameCodecTest, EncodesIntoCallerBufferWithTheDocumentedHeader) {
  const wire::Envelope in = FullEnvelope();
  absl::StatusOr<size_t> size = FrameSize(in, kDefaultMaxMessageBytes);
  ASSERT_THAT(size, IsOk());
  EXPECT_EQ(*size, kFrameHeaderBytes + in.ByteSizeLong());
  std::string buf(*size, '\0');
  EncodeFrameTo(in, *size, buf.data());
  EXPECT_EQ(buf, Encode(in));
  const size_t body = *size - kFrameHeaderBytes;
  EXPECT_EQ(static_cast<uint8_t>(buf[0]), 'P');
  EXPECT_EQ(static_cast<uint8_t>(buf[1]), 'L');
  EXPECT_EQ(static_cast<uint8_t>(buf[2]), 1);  // wire version
  EXPECT_EQ(static_cast<uint8_t>(buf[3]), 0);  // flags
  EXPECT_EQ(static_cast<uint8_t>(buf[4]), body & 0xFF);  // little-endian length
  EXPECT_EQ(static_cast<uint8_t>(buf[5]), (body >> 8) & 0xFF);
  EXPECT_EQ(static_cast<uint8_t>(buf[6]), 0);
  EXPECT_EQ(static_cast<uint8_t>(buf[7]), 0);
}

TEST(FrameCodecTest, EmptyEnvelopeIsJustAHeaderAndGetsTheVersion) {
  const std::string frame = Encode(wire::Envelope());
  EXPECT_EQ(frame.size(), kFrameHeaderBytes);
  EnvelopeView out;
  ASSERT_THAT(DecodeFrame(frame.data(), frame.size(), 100, &out), IsOk());
  EXPECT_EQ(out.version, kWireVersion);
}

TEST(FrameCodecTest, EncodeRefusesOversizedBeforeWriting) {
  wire::Envelope e;
  e.set_payload(std::string(200, 'x'));
  std::string frame = "untouched";
  EXPECT_THAT(EncodeFrame(e, 100, &frame), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(frame, "untouched");
  EXPECT_THAT(FrameSize(e, 100), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(FrameSize(e, e.ByteSizeLong()), IsOk());  // the limit is inclusive
}

// FrameRoom is room enough, refuses what FrameSize refuses (with its
// message), and is exact where its bound would pass the limit.
TEST(FrameCodecTest, FrameRoomIsEnoughAndRefusesLikeFrameSize) {
  const wire::Envelope full = FullEnvelope();
  const size_t exact = FrameSize(full, kDefaultMaxMessageBytes).value();
  const size_t body = exact - kFrameHeaderBytes;
  absl::StatusOr<size_t> room = FrameRoom(full, kDefaultMaxMessageBytes);
  ASSERT_THAT(room, IsOk());
  EXPECT_GE(*room, exact);
  // At the limit (inclusive) and just under it: the exact size, or refused.
  EXPECT_EQ(FrameRoom(full, static_cast<int64_t>(body)).value(), exact);
  const absl::StatusOr<size_t> over = FrameRoom(full, static_cast<int64_t>(body) - 1);
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(over.status(), FrameSize(full, static_cast<int64_t>(body) - 1).status());
}

TEST(FrameCodecTest, DecodeRefusesOversized) {
  wire::Envelope e;
  e.set_payload(std::string(200, 'x'));
  EXPECT_THAT(Decode(Encode(e), 100), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(FrameCodecTest, StatusDetailsCountTowardTheSizeLimit) {
  absl::Status status = absl::FailedPreconditionError("small message");
  status.SetPayload("type.googleapis.com/big.Detail", absl::Cord(std::string(200, 'd')));
  EnvelopeView v;
  v.kind = wire::KIND_REPLY;
  v.status_code = static_cast<int32_t>(status.code());
  v.status_message = "small message";
  v.status_details = StatusDetailsView(status);
  // Sender: refused before anything is written.
  EXPECT_THAT(FrameSize(v, 100), StatusIs(absl::StatusCode::kResourceExhausted));
  std::string frame = "untouched";
  EXPECT_THAT(EncodeFrame(v, 100, &frame), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(frame, "untouched");
  const wire::Envelope e = ToProto(v);
  EXPECT_THAT(FrameSize(v, static_cast<int64_t>(e.ByteSizeLong())), IsOk());  // inclusive
  // Receiver: refused by the declared length.
  ASSERT_THAT(EncodeFrame(v, kDefaultMaxMessageBytes, &frame), IsOk());
  EXPECT_THAT(Decode(frame, 100), StatusIs(absl::StatusCode::kResourceExhausted));
  EnvelopeView out;
  ASSERT_THAT(DecodeFrame(frame.data(), frame.size(), kDefaultMaxMessageBytes, &out), IsOk());
  EXPECT_EQ(out.status_details.size(), 1u);
}

TEST(FrameCodecTest, MalformedStatusDetailsAreDataLoss) {
  // A detail whose type URL is not UTF-8 (a proto3 string): the body does
  // not parse, like any other unparsable envelope.
  wire::Envelope e;
  e.set_status_code(9);
  e.add_status_details()->set_type_url("bad \xFF url");
  std::string frame;
  {
    google::protobuf::LogSilencer quiet;  // libprotobuf logs the non-UTF-8 string
    frame = Encode(e);
  }
  EXPECT_THAT(Decode(frame), StatusIs(absl::StatusCode::kDataLoss));
  // A detail cut short.
  std::string cut = Encode(wire::Envelope());
  const std::string body = "\x7A\x05\x0A\x03t/";  // Any{type_url: "t/" + 1 byte missing}
  cut += body;
  cut[4] = static_cast<char>(body.size());
  EXPECT_THAT(Decode(cut), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FrameCodecTest, DecodeRefusesShortFrames) {
  EXPECT_THAT(Decode(""), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Decode(std::string("PL\x01\x00\x00\x00\x00", 7)),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FrameCodecTest, DecodeRefusesWrongMagic) {
  std::string frame = Encode(FullEnvelope());
  frame[0] = 'X';
  EXPECT_THAT(Decode(frame), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Decode("hello world, not polis"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FrameCodecTest, DecodeRefusesUnknownWireVersion) {
  std::string frame = Encode(FullEnvelope());
  frame[2] = 2;
  EXPECT_THAT(Decode(frame), StatusIs(absl::StatusCode::kFailedPrecondition));
  frame[2] = 0;
  EXPECT_THAT(Decode(frame), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(FrameCodecTest, DecodeRefusesUnknownEnvelopeVersion) {
  wire::Envelope e = FullEnvelope();
  e.set_version(7);
  EXPECT_THAT(Decode(Encode(e)), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(FrameCodecTest, DecodeRefusesUnknownFlags) {
  std::string frame = Encode(FullEnvelope());
  frame[3] = 0x02;
  EXPECT_THAT(Decode(frame), StatusIs(absl::StatusCode::kInvalidArgument));
  frame[3] = static_cast<char>(kFlagFollowed);  // known: decodes
  EXPECT_THAT(Decode(frame), IsOk());
}

TEST(FrameCodecTest, DecodeRefusesTruncatedAndTrailingBytes) {
  const std::string frame = Encode(FullEnvelope());
  EXPECT_THAT(Decode(frame.substr(0, frame.size() - 1)), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(Decode(frame + "x"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FrameCodecTest, DecodeRefusesUnparsableBody) {
  // Field 1 with wire type 7, which does not exist.
  std::string frame("PL\x01\x00\x02\x00\x00\x00\x0F\x00", 10);
  EXPECT_THAT(Decode(frame), StatusIs(absl::StatusCode::kDataLoss));
  // A length-delimited field claiming more bytes than there are.
  frame = std::string("PL\x01\x00\x02\x00\x00\x00\x32\x7F", 10);
  EXPECT_THAT(Decode(frame), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FrameCodecTest, NoPrefixOrBitFlipCrashes) {
  const std::string frame = Encode(FullEnvelope());
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_FALSE(Decode(frame.substr(0, n)).ok()) << n;
  }
  for (size_t i = 0; i < frame.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = frame;
      flipped[i] ^= static_cast<char>(1 << bit);
      (void)Decode(flipped);  // any status; must not crash
    }
  }
}

// Splits `message` and decodes every frame; the refs in order, and the
// splitter's final status in `*status`.
std::vector<uint64_t> SplitRefs(const std::string& message, absl::Status* status) {
  std::vector<uint64_t> refs;
  FrameSplitter split(message.data(), message.size());
  const uint8_t* frame;
  size_t n;
  while (split.Next(&frame, &n)) {
    EnvelopeView e;
    EXPECT_THAT(DecodeFrame(frame, n, kDefaultMaxMessageBytes, &e), IsOk());
    refs.push_back(e.ref);
  }
  *status = split.status();
  return refs;
}

std::string Batch(int count) {
  FrameBatch batch;
  for (int i = 1; i <= count; ++i) {
    wire::Envelope e = FullEnvelope();
    e.set_ref(i);
    absl::StatusOr<size_t> size = FrameSize(e, kDefaultMaxMessageBytes);
    EXPECT_THAT(size, IsOk());
    batch.Append(e, *size);
  }
  return std::string(batch.data(), batch.bytes());
}

TEST(FrameBatchTest, FramesComeBackInOrderWithFollowedOnAllButTheLast) {
  const std::string message = Batch(3);
  const size_t one = Encode(FullEnvelope()).size();
  ASSERT_EQ(message.size(), 3 * one);
  EXPECT_EQ(message[3], static_cast<char>(kFlagFollowed));
  EXPECT_EQ(message[one + 3], static_cast<char>(kFlagFollowed));
  EXPECT_EQ(message[2 * one + 3], 0);
  absl::Status status;
  EXPECT_EQ(SplitRefs(message, &status), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_THAT(status, IsOk());
}

TEST(FrameBatchTest, AppendWithFrameRoomWritesEachFrameAndReturnsItsSize) {
  FrameBatch batch;
  std::vector<std::string> frames;
  for (int i = 1; i <= 3; ++i) {
    wire::Envelope e = FullEnvelope();
    e.set_ref(i);
    e.mutable_recipient()->set_name(std::string(50 * i, 'r'));  // 1- and 2-byte address lengths
    frames.push_back(Encode(e));
    EXPECT_EQ(batch.Append(e, FrameRoom(e, kDefaultMaxMessageBytes).value()),
              frames.back().size());
  }
  std::string want;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i + 1 < frames.size()) frames[i][3] = static_cast<char>(kFlagFollowed);
    want += frames[i];
  }
  EXPECT_EQ(batch.frames(), 3u);
  EXPECT_EQ(std::string(batch.data(), batch.bytes()), want);
  absl::Status status;
  EXPECT_EQ(SplitRefs(want, &status), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_THAT(status, IsOk());
}

TEST(FrameBatchTest, ClearKeepsNothingOfTheOldBatch) {
  FrameBatch batch;
  wire::Envelope e = FullEnvelope();
  const size_t size = FrameSize(e, kDefaultMaxMessageBytes).value();
  batch.Append(e, size);
  batch.Append(e, size);
  batch.Clear();
  EXPECT_TRUE(batch.empty());
  batch.Append(e, size);
  EXPECT_EQ(std::string(batch.data(), batch.bytes()), Encode(e));  // no stale flag
}

TEST(FrameSplitterTest, ASingleFrameIsAMessageOfOne) {
  absl::Status status;
  wire::Envelope e = FullEnvelope();
  EXPECT_EQ(SplitRefs(Encode(e), &status), std::vector<uint64_t>{99});
  EXPECT_THAT(status, IsOk());
}

TEST(FrameSplitterTest, ACutBatchYieldsTheWholeFramesThenDataLoss) {
  const std::string message = Batch(3);
  const size_t one = message.size() / 3;
  absl::Status status;
  EXPECT_EQ(SplitRefs(message.substr(0, 2 * one + 5), &status), (std::vector<uint64_t>{1, 2}));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss));
  // Cut exactly after a frame that says another follows: that frame is
  // whole and delivered, the missing rest is reported.
  EXPECT_EQ(SplitRefs(message.substr(0, one), &status), std::vector<uint64_t>{1});
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FrameSplitterTest, BytesAfterTheLastFrameAreDataLoss) {
  // The last frame's length disagrees with the message's end, so that
  // frame is not trusted either (as for a single frame).
  absl::Status status;
  EXPECT_EQ(SplitRefs(Batch(2) + "junk-junk", &status), std::vector<uint64_t>{1});
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FrameSplitterTest, BadMagicStopsTheWalk) {
  std::string message = Batch(3);
  const size_t one = message.size() / 3;
  message[one] = 'X';
  absl::Status status;
  EXPECT_EQ(SplitRefs(message, &status), std::vector<uint64_t>{1});
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FrameSplitterTest, EmptyMessageIsDataLoss) {
  FrameSplitter split("", 0);
  const uint8_t* frame;
  size_t n;
  EXPECT_FALSE(split.Next(&frame, &n));
  EXPECT_THAT(split.status(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(FrameSplitterTest, NoPrefixOrBitFlipOfABatchCrashes) {
  const std::string message = Batch(3);
  for (size_t n = 0; n <= message.size(); ++n) {
    FrameSplitter split(message.data(), n);
    const uint8_t* frame;
    size_t size;
    size_t total = 0;
    while (split.Next(&frame, &size)) {
      ASSERT_GE(frame, reinterpret_cast<const uint8_t*>(message.data()));
      total += size;
    }
    ASSERT_LE(total, n);
  }
  for (size_t i = 0; i < message.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = message;
      flipped[i] ^= static_cast<char>(1 << bit);
      FrameSplitter split(flipped.data(), flipped.size());
      const uint8_t* frame;
      size_t size;
      while (split.Next(&frame, &size)) {
        ASSERT_LE(frame + size, reinterpret_cast<const uint8_t*>(flipped.data()) + flipped.size());
        EnvelopeView e;
        (void)DecodeFrame(frame, size, kDefaultMaxMessageBytes, &e);
      }
    }
  }
}

}  // namespace
}  // namespace polis::bus
