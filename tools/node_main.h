// tools/node_main.h — the node runner as a library: a user's main() runs
// their own server kinds with everything `polis node` gives.
//
// polis::NodeMain is `polis node` (the same code, tools/node_cli.h): the
// same flags and config file, --load, the root supervisor and supervision
// tree, SIGINT/SIGTERM handling, SIGHUP reloading --authorized-keys, the
// ready line "node NAME listening on ENDPOINT", --help, and exit codes 0
// (stopped cleanly), 1 (the node or its root supervisor failed), 2 (usage
// error, bad config file, unknown kind, bad plugin). The kinds it can start are those the program registered
// (POLIS_REGISTER_SERVER_KIND, or ServerKinds::Register before the call)
// and those of --load plugins; link polis::runner (it does not bring the
// example kinds). It first sets glibc's malloc thresholds so that big
// messages reuse heap memory instead of faulting fresh pages in each time
// (tools/malloc_tuning.h: mmap below 32 MiB off, trim past 64 MiB free).
//
// Thread-safety: call once, from main, before starting other threads (it
// blocks SIGINT/SIGTERM/SIGHUP for every thread the node starts).
//
// Example (a user's whole main()):
//   int main(int argc, char** argv) {
//     polis::ServerKinds::Register("accounts", &MakeAccounts);
//     return polis::NodeMain(argc, argv);
//   }
//   // ./accounts_node --name=a --listen=tcp://127.0.0.1:7000 --serve=accounts
#ifndef POLIS_TOOLS_NODE_MAIN_H_
#define POLIS_TOOLS_NODE_MAIN_H_

namespace polis {

// argv[0] is the program (named in the usage text); the rest are exactly
// the flags of `polis node`. Returns the exit code; blocks until the node
// stops.
int NodeMain(int argc, char** argv);

}  // namespace polis

#endif  // POLIS_TOOLS_NODE_MAIN_H_
