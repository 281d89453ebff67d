// tools/client_command.cc — see client_command.h.
#include "tools/client_command.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bus/authorized_keys.h"
#include "bus/curve_keys.h"
#include "node/node.h"
#include "tools/node_config.h"
#include "tools/dynamic_types.h"
#include "tools/request_choice.h"
#include "tools/text_output.h"

namespace polis::tools {

absl::Duration Remaining(absl::Time deadline) {
  return std::max(deadline - absl::Now(), absl::Milliseconds(1));
}

namespace {
std::shared_ptr<bus::CurveSecurity>& ClientCurve() {
  static std::shared_ptr<bus::CurveSecurity> curve;  // Set once, by main's thread.
  return curve;
}
}  // namespace

absl::StatusOr<std::string> UseClientKeys(const std::string& seed, const std::string& key_file,
                                          const std::string& server_key) {
  auto [endpoint, seed_key] = SplitSeedKey(seed);
  const std::string& server = seed_key.empty() ? server_key : seed_key;
  if (key_file.empty() && server.empty()) return endpoint;
  if (key_file.empty()) {
    return absl::InvalidArgumentError(
        "a server key needs --key=NAME.key (this client's own key, authorized on the node)");
  }
  if (server.empty()) {
    return absl::InvalidArgumentError(
        "--key needs the node's public key: --server-key=NAME.pub or --seed=ENDPOINT@NAME.pub");
  }
  absl::StatusOr<bus::CurveKeyPair> own = bus::LoadCurveSecretKeyFile(key_file);
  if (!own.ok()) return own.status();
  absl::StatusOr<std::string> pub = bus::LoadCurvePublicKey(server);
  if (!pub.ok()) return pub.status();
  absl::StatusOr<std::shared_ptr<const bus::AuthorizedKeys>> none =
      bus::AuthorizedKeys::Parse("", "(client)");
  if (!none.ok()) return none.status();
  ClientCurve() = std::make_shared<bus::CurveSecurity>(*own, *none, *pub);
  return endpoint;
}

absl::StatusOr<std::unique_ptr<Node>> JoinAsClient(const std::string& seed, absl::Time deadline) {
  NodeOptions options;
  options.curve = ClientCurve();
  options.name = absl::StrCat("polis-cli-", getpid());
  options.client = true;
  options.scheduler_threads = 1;
  options.seeds = {seed};
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Create(std::move(options));
  if (!node.ok()) return node.status();
  if (absl::Status s = (*node)->Join(Remaining(deadline)); !s.ok()) return s;
  return node;
}

namespace {

// The request after the join: describe, build, send under `trace`.
absl::Status Deliver(Node& node, const ClientRequest& request, const TraceContext& trace,
                  absl::Time deadline, std::string* reply_json) {
  absl::StatusOr<wire::ServerDescription> description =
      node.Describe(request.name, Remaining(deadline));
  if (!description.ok()) return description.status();
  absl::StatusOr<std::unique_ptr<DynamicTypes>> types =
      DynamicTypes::Create(description->file_descriptor_set());
  if (!types.ok()) return types.status();
  absl::StatusOr<ChosenRequest> chosen =
      ChooseRequest(*description, request.kind, request.type, **types, request.json);
  if (!chosen.ok()) return chosen.status();
  const google::protobuf::Message& message = *chosen->message;

  ScopedTrace scope(trace);
  switch (request.kind) {
    case wire::KIND_CAST:
      return node.Cast(request.name, message);
    case wire::KIND_INFO:
      return node.Send(request.name, message);
    default:
      break;
  }
  absl::StatusOr<Message> reply = node.CallRaw(request.name, message, Remaining(deadline));
  if (!reply.ok()) return reply.status();
  if (reply->type().empty()) {
    *reply_json = "{}";
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> json = (*types)->ToJson(reply->type(), reply->bytes());
  if (!json.ok()) return json.status();
  *reply_json = *std::move(json);
  return absl::OkStatus();
}

}  // namespace

ClientResult RunClient(const ClientRequest& request) {
  ClientResult result;
  if (request.trace.has_value()) result.trace_id = request.trace->trace_id.Hex();
  const absl::Time deadline = absl::Now() + request.timeout;
  absl::StatusOr<std::unique_ptr<Node>> node = JoinAsClient(request.seed, deadline);
  if (!node.ok()) {
    result.status = node.status();
    return result;
  }
  const TraceContext trace = request.trace.has_value() ? *request.trace : (*node)->StartTrace();
  result.trace_id = trace.trace_id.Hex();
  result.status = Deliver(**node, request, trace, deadline, &result.reply_json);
  return result;
}

ClientOutput FormatClientResult(const ClientRequest& request, const ClientResult& result) {
  ClientOutput output;
  const std::string trace_json =
      result.trace_id.empty() ? "null" : absl::StrCat("\"", result.trace_id, "\"");
  if (!result.status.ok()) {
    const std::string code = absl::StatusCodeToString(result.status.code());
    output.exit_code = 1;
    output.err = absl::StrCat(code, ": ", result.status.message(), "\n");
    if (request.json_output) {
      output.out = absl::StrCat("{\"error\":{\"code\":", JsonQuote(code),
                                ",\"message\":", JsonQuote(result.status.message()),
                                "},\"trace_id\":", trace_json, "}\n");
    }
  } else if (request.json_output) {
    output.out = request.kind == wire::KIND_CALL
                     ? absl::StrCat("{\"reply\":", result.reply_json,
                                    ",\"trace_id\":", trace_json, "}\n")
                     : absl::StrCat("{\"trace_id\":", trace_json, "}\n");
  } else if (request.kind == wire::KIND_CALL) {
    output.out = absl::StrCat(result.reply_json, "\n");
  }
  if (!result.trace_id.empty()) absl::StrAppend(&output.err, "trace_id=", result.trace_id, "\n");
  return output;
}

}  // namespace polis::tools
