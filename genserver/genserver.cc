#include "genserver/genserver.h"

#include <algorithm>
#include <functional>
#include <set>

#include "bus/log.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.pb.h"

namespace polis {
namespace {

// Adds `file` and its dependencies to `out`, dependencies first.
void CollectFile(const google::protobuf::FileDescriptor* file,
                 std::set<std::string>* seen, google::protobuf::FileDescriptorSet* out) {
  if (!seen->insert(file->name()).second) return;
  for (int i = 0; i < file->dependency_count(); ++i) CollectFile(file->dependency(i), seen, out);
  file->CopyTo(out->add_file());
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
  co_return co_await Init();
}

Task<absl::Status> GenServer::OnMessage(ProcessContext& ctx, Incoming& in) {
  switch (in.kind) {
    case wire::KIND_CALL: {
      absl::StatusOr<Reply> reply = co_await HandleCall(in.message, in.from);
      if (!reply.ok()) co_return reply.status();  // Fails the server.
      if (reply->deferred()) co_return absl::OkStatus();
      if (!reply->status().ok()) {
        ctx.ReplyRaw(in.from, reply->status(), Message());
      } else {
        ctx.ReplyRaw(in.from, absl::OkStatus(), *reply->message());
      }
      co_return absl::OkStatus();
    }
    case wire::KIND_CAST:
      co_return co_await HandleCast(in.message);
    default:
      co_return co_await HandleInfo(in.message);
  }
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
  auto add = [&](const DeclaredTypes& types,
                 google::protobuf::RepeatedPtrField<std::string>* names) {
    for (const DeclaredType& t : types) {
      if (names != nullptr) names->Add(std::string(*t.name));
      CollectFile(t.descriptor->file(), &seen, &files);
    }
  };
  add(call_types_, d.mutable_call_types());
  add(reply_types_, nullptr);
  add(cast_types_, d.mutable_cast_types());
  add(info_types_, d.mutable_info_types());
  files.SerializeToString(d.mutable_file_descriptor_set());
  d.set_accepts_any_call(any_call_);
  d.set_accepts_any_cast(any_cast_);
  d.set_accepts_any_info(any_info_);
  return d;
}

bool GenServer::Accepts(wire::Kind kind, const std::string& type) const {
  // `type` is interned (Message::type()), so identity is equality.
  const std::string* t = InternType(type);
  auto has = [t](const DeclaredTypes& v) {
    return std::any_of(v.begin(), v.end(), [t](const DeclaredType& d) { return d.name == t; });
  };
  switch (kind) {
    case wire::KIND_CALL:
      return any_call_ || has(call_types_);
    case wire::KIND_CAST:
      return any_cast_ || has(cast_types_);
    case wire::KIND_INFO:
      // ProcessDown is always deliverable to a server that monitors.
      return any_info_ || has(info_types_) ||
             t == InternType(wire::ProcessDown::descriptor()->full_name());
    default:
      return false;
  }
}

void GenServer::AddCallType(const google::protobuf::Descriptor* req,
                            const google::protobuf::Descriptor* rep) {
  AddType(&call_types_, req);
  AddType(&reply_types_, rep);
}

void GenServer::AddType(DeclaredTypes* v, const google::protobuf::Descriptor* d) {
  for (const DeclaredType& t : *v) {
    if (t.descriptor == d) return;
  }
  v->push_back(DeclaredType{d, InternType(d->full_name())});
}

}  // namespace polis
