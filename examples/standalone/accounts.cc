// examples/standalone/accounts.cc — see accounts.h.
#include "accounts.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "genserver/genserver.h"

namespace accounts {
namespace {

class Accounts : public polis::GenServer {
 public:
  explicit Accounts(int64_t opening_cents) : opening_cents_(opening_cents) {
    set_kind("accounts");
    OnCall(&Accounts::Add);
    OnCall(&Accounts::Read);
  }

 private:
  polis::Task<absl::StatusOr<Balance>> Add(const Deposit& deposit) {
    if (deposit.account().empty()) {
      co_return absl::InvalidArgumentError("a deposit needs an account");
    }
    auto [it, fresh] = balances_.try_emplace(deposit.account(), opening_cents_);
    it->second += deposit.cents();
    Balance balance;
    balance.set_account(deposit.account());
    balance.set_cents(it->second);
    co_return balance;
  }

  polis::Task<absl::StatusOr<Balance>> Read(const Lookup& lookup) {
    auto it = balances_.find(lookup.account());
    Balance balance;
    balance.set_account(lookup.account());
    balance.set_cents(it == balances_.end() ? opening_cents_ : it->second);
    co_return balance;
  }

  const int64_t opening_cents_;
  absl::flat_hash_map<std::string, int64_t> balances_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<polis::Behaviour>> MakeAccounts(const AccountsArgs& args) {
  if (args.opening_cents() < 0) {
    return absl::InvalidArgumentError("accounts: opening_cents must not be negative");
  }
  return std::make_unique<Accounts>(args.opening_cents());
}

}  // namespace accounts
