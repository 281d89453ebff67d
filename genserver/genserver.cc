#include "genserver/genserver.h"

#include <algorithm>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "google/protobuf/descriptor.pb.h"

namespace polis {
namespace {

// Adds `file` and its dependencies to `out`, dependencies first.
void CollectFile(const google::protobuf::FileDescriptor* file, std::set<std::string>* seen,
                 google::protobuf::FileDescriptorSet* out) {
  if (!seen->insert(file->name()).second) return;
  for (int i = 0; i < file->dependency_count(); ++i) CollectFile(file->dependency(i), seen, out);
  file->CopyTo(out->add_file());
}

// How messages name this server: its registered name, else its kind and pid.
std::string Label(const ProcessContext& ctx, const std::string& kind) {
  if (!ctx.name().empty()) return ctx.name();
  return absl::StrCat(kind.empty() ? "" : kind, kind.empty() ? "" : " ", ctx.self().ToString());
}

// "cast" / "info" / "call", for log lines.
const char* KindName(wire::Kind kind) {
  switch (kind) {
    case wire::KIND_CALL:
      return "call";
    case wire::KIND_CAST:
      return "cast";
    default:
      return "info message";
  }
}

}  // namespace

Task<absl::StatusOr<GenServer::Reply>> GenServer::HandleCall(const Message& request,
                                                             const From& from) {
  co_return Reply::Error(absl::UnimplementedError(
      absl::StrCat("server ", registered_name(), " does not handle calls")));
}

Task<absl::Status> GenServer::HandleCast(const Message& message) {
  POLIS_LOG(WARNING) << "polis: server " << registered_name() << " dropped a cast of type "
                     << message.type() << " (no HandleCast)";
  co_return absl::OkStatus();
}

Task<absl::Status> GenServer::HandleInfo(const Message& message) {
  POLIS_LOG(WARNING) << "polis: server " << registered_name() << " dropped an info message of type "
                     << message.type() << " (no HandleInfo)";
  co_return absl::OkStatus();
}

Task<absl::Status> GenServer::OnStart(ProcessContext& ctx) {
  ctx_ = &ctx;
  if (!registration_error_.ok()) {
    co_return absl::Status(
        registration_error_.code(),
        absl::StrCat("server ", Label(ctx, kind_), ": ", registration_error_.message()));
  }
  co_return co_await Init();
}

Task<absl::Status> GenServer::OnMessage(ProcessContext& ctx, Incoming& in) {
  // Not a coroutine itself: the typed handler's invoker is the hook's one
  // frame around the handler's own (the hooks' path: DispatchToHooks).
  const std::string* type = &in.message.type();  // Interned: compare pointers.
  runtime_notice_ = in.runtime_notice;
  for (const Handler& h : handlers_) {
    if (h.type == type && h.kind == in.kind) return h.invoke(*this, h.method, in);
  }
  return DispatchToHooks(ctx, in);
}

Task<absl::Status> GenServer::Rethrow(std::exception_ptr e) {
  std::rethrow_exception(std::move(e));
  co_return absl::OkStatus();
}

Task<absl::Status> GenServer::DispatchToHooks(ProcessContext& ctx, Incoming& in) {
  // Not a coroutine either: a cast's or an info's hook is its handler's own
  // Task (one frame per message); a call's adds the frame that replies.
  if (in.kind == wire::KIND_CALL) return CallAndReply(ctx, in);
  if (in.kind != wire::KIND_CAST && in.runtime_notice && in.message.Is<wire::NameLost>() &&
      !Declares(info_types_, &in.message.type())) {
    return LoseName(in.message);
  }
  try {
    return in.kind == wire::KIND_CAST ? HandleCast(in.message) : HandleInfo(in.message);
  } catch (...) {  // An override that is not a coroutine threw: fail as one would.
    return Rethrow(std::current_exception());
  }
}

Task<absl::Status> GenServer::CallAndReply(ProcessContext& ctx, Incoming& in) {
  absl::StatusOr<Reply> reply = co_await HandleCall(in.message, in.from);
  if (!reply.ok()) co_return reply.status();  // Fails the server.
  if (reply->deferred()) co_return absl::OkStatus();
  if (!reply->status().ok()) {
    ctx.ReplyRaw(in.from, reply->status(), Message());
    co_return absl::OkStatus();
  }
  const Message& answer = *reply->message();
  // HandleCall saw the request as const: its type is still the request's.
  if (ReplyTypeDeclared(&in.message.type(), &answer.type())) {
    ctx.ReplyRaw(in.from, absl::OkStatus(), answer);
  } else {
    RefuseUndeclaredReply(in, answer);
  }
  co_return absl::OkStatus();
}

Task<absl::Status> GenServer::LoseName(const Message& message) {
  absl::StatusOr<wire::NameLost> lost = message.As<wire::NameLost>();
  const std::string name = lost.ok() ? lost->name() : registered_name();
  const std::string winner =
      lost.ok() ? Pid{lost->winner().node(), lost->winner().pid()}.ToString() : "another node";
  Stop(absl::AbortedError(absl::StrCat("name ", name, " lost to ", winner)));
  co_return absl::OkStatus();
}

bool GenServer::Declares(const DeclaredTypes& types, const std::string* type) {
  return std::any_of(types.begin(), types.end(),
                     [type](const DeclaredType& d) { return d.name == type; });
}

bool GenServer::ReplyTypeDeclared(const std::string* request, const std::string* reply) const {
  bool declared = false;
  for (const DeclaredCall& c : call_types_) {
    if (c.request.name != request) continue;
    if (c.reply.name == reply) return true;
    declared = true;
  }
  return !declared;  // A request taken through AcceptAnyCall: its reply is not checked.
}

void GenServer::RefuseUndeclaredReply(const Incoming& in, const Message& reply) {
  const std::string* request = &in.message.type();
  std::string declared;
  for (const DeclaredCall& c : call_types_) {
    if (c.request.name != request) continue;
    absl::StrAppend(&declared, declared.empty() ? "" : ", ", "\"", *c.reply.name, "\"");
  }
  absl::Status error = absl::InternalError(
      absl::StrCat("server ", Label(*ctx_, kind_), " answered a call of type \"", *request,
                   "\" with a reply of type \"", reply.type(), "\" (declared: ", declared, ")"));
  POLIS_LOG(WARNING) << "polis: " << error.message();
  ctx_->ReplyRaw(in.from, error, Message());
}

void GenServer::OnTerminate(ProcessContext& ctx, const absl::Status& reason) {
  ctx_ = &ctx;
  Terminate(reason);
}

wire::ServerDescription GenServer::Describe() const {
  wire::ServerDescription d;
  d.set_kind(kind_);
  std::set<std::string> seen;
  google::protobuf::FileDescriptorSet files;
  for (const DeclaredCall& c : call_types_) {
    // A request declared with several replies is listed once, in both
    // lists; `calls` gathers its replies, in declaration order.
    auto entry = std::find_if(d.mutable_calls()->begin(), d.mutable_calls()->end(),
                              [&c](const wire::CallType& t) {
                                return t.request_type() == *c.request.name;
                              });
    if (entry == d.mutable_calls()->end()) {
      d.add_call_types(*c.request.name);
      wire::CallType* t = d.add_calls();
      t->set_request_type(*c.request.name);
      t->add_reply_types(*c.reply.name);
    } else {
      entry->add_reply_types(*c.reply.name);  // AddCallType keeps pairs unique.
    }
    CollectFile(c.request.descriptor->file(), &seen, &files);
    CollectFile(c.reply.descriptor->file(), &seen, &files);
  }
  auto add = [&](const DeclaredTypes& types,
                 google::protobuf::RepeatedPtrField<std::string>* names) {
    for (const DeclaredType& t : types) {
      names->Add(std::string(*t.name));
      CollectFile(t.descriptor->file(), &seen, &files);
    }
  };
  add(cast_types_, d.mutable_cast_types());
  add(info_types_, d.mutable_info_types());
  files.SerializeToString(d.mutable_file_descriptor_set());
  d.set_accepts_any_call(any_call_);
  d.set_accepts_any_cast(any_cast_);
  d.set_accepts_any_info(any_info_);
  return d;
}

bool GenServer::Accepts(wire::Kind kind, const std::string& type) const {
  // `type` is interned (Behaviour::Accepts), so identity is equality.
  const std::string* t = &type;
  auto has = [t](const DeclaredTypes& v) { return Declares(v, t); };
  switch (kind) {
    case wire::KIND_CALL:
      return any_call_ || std::any_of(call_types_.begin(), call_types_.end(),
                                      [t](const DeclaredCall& c) { return c.request.name == t; });
    case wire::KIND_CAST:
      return any_cast_ || has(cast_types_);
    case wire::KIND_INFO:
      // The runtime's notices are always deliverable: ProcessDown and
      // NodeDown to a server that monitors, NameLost for its default.
      static const std::string* const kProcessDown =
          InternType(wire::ProcessDown::descriptor()->full_name());
      static const std::string* const kNodeDown =
          InternType(wire::NodeDown::descriptor()->full_name());
      static const std::string* const kNameLost =
          InternType(wire::NameLost::descriptor()->full_name());
      return any_info_ || has(info_types_) || t == kProcessDown || t == kNodeDown ||
             t == kNameLost;
    default:
      return false;
  }
}

void GenServer::AddHandler(wire::Kind kind, const google::protobuf::Descriptor* type,
                           const google::protobuf::Descriptor* reply, Invoker invoke,
                           ErasedMethod method, bool of_this_server) {
  const std::string* name = InternType(type->full_name());
  auto fail = [&](absl::string_view why) {
    if (registration_error_.ok()) {
      registration_error_ =
          absl::InvalidArgumentError(absl::StrCat(why, " \"", type->full_name(), "\""));
    }
  };
  if (*name != type->full_name()) {  // The intern table is full (see InternType).
    fail("no room to register a handler (too many message types) for");
    return;
  }
  if (!of_this_server) {
    fail(absl::StrCat("a ", KindName(kind),
                      " handler that is not a method of this server, for type"));
    return;
  }
  for (const Handler& h : handlers_) {
    if (h.type == name && h.kind == kind) {
      fail(absl::StrCat("two ", KindName(kind), " handlers for type"));
      return;
    }
  }
  handlers_.push_back(Handler{name, kind, invoke, method});
  switch (kind) {
    case wire::KIND_CALL:
      AddCallType(type, reply);
      break;
    case wire::KIND_CAST:
      AddType(&cast_types_, type);
      break;
    default:
      AddType(&info_types_, type);
      break;
  }
}

void GenServer::AddCallType(const google::protobuf::Descriptor* req,
                            const google::protobuf::Descriptor* rep) {
  for (const DeclaredCall& c : call_types_) {
    if (c.request.descriptor == req && c.reply.descriptor == rep) return;
  }
  call_types_.push_back(DeclaredCall{DeclaredType{req, InternType(req->full_name())},
                                     DeclaredType{rep, InternType(rep->full_name())}});
}

void GenServer::AddType(DeclaredTypes* v, const google::protobuf::Descriptor* d) {
  for (const DeclaredType& t : *v) {
    if (t.descriptor == d) return;
  }
  v->push_back(DeclaredType{d, InternType(d->full_name())});
}

void GenServer::RefuseUnparsable(const Incoming& in) {
  std::string why = absl::StrCat("server ", Label(*ctx_, kind_), ": the payload of type \"",
                                 in.message.type(), "\" does not parse as one");
  if (in.kind == wire::KIND_CALL) {
    ctx_->ReplyRaw(in.from, absl::InvalidArgumentError(why), Message());
  } else {
    POLIS_LOG(WARNING) << "polis: dropped " << (in.kind == wire::KIND_CAST ? "a" : "an") << " "
                       << KindName(in.kind) << ": " << why;
  }
}

void GenServer::LogHandlerError(const Incoming& in, const absl::Status& error) {
  POLIS_LOG(WARNING) << "polis: server " << Label(*ctx_, kind_) << ": its " << KindName(in.kind)
                     << " handler for \"" << in.message.type() << "\" returned " << error
                     << " (the server keeps running)";
}

void GenServer::AnswerReply(const From& from, const google::protobuf::Message& reply) {
  ctx_->ReplyRaw(from, absl::OkStatus(), Message::From(reply));
}

void GenServer::AnswerError(const From& from, const absl::Status& error) {
  ctx_->ReplyRaw(from, error, Message());
}

void GenServer::ReplyTo(const From& from, const absl::Status& error) {
  ctx_->ReplyRaw(
      from, error.ok() ? absl::InternalError("ReplyTo was given an OK status as an error") : error,
      Message());
}

}  // namespace polis
