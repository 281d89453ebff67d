// examples/standalone/plugin.cc — the same kind as a plugin for the stock
// runner: polis node --load=./libaccounts_kinds.so --serve=accounts:bob
#include "accounts.h"
#include "genserver/server_kinds.h"
#include "genserver/server_plugin.h"

POLIS_SERVER_PLUGIN();

POLIS_REGISTER_TYPED_SERVER_KIND("accounts", accounts::AccountsArgs, accounts::MakeAccounts);
