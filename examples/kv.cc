// examples/kv.cc — see kv.h.
#include "examples/kv.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "examples/args.h"
#include "genserver/server_kinds.h"

namespace polis::examples {

Kv::Kv() {
  AcceptCall<KvRequest, KvReply>();
  set_kind("kv");
}

GenServer::Reply Kv::Apply(const KvRequest& req) {
  KvReply reply;
  switch (req.op_case()) {
    case KvRequest::kPut: {
      auto [it, inserted] = entries_.insert_or_assign(req.put().key(), req.put().value());
      reply.set_existed(!inserted);
      return reply;
    }
    case KvRequest::kGet: {
      auto it = entries_.find(req.get().key());
      if (it == entries_.end()) {
        return Reply::Error(absl::NotFoundError(absl::StrCat("no key \"", req.get().key(), "\"")));
      }
      reply.set_value(it->second);
      return reply;
    }
    case KvRequest::kDelete:
      reply.set_existed(entries_.erase(req.delete_().key()) > 0);
      return reply;
    case KvRequest::kList:
      for (const auto& [key, value] : entries_) reply.add_keys(key);
      return reply;
    case KvRequest::OP_NOT_SET:
      break;
  }
  return Reply::Error(absl::InvalidArgumentError("KvRequest: no op set (put, get, delete, list)"));
}

Task<absl::StatusOr<GenServer::Reply>> Kv::HandleCall(const Message& request, const From& from) {
  absl::StatusOr<KvRequest> req = request.As<KvRequest>();
  if (!req.ok()) co_return Reply::Error(req.status());
  co_return Apply(*req);
}

namespace {

absl::StatusOr<std::unique_ptr<Behaviour>> MakeKv(const google::protobuf::Struct& args) {
  absl::Status known = CheckKnownArgs("kv", args, {});
  if (!known.ok()) return known;
  return std::make_unique<Kv>();
}

POLIS_REGISTER_SERVER_KIND("kv", MakeKv);

}  // namespace
}  // namespace polis::examples
