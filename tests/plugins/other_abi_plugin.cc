// tests/plugins/other_abi_plugin.cc — a library whose marker names another
// polis ABI (as a plugin built against another release would): --load must
// refuse it, naming both.
extern "C" __attribute__((visibility("default"), used)) const char polis_server_plugin_abi[] =
    "polis 0.0.1; gcc 9; libstdc++ cxx11-abi";
