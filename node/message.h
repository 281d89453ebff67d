// node/message.h — the small value types of the process API.
//
//   Pid       a process's identity: node name + number, printable as <node.N>.
//   Target    whom a message is for: a registered name or a Pid.
//   Message   a received payload: protobuf type name + serialized bytes,
//             parsed on demand (like google.protobuf.Any).
//   From      the caller of a call, kept by a server to reply (now or later).
//   TimerRef  a pending SendAfter, for CancelTimer.
//   Incoming  one message as a process's handler sees it.
//
// Thread-safety: plain values; safe to copy and move between threads.
//
// Example:
//   absl::StatusOr<CounterRequest> req = message.As<CounterRequest>();
//   if (!req.ok()) co_return req.status();   // INVALID_ARGUMENT: wrong type
#ifndef POLIS_NODE_MESSAGE_H_
#define POLIS_NODE_MESSAGE_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "base/trace_context.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "polis/envelope.pb.h"

namespace polis {

inline constexpr absl::Duration kDefaultCallTimeout = absl::Seconds(5);

struct Pid {
  std::string node;  // Name of the node the process runs on.
  uint64_t id = 0;   // 0 = no process (e.g. a plain thread's call).

  bool valid() const { return id != 0; }
  std::string ToString() const { return absl::StrCat("<", node, ".", id, ">"); }
  friend bool operator==(const Pid&, const Pid&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Pid& p) {
    return H::combine(std::move(h), p.node, p.id);
  }
};

// A registered name (string) or a Pid. Implicit from both, so that every
// API taking a Target accepts either.
class Target {
 public:
  Target(std::string_view name) : v_(std::string(name)) {}  // NOLINT
  Target(const char* name) : v_(std::string(name)) {}       // NOLINT
  Target(const std::string& name) : v_(name) {}             // NOLINT
  Target(Pid pid) : v_(std::move(pid)) {}                   // NOLINT

  bool is_name() const { return std::holds_alternative<std::string>(v_); }
  const std::string& name() const { return std::get<std::string>(v_); }
  const Pid& pid() const { return std::get<Pid>(v_); }
  std::string ToString() const {
    return is_name() ? absl::StrCat("\"", name(), "\"") : pid().ToString();
  }

 private:
  std::variant<std::string, Pid> v_;
};

// Returns the one stored copy of the type name `type` (interned for the life
// of the program), so that every Message of one type shares it: no
// allocation per message, and type checks compare pointers. Names longer
// than 512 bytes, and new names once 65,536 are stored, all map to the
// single name "polis.TooManyTypes" (which no server accepts), so a peer
// cannot grow the table without bound. Thread-safe.
// For names local code knows (generated messages, handlers, the runtime's
// own types) only: what a peer sends is looked up (FindType), never
// inserted, so no peer can fill the table (see Message::FromWire).
const std::string* InternType(std::string_view type);
// The interned copy of `type` if some local code interned it, else nullptr.
// Never inserts. Thread-safe.
const std::string* FindType(std::string_view type);
// InternType(""), looked up once.
const std::string* EmptyType();

// A payload as received: type name + bytes.
//
// Payload buffers are recycled per thread: a message destroyed hands its
// bytes' buffer (if on the heap and at most kKeptCapacity bytes) to its
// thread's bounded free list (256 buffers), and From, FromWireCopy and a
// copy fill one from there, so a steady stream of calls costs no malloc per
// request or reply. A message destroyed on another thread than the one that
// made it feeds that thread's list.
class Message {
 public:
  Message() : type_(EmptyType()) {}
  Message(std::string_view type, std::string bytes)
      : type_(InternType(type)), bytes_(std::move(bytes)) {}
  // A copy's bytes fill a recycled buffer (a server echoing its request).
  Message(const Message& other)
      : type_(other.type_), bytes_(CopyBytes(other.bytes_)), owned_(other.owned_) {}
  Message(Message&&) noexcept = default;
  Message& operator=(const Message&) = default;
  Message& operator=(Message&&) noexcept = default;
  ~Message() {
    // Inline: a moved-from or small message (most) costs one compare.
    if (bytes_.capacity() > kInlineCapacity) RecycleBytes(std::move(bytes_));
  }

  // The largest buffer a thread's free list keeps.
  static constexpr size_t kKeptCapacity = 512;

  // Serializes `m` (its full protobuf name becomes the type), into a
  // recycled buffer if this thread has one.
  static Message From(const google::protobuf::Message& m);
  // As above, into `buffer`'s storage (emptied first): a sender that
  // recycles buffers pays no allocation for a message that fits.
  static Message From(const google::protobuf::Message& m, std::string buffer);
  // A payload received from a peer: a type some local code interned is
  // shared (one pointer compare, as for local messages); any other type is
  // carried as a string the message holds (one copy shared by the thread's
  // run of messages of that type, freed with the last), so a peer's names
  // never enter the shared intern table.
  static Message FromWire(std::string_view type, std::string bytes);
  // As above, copying `payload` into a recycled buffer.
  static Message FromWireCopy(std::string_view type, std::string_view payload);

  // If the type is carried as the message's own string and has been
  // interned since (a handler registered after the message arrived),
  // switches to the interned copy. One null check otherwise.
  void Reintern() {
    if (owned_ != nullptr) ReinternSlow();
  }
  // The interned type name, or nullptr if this message carries its own
  // (an unknown type from a peer): for records that outlive the message.
  const std::string* interned_type() const { return owned_ != nullptr ? nullptr : type_; }

  // The interned type name (see InternType).
  const std::string& type() const { return *type_; }
  const std::string& bytes() const { return bytes_; }
  std::string& mutable_bytes() { return bytes_; }
  // Makes the type "" (as a default Message); the bytes are left as they are.
  void ClearType() {
    type_ = EmptyType();
    owned_.reset();
  }

  template <typename M>
  bool Is() const {
    // M's interned name, looked up once: then a pointer compare. A name
    // the full intern table could not take shares the overflow name, which
    // must match nothing here (`exact` is false for it).
    static const std::string* const interned = InternType(M::descriptor()->full_name());
    static const bool exact = *interned == M::descriptor()->full_name();
    if (type_ == interned) return exact;
    // An unknown type from a peer, carried as its own string (FromWire).
    return owned_ != nullptr && exact && *owned_ == *interned;
  }

  // Parses the payload as M. INVALID_ARGUMENT if the payload is of another
  // type or does not parse.
  template <typename M>
  absl::StatusOr<M> As() const {
    M m;
    absl::Status s = UnpackTo(m);
    if (!s.ok()) return s;
    return m;
  }

  // Parses into `m` (whose type must match). INVALID_ARGUMENT otherwise.
  absl::Status UnpackTo(google::protobuf::Message& m) const;

 private:
  Message(const std::string* interned, std::string bytes)
      : type_(interned), bytes_(std::move(bytes)) {}

  void ReinternSlow();
  // What std::string holds without a heap buffer (libstdc++'s 15 chars; not
  // `std::string().capacity()`, which clang cannot evaluate at compile time
  // over libstdc++). Only a threshold: a string over it that is still inline
  // would be recycled as a copy, nothing worse.
  static constexpr size_t kInlineCapacity = 15;
  // To this thread's free list (if it has room and `bytes` fits), else freed.
  static void RecycleBytes(std::string&& bytes) noexcept;
  // An empty buffer from this thread's free list, or a new empty string.
  static std::string RecycledBuffer();
  // `bytes` copied, into a recycled buffer if it needs a heap one.
  static std::string CopyBytes(const std::string& bytes);
  // The interned full name of `m`'s type.
  static const std::string* TypeOf(const google::protobuf::Message& m);
  // `m` serialized into `buffer`'s storage.
  static std::string SerializeInto(const google::protobuf::Message& m, std::string buffer);

  const std::string* type_;
  std::string bytes_;
  // Set when the type is not interned (FromWire): type_ points into it.
  std::shared_ptr<const std::string> owned_;
};

// The caller of a call. Copy it out of HandleCall to reply later (a deferred
// reply). Replying twice, or to a caller that gave up, is harmless: the
// second reply / late reply is dropped.
struct From {
  std::string node;         // Caller's node name.
  uint64_t pid = 0;         // Caller process, 0 for a plain thread.
  uint64_t ref = 0;         // Correlation reference of the call.
  std::string return_path;  // Transport connection to reply on, if any.
  absl::Time deadline = absl::InfiniteFuture();  // When the caller gives up.

  bool valid() const { return ref != 0; }
};

struct TimerRef {
  uint64_t id = 0;
  bool valid() const { return id != 0; }
};

// TraceId and TraceContext: base/trace_context.h.

// One message as a handler sees it.
struct Incoming {
  wire::Kind kind = wire::KIND_UNSPECIFIED;
  Message message;
  Pid sender;          // Sending process (id 0 for a plain thread).
  From from;           // Set for KIND_CALL.
  TraceContext trace;  // Trace context of this message.
  // A runtime notice (ProcessDown, NodeDown, NameLost) for a monitor or name
  // this process holds; false for a user's message of the same type.
  bool runtime_notice = false;
};

}  // namespace polis

#endif  // POLIS_NODE_MESSAGE_H_
