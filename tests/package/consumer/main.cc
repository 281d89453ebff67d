// tests/package/consumer/main.cc — a GenServer built against the installed
// polis package only. Starts an in-process node, spawns an Accounts server,
// deposits twice with one call each, and exits 0 iff the second reply is the
// sum of both deposits (1 and a message otherwise).
#include <cstdio>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "accounts.pb.h"
#include "genserver/genserver.h"
#include "node/node.h"

namespace {

// Keeps one balance per account; a Deposit call answers the new Balance.
class Accounts : public polis::GenServer {
 public:
  Accounts() { OnCall(&Accounts::Add); }

 private:
  polis::Task<absl::StatusOr<consumer::Balance>> Add(const consumer::Deposit& deposit) {
    int64_t& cents = balances_[deposit.account()];
    cents += deposit.cents();
    consumer::Balance balance;
    balance.set_account(deposit.account());
    balance.set_cents(cents);
    co_return balance;
  }

  absl::flat_hash_map<std::string, int64_t> balances_;
};

int Fail(const std::string& what) {
  std::fprintf(stderr, "consumer: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main() {
  absl::StatusOr<std::unique_ptr<polis::Node>> node =
      polis::Node::Create({.name = "consumer", .scheduler_threads = 2});
  if (!node.ok()) return Fail(node.status().ToString());
  if (absl::StatusOr<polis::Pid> pid =
          (*node)->Spawn(std::make_unique<Accounts>(), {.name = "accounts"});
      !pid.ok()) {
    return Fail(pid.status().ToString());
  }
  consumer::Deposit deposit;
  deposit.set_account("alice");
  deposit.set_cents(250);
  absl::StatusOr<consumer::Balance> first = (*node)->Call<consumer::Balance>("accounts", deposit);
  deposit.set_cents(125);
  absl::StatusOr<consumer::Balance> second = (*node)->Call<consumer::Balance>("accounts", deposit);
  (*node)->Shutdown();
  if (!first.ok()) return Fail(first.status().ToString());
  if (!second.ok()) return Fail(second.status().ToString());
  if (second->account() != "alice" || second->cents() != 375) {
    return Fail("wrong balance: " + second->ShortDebugString());
  }
  std::printf("consumer: alice has %lld cents\n", static_cast<long long>(second->cents()));
  return 0;
}
