// bus/internal/send_buffers_test.cc — batches lent to libzmq without a copy:
// small ones copied, large ones lent and their buffers reused, refused ones
// given back whole.
#include "bus/internal/send_buffers.h"

#include <cstdint>
#include <string>

#include <zmq.hpp>

#include "gtest/gtest.h"
#include "tests/transport_helpers.h"

namespace polis::bus::internal {
namespace {

using ::polis::testing::MakeEnvelope;

// Appends an envelope with reference `ref` and `payload` to `batch`.
void Append(FrameBatch& batch, uint64_t ref, std::string payload) {
  const wire::Envelope e = MakeEnvelope(ref, std::move(payload));
  absl::StatusOr<size_t> size = FrameSize(e, kDefaultMaxMessageBytes);
  ASSERT_TRUE(size.ok()) << size.status();
  batch.Append(e, *size);
}

// A batch of `n` envelopes with `payload_bytes` each.
FrameBatch BatchOf(int n, size_t payload_bytes) {
  FrameBatch batch;
  for (int i = 0; i < n; ++i) Append(batch, i, std::string(payload_bytes, 'p'));
  return batch;
}

std::string BytesOf(const zmq::message_t& msg) { return std::string(msg.data<char>(), msg.size()); }

TEST(SendBuffersTest, ASmallBatchIsCopied) {
  FrameBatch batch = BatchOf(1, 10);
  ASSERT_LT(batch.bytes(), kLendBytes);
  const std::string before(batch.data(), batch.bytes());
  std::string sentinel;
  std::string* lent = &sentinel;  // must be overwritten
  zmq::message_t msg = MessageOf(batch, &lent);
  EXPECT_EQ(lent, nullptr);
  EXPECT_EQ(BytesOf(msg), before);
  EXPECT_EQ(std::string(batch.data(), batch.bytes()), before);  // still the batch's
}

TEST(SendBuffersTest, ALargeBatchIsLentWithoutACopyAndItsBufferIsReused) {
  FrameBatch batch = BatchOf(20, 1000);
  ASSERT_GE(batch.bytes(), kLendBytes);
  const std::string before(batch.data(), batch.bytes());
  const char* const buffer = batch.data();
  const void* second_buffer = nullptr;
  {
    std::string* lent = nullptr;
    zmq::message_t msg = MessageOf(batch, &lent);
    ASSERT_NE(lent, nullptr);
    EXPECT_EQ(msg.data(), buffer);  // the very bytes, not a copy
    EXPECT_EQ(BytesOf(msg), before);
    EXPECT_TRUE(batch.empty());
    // The next batch fills while libzmq still holds the first.
    Append(batch, 7, std::string(kLendBytes, 'q'));
    second_buffer = batch.data();
    EXPECT_NE(second_buffer, buffer);
  }  // libzmq drops the message: its buffer goes back to the pool
  std::string* lent = nullptr;
  zmq::message_t msg = MessageOf(batch, &lent);
  ASSERT_NE(lent, nullptr);
  EXPECT_EQ(msg.data(), second_buffer);
  // The batch now carries on in the first message's buffer.
  Append(batch, 8, "r");
  EXPECT_EQ(batch.data(), buffer);
}

TEST(SendBuffersTest, RestoreGivesARefusedMessagesBytesBackToTheBatch) {
  FrameBatch batch = BatchOf(20, 1000);
  const std::string before(batch.data(), batch.bytes());
  {
    std::string* lent = nullptr;
    zmq::message_t msg = MessageOf(batch, &lent);
    ASSERT_NE(lent, nullptr);
    Restore(*lent, batch);
  }  // dropping the refused message must not free the restored bytes
  EXPECT_EQ(std::string(batch.data(), batch.bytes()), before);
  // And the batch goes on as before: appending keeps the frame chain valid.
  Append(batch, 99, "x");
  FrameSplitter split(batch.data(), batch.bytes());
  const uint8_t* frame;
  size_t size;
  int frames = 0;
  while (split.Next(&frame, &size)) ++frames;
  EXPECT_TRUE(split.status().ok()) << split.status();
  EXPECT_EQ(frames, 21);
}

}  // namespace
}  // namespace polis::bus::internal
