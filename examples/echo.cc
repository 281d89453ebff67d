// examples/echo.cc — see echo.h.
#include "examples/echo.h"

#include <memory>

#include "examples/args.h"
#include "genserver/server_kinds.h"
#include "google/protobuf/struct.pb.h"

namespace polis::examples {

Echo::Echo() {
  AcceptCall<google::protobuf::Struct, google::protobuf::Struct>();
  AcceptAnyCall();
  AcceptAnyCast();
  AcceptAnyInfo();
  set_kind("echo");
}

Task<absl::StatusOr<GenServer::Reply>> Echo::HandleCall(const Message& request,
                                                        const From& from) {
  co_return Reply(request);
}

Task<absl::Status> Echo::HandleCast(const Message& message) { co_return absl::OkStatus(); }

Task<absl::Status> Echo::HandleInfo(const Message& message) { co_return absl::OkStatus(); }

namespace {

absl::StatusOr<std::unique_ptr<Behaviour>> MakeEcho(const google::protobuf::Struct& args) {
  absl::Status known = CheckKnownArgs("echo", args, {});
  if (!known.ok()) return known;
  return std::make_unique<Echo>();
}

POLIS_REGISTER_SERVER_KIND("echo", MakeEcho);

}  // namespace
}  // namespace polis::examples
