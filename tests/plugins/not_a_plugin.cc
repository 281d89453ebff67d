// tests/plugins/not_a_plugin.cc — a shared library without the polis plugin
// marker: `polis node --load` must refuse it (runner_e2e_test).
extern "C" int not_a_polis_plugin() { return 42; }
