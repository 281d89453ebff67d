// examples/kv.cc — see kv.h.
#include "examples/kv.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "genserver/server_kinds.h"
#include "google/protobuf/empty.pb.h"

namespace polis::examples {

Kv::Kv() {
  OnCall(&Kv::Answer);
  set_kind("kv");
}

Task<absl::StatusOr<KvReply>> Kv::Answer(const KvRequest& req) {
  KvReply reply;
  switch (req.op_case()) {
    case KvRequest::kPut: {
      auto [it, inserted] = entries_.insert_or_assign(req.put().key(), req.put().value());
      reply.set_existed(!inserted);
      co_return reply;
    }
    case KvRequest::kGet: {
      auto it = entries_.find(req.get().key());
      if (it == entries_.end()) {
        co_return absl::NotFoundError(absl::StrCat("no key \"", req.get().key(), "\""));
      }
      reply.set_value(it->second);
      co_return reply;
    }
    case KvRequest::kDelete:
      reply.set_existed(entries_.erase(req.delete_().key()) > 0);
      co_return reply;
    case KvRequest::kList:
      for (const auto& [key, value] : entries_) reply.add_keys(key);
      co_return reply;
    case KvRequest::OP_NOT_SET:
      break;
  }
  co_return absl::InvalidArgumentError("KvRequest: no op set (put, get, delete, list)");
}

namespace {

// Takes no arguments: Empty refuses any field given in args.
absl::StatusOr<std::unique_ptr<Behaviour>> MakeKv(const google::protobuf::Empty&) {
  return std::make_unique<Kv>();
}

POLIS_REGISTER_TYPED_SERVER_KIND("kv", google::protobuf::Empty, MakeKv);

}  // namespace
}  // namespace polis::examples
