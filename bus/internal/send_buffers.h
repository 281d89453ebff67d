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
// Thread-safety: MessageOf and Restore on the thread that owns the batch;
// the pool takes a lock, and outlives every transport (libzmq may hand a
// buffer back while its context shuts down).
//
// Example:
//   std::string* lent = nullptr;
//   zmq::message_t msg = MessageOf(batch, &lent);
//   if (!socket.send(msg, zmq::send_flags::dontwait) && lent != nullptr) {
//     Restore(*lent, batch);  // the bytes are the batch's again
//   }
#ifndef POLIS_BUS_INTERNAL_SEND_BUFFERS_H_
#define POLIS_BUS_INTERNAL_SEND_BUFFERS_H_

#include <cstddef>
#include <string>

#include <zmq.hpp>

#include "bus/frame_codec.h"

namespace polis::bus::internal {

// Batches this size or larger are lent, smaller ones copied.
inline constexpr size_t kLendBytes = 4096;

// A message holding the bytes of `batch`. If they were lent, `*lent` is the
// string that now holds them and `batch` is empty; if copied, `*lent` is
// null and `batch` is unchanged.
zmq::message_t MessageOf(FrameBatch& batch, std::string** lent);

// For a message libzmq refused: gives `batch` back the bytes lent to `lent`
// (which must still be in the refused message; dropping the message then
// returns the batch's spare buffer to the pool).
void Restore(std::string& lent, FrameBatch& batch);

}  // namespace polis::bus::internal

#endif  // POLIS_BUS_INTERNAL_SEND_BUFFERS_H_
