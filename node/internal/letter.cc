#include "node/internal/letter.h"

#include <cstring>
#include <vector>

#include "absl/random/random.h"
#include "absl/time/clock.h"

namespace polis::internal {
namespace {

absl::BitGen& Gen() {
  thread_local absl::BitGen gen;
  return gen;
}

// Free list of Letter-sized blocks, per thread, bounded.
struct LetterPool {
  static constexpr size_t kMax = 4096;
  std::vector<void*> free;
  ~LetterPool() {
    for (void* p : free) ::operator delete(p);
  }
};

LetterPool& Pool() {
  thread_local LetterPool pool;
  return pool;
}

}  // namespace

void* Letter::operator new(std::size_t size) {
  LetterPool& pool = Pool();
  if (size == sizeof(Letter) && !pool.free.empty()) {
    void* p = pool.free.back();
    pool.free.pop_back();
    return p;
  }
  return ::operator new(size);
}

void Letter::operator delete(void* p, std::size_t size) noexcept {
  LetterPool& pool = Pool();
  if (size == sizeof(Letter) && pool.free.size() < LetterPool::kMax) {
    pool.free.push_back(p);
    return;
  }
  ::operator delete(p);
}

uint64_t RandomId() {
  uint64_t v = 0;
  while (v == 0) v = absl::Uniform<uint64_t>(Gen());
  return v;
}

TraceId NewTraceId() {
  TraceId id;
  uint64_t a = RandomId(), b = RandomId();
  std::memcpy(id.bytes.data(), &a, 8);
  std::memcpy(id.bytes.data() + 8, &b, 8);
  return id;
}

void ToEnvelope(const Letter& l, const std::string& to_node, wire::Envelope* env) {
  env->set_version(1);
  env->set_kind(l.kind);
  env->set_type(l.message.type());
  env->set_payload(l.message.bytes());
  wire::Address* s = env->mutable_sender();
  s->set_node(l.sender.node);
  s->set_pid(l.sender.id);
  wire::Address* r = env->mutable_recipient();
  r->set_node(to_node);
  if (!l.to_name.empty()) {
    r->set_name(l.to_name);
  } else {
    r->set_pid(l.to_pid);
  }
  if (!l.trace.trace_id.empty()) {
    env->set_trace_id(l.trace.trace_id.view().data(), l.trace.trace_id.view().size());
  }
  env->set_span_id(l.trace.span_id);
  env->set_parent_span_id(l.trace.parent_span_id);
  if (l.kind == wire::KIND_CALL || l.kind == wire::KIND_SYSTEM || l.kind == wire::KIND_REPLY) {
    env->set_ref(l.from.ref);
    wire::Address* rt = env->mutable_reply_to();
    rt->set_node(l.from.node);
    rt->set_pid(l.from.pid);
    if (l.from.deadline < absl::InfiniteFuture()) {
      int64_t us = absl::ToInt64Microseconds(l.from.deadline - absl::Now());
      env->set_timeout_us(us > 0 ? us : 1);
    }
  }
  if (!l.status.ok()) {
    env->set_status_code(static_cast<int32_t>(l.status.code()));
    env->set_status_message(std::string(l.status.message()));
  }
}

wire::Envelope& ReusedEnvelope() {
  thread_local wire::Envelope env;
  env.Clear();
  return env;
}

LetterPtr FromEnvelope(wire::Envelope&& env, const bus::ReturnPath& path) {
  // Strings are moved out of `env` (it is discarded after this): a heap
  // buffer changes hands instead of being copied.
  auto l = std::make_unique<Letter>();
  l->kind = env.kind();
  l->message = Message(env.type(), std::move(*env.mutable_payload()));
  if (env.has_sender()) {
    l->sender.node = std::move(*env.mutable_sender()->mutable_node());
    l->sender.id = env.sender().pid();
  }
  if (env.has_recipient()) {
    l->to_name = std::move(*env.mutable_recipient()->mutable_name());
    l->to_pid = env.recipient().pid();
  }
  if (env.has_reply_to()) {
    l->from.node = std::move(*env.mutable_reply_to()->mutable_node());
    l->from.pid = env.reply_to().pid();
  }
  l->from.ref = env.ref();
  if (!path.empty()) l->from.return_path = path.token;
  if (env.timeout_us() > 0) l->from.deadline = absl::Now() + absl::Microseconds(env.timeout_us());
  l->trace.trace_id = TraceId::FromBytes(env.trace_id());
  l->trace.span_id = env.span_id();
  l->trace.parent_span_id = env.parent_span_id();
  if (env.status_code() != 0) {
    l->status = absl::Status(static_cast<absl::StatusCode>(env.status_code()), env.status_message());
  }
  return l;
}

}  // namespace polis::internal
