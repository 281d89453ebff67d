// bus/internal/send_buffers.h — hands a batch's bytes to libzmq without
// copying them.
//
// A batch of kLendBytes or more is swapped into a pooled std::string, which
// the zmq::message_t then owns (zmq_msg_init_data). libzmq calls back once
// the bytes are on the wire, from its I/O thread, and the string goes back to
// a process-wide pool, buffer and all; the batch carries on in a recycled
// buffer. So a busy connection costs no copy and no large malloc per batch
// (a large block malloc'd on the sending thread and freed on libzmq's made
// the allocator trim and re-fault pages: about 15% of a busy sender's time).
// Smaller batches are copied: that is cheaper than the pool's lock and
// libzmq's reference-count block.
//
// A batch bound for a connection with an Unread account is always lent, and
// its bytes are charged to the account until libzmq frees them (written to
// the kernel, or dropped with the connection): so the transport knows how
// many bytes of replies each client has not taken yet (the slow-reader
// bound, bus/zmq_transport.h).
//
// Thread-safety: MessageOf and Restore on the thread that owns the batch;
// the pool takes a lock, and outlives every transport (libzmq may hand a
// buffer back while its context shuts down). Unread is thread-safe.
//
// Example:
//   std::string* lent = nullptr;
//   zmq::message_t msg = MessageOf(batch, &lent);
//   if (!socket.send(msg, zmq::send_flags::dontwait) && lent != nullptr) {
//     Restore(*lent, batch);  // the bytes are the batch's again
//   }
//
//   auto total = std::make_shared<Unread::Total>();
//   auto unread = std::make_shared<Unread>(total);
//   zmq::message_t counted = MessageOf(batch, &lent, unread);
//   unread->bytes();  // the batch's size, until libzmq lets go of it
#ifndef POLIS_BUS_INTERNAL_SEND_BUFFERS_H_
#define POLIS_BUS_INTERNAL_SEND_BUFFERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "bus/frame_codec.h"

namespace polis::bus::internal {

// Batches this size or larger are lent, smaller ones copied.
inline constexpr size_t kLendBytes = 4096;

// Bytes lent to libzmq for one connection and not yet freed by it, and the
// sum over every account that shares `total` (one transport's).
class Unread {
 public:
  using Total = std::atomic<int64_t>;

  explicit Unread(std::shared_ptr<Total> total) : total_(std::move(total)) {}
  Unread(const Unread&) = delete;
  Unread& operator=(const Unread&) = delete;

  int64_t bytes() const { return bytes_.load(std::memory_order_acquire); }
  int64_t total() const { return total_->load(std::memory_order_acquire); }

  void Charge(int64_t n) {
    bytes_.fetch_add(n, std::memory_order_acq_rel);
    total_->fetch_add(n, std::memory_order_acq_rel);
  }
  void Release(int64_t n) { Charge(-n); }

 private:
  std::atomic<int64_t> bytes_{0};
  const std::shared_ptr<Total> total_;
};

// A message holding the bytes of `batch`. If they were lent, `*lent` is the
// string that now holds them and `batch` is empty; if copied, `*lent` is
// null and `batch` is unchanged. With an `account`, the bytes are always
// lent and charged to it until libzmq frees the message (a refused message
// is freed when it is dropped, so Restore leaves the account as it was).
zmq::message_t MessageOf(FrameBatch& batch, std::string** lent,
                         std::shared_ptr<Unread> account = nullptr);

// For a message libzmq refused: gives `batch` back the bytes lent to `lent`
// (which must still be in the refused message; dropping the message then
// returns the batch's spare buffer to the pool).
void Restore(std::string& lent, FrameBatch& batch);

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_SEND_BUFFERS_H_
