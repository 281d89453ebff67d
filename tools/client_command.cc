// tools/client_command.cc — see client_command.h.
#include "tools/client_command.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "node/node.h"
#include "tools/dynamic_types.h"

namespace polis::tools {
namespace {

const google::protobuf::RepeatedPtrField<std::string>& DeclaredTypes(
    const wire::ServerDescription& d, wire::Kind kind) {
  switch (kind) {
    case wire::KIND_CAST:
      return d.cast_types();
    case wire::KIND_INFO:
      return d.info_types();
    default:
      return d.call_types();
  }
}

const char* KindWord(wire::Kind kind) {
  switch (kind) {
    case wire::KIND_CAST:
      return "cast";
    case wire::KIND_INFO:
      return "info";
    default:
      return "call";
  }
}

}  // namespace

absl::Duration Remaining(absl::Time deadline) {
  return std::max(deadline - absl::Now(), absl::Milliseconds(1));
}

absl::StatusOr<std::unique_ptr<Node>> JoinAsClient(const std::string& seed, absl::Time deadline) {
  NodeOptions options;
  options.name = absl::StrCat("polis-cli-", getpid());
  options.client = true;
  options.scheduler_threads = 1;
  options.seeds = {seed};
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Create(std::move(options));
  if (!node.ok()) return node.status();
  if (absl::Status s = (*node)->Join(Remaining(deadline)); !s.ok()) return s;
  return node;
}

absl::StatusOr<std::string> PickRequestType(const wire::ServerDescription& d, wire::Kind kind,
                                            const std::string& wanted) {
  const auto& declared = DeclaredTypes(d, kind);
  if (!wanted.empty()) {
    for (const std::string& t : declared) {
      if (t == wanted) return t;
    }
    // A server that declares no types of this kind may still accept any
    // (e.g. echo's casts); let the runtime decide.
    if (declared.empty()) return wanted;
    return absl::InvalidArgumentError(absl::StrCat("server \"", d.name(), "\" does not declare ",
                                                   KindWord(kind), " type ", wanted,
                                                   " (declared: ", absl::StrJoin(declared, ", "),
                                                   ")"));
  }
  if (declared.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("server \"", d.name(), "\" declares no ",
                                                   KindWord(kind),
                                                   " types; name one with --type=FULL.NAME"));
  }
  return declared[0];
}

absl::StatusOr<std::string> RunClient(const ClientRequest& request) {
  const absl::Time deadline = absl::Now() + request.timeout;
  absl::StatusOr<std::unique_ptr<Node>> node = JoinAsClient(request.seed, deadline);
  if (!node.ok()) return node.status();

  absl::StatusOr<wire::ServerDescription> description =
      (*node)->Describe(request.name, Remaining(deadline));
  if (!description.ok()) return description.status();
  absl::StatusOr<std::unique_ptr<DynamicTypes>> types =
      DynamicTypes::Create(description->file_descriptor_set());
  if (!types.ok()) return types.status();
  absl::StatusOr<std::string> type = PickRequestType(*description, request.kind, request.type);
  if (!type.ok()) return type.status();
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> message =
      (*types)->FromJson(*type, request.json);
  if (!message.ok()) return message.status();

  switch (request.kind) {
    case wire::KIND_CAST:
      if (absl::Status s = (*node)->Cast(request.name, **message); !s.ok()) return s;
      return std::string();
    case wire::KIND_INFO:
      if (absl::Status s = (*node)->Send(request.name, **message); !s.ok()) return s;
      return std::string();
    default:
      break;
  }
  absl::StatusOr<Message> reply = (*node)->CallRaw(request.name, **message, Remaining(deadline));
  if (!reply.ok()) return reply.status();
  if (reply->type().empty()) return std::string("{}");
  return (*types)->ToJson(reply->type(), reply->bytes());
}

}  // namespace polis::tools
