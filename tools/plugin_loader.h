// tools/plugin_loader.h — loads server plugins (`polis node --load=PATH`).
//
// Each path is dlopen'ed (RTLD_NOW | RTLD_LOCAL) in order; the library's
// static initializers register its server kinds (POLIS_REGISTER_SERVER_KIND)
// with the program's one ServerKinds registry, whose symbols the `polis`
// executable exports. Then the library is checked: it must carry the marker
// of genserver/server_plugin.h with this program's ABI tag, register at
// least one kind, and none that was already registered. A relative path is
// taken from the working directory as given (never searched for in the
// library path). Libraries stay loaded for the life of the program.
//
// The checks run after the library's initializers ran (dlopen runs them):
// a refused library leaves the program in an undefined state, so the
// caller must exit, as `polis node` does (exit code 2), before starting
// anything.
//
// Thread-safety: call from main, before any node starts.
//
// Example:
//   absl::Status s = LoadServerPlugins({"./libtally.so"});
//   // FAILED_PRECONDITION: --load=./libnot.so: not a polis plugin (...)
#ifndef POLIS_TOOLS_PLUGIN_LOADER_H_
#define POLIS_TOOLS_PLUGIN_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace polis::tools {

// Loads every library of `paths`, in order; stops at the first error. The
// message starts with "--load=PATH: ". Errors: NOT_FOUND, the file does not
// exist; FAILED_PRECONDITION, dlopen failed (dlerror()'s text), no marker
// ("not a polis plugin"), another ABI (both tags), a kind already
// registered (ALREADY_EXISTS), no kind registered at all.
absl::Status LoadServerPlugins(const std::vector<std::string>& paths);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_PLUGIN_LOADER_H_
