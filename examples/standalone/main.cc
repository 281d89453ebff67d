// examples/standalone/main.cc — a node binary hosting the "accounts" kind:
// everything `polis node` does (flags, config file, root supervisor,
// signals, exit codes), with this project's kinds and no others.
//   accounts_node --name=a --listen=tcp://127.0.0.1:7101 --serve=accounts:alice
#include "accounts.h"
#include "genserver/server_kinds.h"
#include "tools/node_main.h"

int main(int argc, char** argv) {
  polis::ServerKinds::Register<accounts::AccountsArgs>("accounts", &accounts::MakeAccounts);
  return polis::NodeMain(argc, argv);
}
