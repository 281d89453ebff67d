// tests/plugins/no_kind_plugin.cc — a plugin that registers no kind: --load
// must refuse it.
#include "genserver/server_plugin.h"

POLIS_SERVER_PLUGIN();
