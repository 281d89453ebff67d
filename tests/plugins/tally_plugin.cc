// tests/plugins/tally_plugin.cc — a server plugin for runner_e2e_test:
// kind "tally" (a running total, its own .proto), loaded by the real
// `polis` binary with --load. Built as a MODULE against polis::plugin only.
#include <memory>

#include "genserver/genserver.h"
#include "genserver/server_kinds.h"
#include "genserver/server_plugin.h"
#include "tests/plugins/tally.pb.h"

POLIS_SERVER_PLUGIN();

namespace polis::tests {
namespace {

class Tally : public GenServer {
 public:
  Tally() {
    OnCall(&Tally::Add);
    set_kind("tally");
  }

 private:
  Task<absl::StatusOr<TallyReply>> Add(const TallyRequest& request) {
    total_ += request.add();
    TallyReply reply;
    reply.set_total(total_);
    co_return reply;
  }

  int64_t total_ = 0;
};

absl::StatusOr<std::unique_ptr<Behaviour>> MakeTally(const google::protobuf::Struct&) {
  return std::make_unique<Tally>();
}

POLIS_REGISTER_SERVER_KIND("tally", MakeTally);

}  // namespace
}  // namespace polis::tests
