// examples/standalone/accounts.h — the template's one server kind,
// "accounts": balances in cents, one per account name, starting at the
// kind's AccountsArgs.opening_cents. Calls: Deposit and Lookup, each
// answered with a Balance.
//
// Thread-safety: a GenServer; its state is touched only by its handlers.
//
// Example (a node binary, main.cc):
//   polis::ServerKinds::Register<accounts::AccountsArgs>("accounts", &accounts::MakeAccounts);
//   return polis::NodeMain(argc, argv);
#ifndef ACCOUNTS_ACCOUNTS_H_
#define ACCOUNTS_ACCOUNTS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "accounts.pb.h"
#include "node/behaviour.h"

namespace accounts {

// A new accounts server. INVALID_ARGUMENT for a negative opening balance.
absl::StatusOr<std::unique_ptr<polis::Behaviour>> MakeAccounts(const AccountsArgs& args);

}  // namespace accounts

#endif  // ACCOUNTS_ACCOUNTS_H_
