#include "node/message.h"

#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <new>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace polis {
namespace {

constexpr size_t kMaxInterned = 65536;
constexpr size_t kMaxTypeLength = 512;

struct InternTable {
  absl::Mutex mu;
  absl::node_hash_set<std::string> names ABSL_GUARDED_BY(mu);
  // Bumped after each name added: a thread's memo of a name found missing
  // holds while this has not moved.
  std::atomic<uint64_t> generation{0};
};

InternTable& Table() {
  static InternTable* table = new InternTable;  // Never destroyed: pointers stay valid.
  return *table;
}

const std::string* InternSlow(std::string_view type) {
  InternTable& t = Table();
  absl::MutexLock lock(&t.mu);
  auto it = t.names.find(absl::string_view(type.data(), type.size()));
  if (it != t.names.end()) return &*it;
  const std::string* interned;
  if (type.size() > kMaxTypeLength || t.names.size() >= kMaxInterned) {
    interned = &*t.names.emplace(std::string("polis.TooManyTypes")).first;
  } else {
    interned = &*t.names.emplace(std::string(type)).first;
  }
  t.generation.fetch_add(1, std::memory_order_release);
  return interned;
}

// The last name this thread found missing, while no name has been added
// since: a stream of one undeclared type (a server taking any cast) then
// costs a compare, not a lock and a hash, per message; and the messages
// share one copy of the name.
struct Missing {
  uint64_t generation = ~uint64_t{0};
  std::shared_ptr<const std::string> name;
};

Missing& LastMissing() {
  thread_local Missing missing;
  return missing;
}

bool KnownMissing(std::string_view type) {
  const Missing& m = LastMissing();
  return m.name != nullptr && *m.name == type &&
         m.generation == Table().generation.load(std::memory_order_acquire);
}

const std::string* FindSlow(std::string_view type) {
  InternTable& t = Table();
  absl::ReaderMutexLock lock(&t.mu);
  auto it = t.names.find(absl::string_view(type.data(), type.size()));
  return it != t.names.end() ? &*it : nullptr;
}

// Per thread, bounded: recycled payload buffers (see Message). Plain data
// (no destructor, no guard on each use): the slots are allocated on the
// thread's first recycled buffer and freed at its exit by a Reaper, which
// sets `gone` so that a message destroyed after it (another thread_local's,
// a static's on the main thread) frees its buffer instead.
struct BufferPool {
  static constexpr uint32_t kMax = 256;
  std::string* slots = nullptr;  // kMax of them; [0, n) hold buffers.
  uint32_t n = 0;
  bool gone = false;
};

constinit thread_local BufferPool buffer_pool;

struct Reaper {
  ~Reaper() {
    delete[] buffer_pool.slots;
    buffer_pool = BufferPool{.slots = nullptr, .n = 0, .gone = true};
  }
};

// The thread's slots, made on first use; nullptr once the thread is exiting.
std::string* Slots() {
  BufferPool& pool = buffer_pool;
  if (pool.slots == nullptr && !pool.gone) {
    thread_local Reaper reaper;  // Registered before the slots exist.
    (void)reaper;
    pool.slots = new (std::nothrow) std::string[BufferPool::kMax];  // nullptr: none kept.
  }
  return pool.slots;
}

}  // namespace

void Message::RecycleBytes(std::string&& bytes) noexcept {
  BufferPool& pool = buffer_pool;
  if (bytes.capacity() > kKeptCapacity || pool.n == BufferPool::kMax) return;
  std::string* slots = pool.slots != nullptr ? pool.slots : Slots();
  if (slots == nullptr) return;  // The thread is exiting.
  bytes.clear();
  slots[pool.n++] = std::move(bytes);
}

std::string Message::RecycledBuffer() {
  BufferPool& pool = buffer_pool;
  if (pool.n == 0) return std::string();
  return std::move(pool.slots[--pool.n]);
}

std::string Message::CopyBytes(const std::string& bytes) {
  if (bytes.size() <= kInlineCapacity) return bytes;
  std::string copy = RecycledBuffer();
  copy.assign(bytes);
  return copy;
}

const std::string* FindType(std::string_view type) {
  // Same per-thread caches as InternType (only interned names enter them),
  // and the memo of the last name found missing; another unknown name costs
  // a shared (reader) lock and a hash lookup.
  thread_local const std::string* last = nullptr;
  if (last != nullptr && *last == type) return last;
  if (KnownMissing(type)) return nullptr;
  thread_local absl::flat_hash_map<std::string_view, const std::string*> cache;
  auto it = cache.find(type);
  if (it != cache.end()) return last = it->second;
  // Read before the lookup: a name added after it moves the generation on.
  const uint64_t generation = Table().generation.load(std::memory_order_acquire);
  const std::string* found = FindSlow(type);
  if (found == nullptr) {
    Missing& m = LastMissing();
    if (m.name == nullptr || *m.name != type) m.name = std::make_shared<const std::string>(type);
    m.generation = generation;
    return nullptr;
  }
  if (cache.size() < kMaxInterned) cache.emplace(*found, found);
  return last = found;
}

Message Message::FromWire(std::string_view type, std::string bytes) {
  if (const std::string* interned = FindType(type)) return Message(interned, std::move(bytes));
  // FindType left the name in this thread's memo of the missing one.
  std::shared_ptr<const std::string> owned = LastMissing().name;
  Message m(owned.get(), std::move(bytes));
  m.owned_ = std::move(owned);
  return m;
}

Message Message::FromWireCopy(std::string_view type, std::string_view payload) {
  std::string bytes = RecycledBuffer();
  bytes.assign(payload);
  return FromWire(type, std::move(bytes));
}

void Message::ReinternSlow() {
  if (const std::string* interned = FindType(*owned_)) {
    type_ = interned;
    owned_.reset();
  }
}

const std::string* InternType(std::string_view type) {
  // The last type this thread interned first (a stream of one type is the
  // common case: one compare, no hash), then a per-thread map in front of
  // the shared table: no lock on the hot path.
  thread_local const std::string* last = nullptr;
  if (last != nullptr && *last == type) return last;
  thread_local absl::flat_hash_map<std::string_view, const std::string*> cache;
  auto it = cache.find(type);
  if (it != cache.end()) return last = it->second;
  const std::string* interned = InternSlow(type);
  if (cache.size() < kMaxInterned) cache.emplace(*interned, interned);
  return last = interned;
}

namespace {

// The ClassData of `m`'s generated class: unique to each generated message
// class (protobuf's own same-type test in MergeFrom), or nullptr for a
// dynamic message. Message::GetClassData is protected: reached through a
// pointer to member named via a class derived from Message.
struct ClassDataOf : google::protobuf::Message {
  static const void* Get(const google::protobuf::Message& m) {
    return (m.*&ClassDataOf::GetClassData)();
  }
};

}  // namespace

const std::string* EmptyType() {
  // Every default Message (e.g. in each Letter) would otherwise evict a
  // thread's last-type entry in InternType.
  static const std::string* const empty = InternType("");
  return empty;
}

Message Message::From(const google::protobuf::Message& m) {
  return From(m, RecycledBuffer());
}

Message Message::From(const google::protobuf::Message& m, std::string buffer) {
  return Message(TypeOf(m), SerializeInto(m, std::move(buffer)));
}

const std::string* Message::TypeOf(const google::protobuf::Message& m) {
  // Per thread, direct-mapped: a sender in a loop pays neither a string
  // hash nor a lock for the type. A generated class is keyed by its
  // ClassData, which is unique to it and lives as long as its code
  // (protobuf cannot unload generated code either): one virtual call, no
  // descriptor (GetDescriptor costs ~100 instructions: a call_once). A
  // dynamic message (one class for many types; no ClassData) is keyed by its
  // descriptor, and the name is compared too: a descriptor freed and
  // another made at the same address must not inherit the old name.
  struct Slot {
    const void* key = nullptr;
    const std::string* type = nullptr;
  };
  thread_local Slot generated[16];
  thread_local Slot dynamic[16];
  if (const void* class_data = ClassDataOf::Get(m)) {
    Slot& slot = generated[(reinterpret_cast<uintptr_t>(class_data) >> 4) & 15];
    if (slot.key != class_data) slot = Slot{class_data, InternType(m.GetDescriptor()->full_name())};
    return slot.type;
  }
  const google::protobuf::Descriptor* d = m.GetDescriptor();
  Slot& slot = dynamic[(reinterpret_cast<uintptr_t>(d) >> 4) & 15];
  if (slot.key != d || *slot.type != d->full_name()) slot = Slot{d, InternType(d->full_name())};
  return slot.type;
}

std::string Message::SerializeInto(const google::protobuf::Message& m, std::string buffer) {
  // ByteSizeLong caches the sizes the serializer then reads: one pass each,
  // straight into `buffer` (SerializeToString re-checks and re-sizes).
  const size_t size = m.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    m.SerializeToString(&buffer);  // Refused (and logged) by protobuf itself.
  } else {
    buffer.resize(size);
    m.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(buffer.data()));
  }
  return buffer;
}

absl::Status Message::UnpackTo(google::protobuf::Message& m) const {
  const std::string& want = m.GetDescriptor()->full_name();
  if (*type_ != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a message of type \"", want, "\", got \"", *type_, "\""));
  }
  if (!m.ParseFromString(bytes_)) {
    return absl::InvalidArgumentError(absl::StrCat("payload of type \"", *type_, "\" does not parse"));
  }
  return absl::OkStatus();
}

}  // namespace polis
