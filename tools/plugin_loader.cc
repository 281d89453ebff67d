// tools/plugin_loader.cc — see plugin_loader.h.
#include "tools/plugin_loader.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "genserver/server_kinds.h"
#include "genserver/server_plugin.h"

namespace polis::tools {
namespace {

absl::Status LoadOne(const std::string& path) {
  const std::string where = absl::StrCat("--load=", path, ": ");
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(where, "cannot open: ", std::strerror(errno)));
  }
  const std::vector<std::string> kinds_before = ServerKinds::List();
  const size_t refused_before = ServerKinds::Refused().size();
  // dlopen searches the library path for a name without '/': "as given"
  // means from the working directory.
  const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  dlerror();
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = dlerror();
    return absl::FailedPreconditionError(
        absl::StrCat(where, "cannot load: ", error != nullptr ? error : "dlopen failed"));
  }
  // Never dlclose'd: its kinds' factories live in it.
  const void* marker = dlsym(handle, POLIS_PLUGIN_ABI_SYMBOL);
  if (marker == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, "not a polis plugin (no ", POLIS_PLUGIN_ABI_SYMBOL,
        " symbol: a plugin writes POLIS_SERVER_PLUGIN() once, genserver/server_plugin.h)"));
  }
  const std::string abi(static_cast<const char*>(marker));
  if (abi != POLIS_PLUGIN_ABI) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, "built against another polis ABI: \"", abi, "\"; this program is \"",
                     POLIS_PLUGIN_ABI, "\" (rebuild the plugin against it)"));
  }
  const std::vector<std::string> refused = ServerKinds::Refused();
  if (refused.size() > refused_before) {
    std::vector<std::string> names(refused.begin() + static_cast<long>(refused_before),
                                   refused.end());
    return absl::AlreadyExistsError(
        absl::StrCat(where, "registers server kind \"", absl::StrJoin(names, "\", \""),
                     "\", already registered (by the program or an earlier --load); "
                     "rename the plugin's kind"));
  }
  const std::vector<std::string> kinds_after = ServerKinds::List();
  std::vector<std::string> added;
  std::set_difference(kinds_after.begin(), kinds_after.end(), kinds_before.begin(),
                      kinds_before.end(), std::back_inserter(added));
  if (added.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(where,
                     "registers no server kind (POLIS_REGISTER_SERVER_KIND in the plugin; is the "
                     "file holding it linked into the library?)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadServerPlugins(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    if (absl::Status s = LoadOne(path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace polis::tools
