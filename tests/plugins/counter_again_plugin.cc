// tests/plugins/counter_again_plugin.cc — a plugin registering "counter",
// which the `polis` binary already has: --load must refuse it.
#include <memory>

#include "genserver/genserver.h"
#include "genserver/server_kinds.h"
#include "genserver/server_plugin.h"

POLIS_SERVER_PLUGIN();

namespace {

absl::StatusOr<std::unique_ptr<polis::Behaviour>> MakeNothing(const google::protobuf::Struct&) {
  return absl::UnimplementedError("never made");
}

POLIS_REGISTER_SERVER_KIND("counter", MakeNothing);

}  // namespace
