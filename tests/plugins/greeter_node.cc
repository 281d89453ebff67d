// tests/plugins/greeter_node.cc — a user's own node binary, as
// tools/node_main.h shows it: one kind of its own ("greeter") and
// polis::NodeMain; linked with polis::runner only (no example kinds).
// runner_e2e_test runs it as a real process.
#include <memory>

#include "genserver/genserver.h"
#include "genserver/server_kinds.h"
#include "google/protobuf/struct.pb.h"
#include "tools/node_main.h"

namespace {

// {"name": "ada"} -> {"greeting": "hello, ada"}.
class Greeter : public polis::GenServer {
 public:
  Greeter() {
    OnCall(&Greeter::Greet);
    set_kind("greeter");
  }

 private:
  polis::Task<absl::StatusOr<google::protobuf::Struct>> Greet(
      const google::protobuf::Struct& request) {
    google::protobuf::Struct reply;
    auto it = request.fields().find("name");
    const std::string name = it == request.fields().end() ? "world" : it->second.string_value();
    (*reply.mutable_fields())["greeting"].set_string_value("hello, " + name);
    co_return reply;
  }
};

absl::StatusOr<std::unique_ptr<polis::Behaviour>> MakeGreeter(const google::protobuf::Struct&) {
  return std::make_unique<Greeter>();
}

}  // namespace

int main(int argc, char** argv) {
  polis::ServerKinds::Register("greeter", &MakeGreeter);
  return polis::NodeMain(argc, argv);
}
