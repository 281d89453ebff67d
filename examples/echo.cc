// examples/echo.cc — see echo.h.
#include "examples/echo.h"

#include <memory>

#include "genserver/server_kinds.h"
#include "google/protobuf/empty.pb.h"

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

// Takes no arguments: Empty refuses any field given in args.
absl::StatusOr<std::unique_ptr<Behaviour>> MakeEcho(const google::protobuf::Empty&) {
  return std::make_unique<Echo>();
}

POLIS_REGISTER_TYPED_SERVER_KIND("echo", google::protobuf::Empty, MakeEcho);

}  // namespace
}  // namespace polis::examples
