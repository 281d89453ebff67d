#include "node/internal/letter.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/cord.h"
#include "base/clock.h"

namespace polis::internal {
namespace {

absl::BitGen& Gen() {
  thread_local absl::BitGen gen;
  return gen;
}

// Free list of cleared letters, per thread, bounded. Most letters are
// finished on the thread that handles them, which is often the one that made
// them (a worker reading the wire runs the processes it pins).
struct LetterPool {
  static constexpr size_t kMax = 16384;
  std::vector<Letter*> free;
  ~LetterPool() {
    for (Letter* l : free) delete l;
  }
};

LetterPool& Pool() {
  thread_local LetterPool pool;
  return pool;
}

// The status an envelope carries (OK when status_code is 0), with its
// details as payloads (bus/WIRE.md "Errors": a later duplicate replaces).
absl::Status StatusOf(const bus::EnvelopeView& env) {
  if (env.status_code == 0) return absl::OkStatus();
  absl::Status s(static_cast<absl::StatusCode>(env.status_code),
                 absl::string_view(env.status_message.data(), env.status_message.size()));
  env.status_details.ForEach([&s](std::string_view type_url, std::string_view value) {
    s.SetPayload(absl::string_view(type_url.data(), type_url.size()),
                 absl::Cord(absl::string_view(value.data(), value.size())));
  });
  return s;
}

// Empties `s`; frees its buffer if it is over the kept capacity.
void ClearKeeping(std::string& s) {
  if (s.capacity() > Letter::kKeptCapacity) {
    std::string().swap(s);
  } else {
    s.clear();
  }
}

}  // namespace

void Letter::Clear() {
  kind = wire::KIND_UNSPECIFIED;
  ClearKeeping(message.mutable_bytes());
  message.ClearType();
  ClearKeeping(sender.node);
  sender.id = 0;
  ClearKeeping(to_name);
  to_pid = 0;
  ClearKeeping(from.node);
  from.pid = 0;
  from.ref = 0;
  ClearKeeping(from.return_path);
  from.deadline = absl::InfiniteFuture();
  trace = TraceContext();
  runtime_notice = false;
}

void LetterRecycler::operator()(Letter* l) const noexcept {
  LetterPool& pool = Pool();
  if (pool.free.size() < LetterPool::kMax) {
    l->Clear();
    pool.free.push_back(l);
    return;
  }
  delete l;
}

LetterPtr NewLetter() {
  LetterPool& pool = Pool();
  if (pool.free.empty()) return LetterPtr(new Letter);
  Letter* l = pool.free.back();
  pool.free.pop_back();
  return LetterPtr(l);
}

uint64_t RandomId() {
  // SplitMix64 over a per-thread state seeded from absl's BitGen: ids must
  // be unique and unpredictable enough to never collide, not secret, and
  // one is drawn for every message sent (BitGen costs ~15 ns a draw, this
  // ~2 ns).
  thread_local uint64_t state = absl::Uniform<uint64_t>(Gen());
  uint64_t z;
  do {
    z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
  } while (z == 0);
  return z;
}

TraceId NewTraceId() {
  TraceId id;
  uint64_t a = RandomId(), b = RandomId();
  std::memcpy(id.bytes.data(), &a, 8);
  std::memcpy(id.bytes.data() + 8, &b, 8);
  return id;
}

LetterPtr FromView(const bus::EnvelopeView& env, const bus::ReturnPath& path,
                   absl::Time received) {
  LetterPtr l = NewLetter();
  l->kind = env.kind;
  // Into the recycled letter's buffers: no malloc for small messages.
  std::string bytes = std::move(l->message.mutable_bytes());
  bytes.assign(env.payload);
  l->message = Message::FromWire(env.type, std::move(bytes));
  l->sender.node = env.sender.node;
  l->sender.id = env.sender.pid;
  l->to_name = env.recipient.name;
  l->to_pid = env.recipient.pid;
  l->from.node = env.reply_to.node;
  l->from.pid = env.reply_to.pid;
  l->from.ref = env.ref;
  if (!path.empty()) l->from.return_path = path.token;
  l->from.deadline = ReceivedCallDeadline(env, received);
  l->trace.trace_id = TraceId::FromBytes(env.trace_id);
  l->trace.span_id = env.span_id;
  l->trace.parent_span_id = env.parent_span_id;
  l->trace.sampled = (env.trace_flags & kTraceFlagSampled) != 0 && !l->trace.trace_id.empty();
  return l;
}

absl::Time ReceivedCallDeadline(const bus::EnvelopeView& env, absl::Time received) {
  absl::Time deadline = absl::InfiniteFuture();
  // timeout_us counts from the read: late by however long the call waited
  // in this node's socket (a paused process, a congested link).
  if (env.timeout_us > 0) deadline = received + absl::Microseconds(env.timeout_us);
  // The caller's own deadline bounds that wait, give or take the skew of
  // the two clocks. received + (deadline_unix + allowance - received): no
  // clock read of its own, `received` is one already.
  if (env.deadline_unix_us > 0) {
    deadline = std::min(
        deadline, absl::FromUnixMicros(env.deadline_unix_us) + bus::kClockSkewAllowance);
  }
  return deadline;
}

absl::StatusOr<Message> ReplyOf(const bus::EnvelopeView& env) {
  if (env.status_code != 0) return StatusOf(env);
  return Message::FromWireCopy(env.type, env.payload);
}

}  // namespace polis::internal
