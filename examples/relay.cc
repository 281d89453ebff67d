// examples/relay.cc — see relay.h.
#include "examples/relay.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "genserver/server_kinds.h"
#include "google/protobuf/empty.pb.h"

namespace polis::examples {

Relay::Relay() {
  OnCall(&Relay::Forward);  // RelayRequest -> CounterReply
  set_kind("relay");
}

Task<absl::StatusOr<CounterReply>> Relay::Forward(const RelayRequest& request) {
  if (request.via().empty()) {
    co_return absl::InvalidArgumentError(
        "RelayRequest: via is empty (list the relays to go through, then the counter)");
  }
  const std::string next = request.via(0);
  absl::StatusOr<CounterReply> reply;
  if (request.via_size() == 1) {
    reply = co_await Call<CounterReply>(next, request.request());
  } else {
    RelayRequest rest;
    rest.mutable_via()->CopyFrom(request.via());
    rest.mutable_via()->erase(rest.mutable_via()->begin());
    *rest.mutable_request() = request.request();
    reply = co_await Call<CounterReply>(next, rest);
  }
  if (!reply.ok()) {
    const std::string self = registered_name().empty() ? "relay" : registered_name();
    co_return AddHop(reply.status(), self, next);
  }
  co_return reply;
}

absl::Status AddHop(const absl::Status& error, absl::string_view self, absl::string_view next) {
  const std::string next_prefix = absl::StrCat(next, " -> ");
  const std::string message =
      absl::StartsWith(error.message(), next_prefix)
          ? absl::StrCat(self, " -> ", error.message())
          : absl::StrCat(self, " -> ", next, ": ", error.message());
  absl::Status out(error.code(), message);
  error.ForEachPayload([&out](absl::string_view type_url, const absl::Cord& payload) {
    out.SetPayload(type_url, payload);
  });
  return out;
}

namespace {

// Takes no arguments: Empty refuses any field given in args.
absl::StatusOr<std::unique_ptr<Behaviour>> MakeRelay(const google::protobuf::Empty&) {
  return std::make_unique<Relay>();
}

POLIS_REGISTER_TYPED_SERVER_KIND("relay", google::protobuf::Empty, MakeRelay);

}  // namespace
}  // namespace polis::examples
