#include "genserver/server_kinds.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

namespace polis {
namespace {

struct Kinds {
  absl::Mutex mu;
  std::map<std::string, ServerFactory> factories ABSL_GUARDED_BY(mu);
  std::vector<std::string> refused ABSL_GUARDED_BY(mu);
};

Kinds& Registry() {
  static Kinds* kinds = new Kinds;  // Never destroyed: used during static init.
  return *kinds;
}

}  // namespace

bool ServerKinds::Register(const std::string& kind, ServerFactory factory) {
  Kinds& k = Registry();
  absl::MutexLock lock(&k.mu);
  if (k.factories.emplace(kind, std::move(factory)).second) return true;
  k.refused.push_back(kind);
  return false;
}

absl::StatusOr<std::unique_ptr<Behaviour>> ServerKinds::Create(
    const std::string& kind, const google::protobuf::Struct& args) {
  ServerFactory factory;
  {
    Kinds& k = Registry();
    absl::MutexLock lock(&k.mu);
    auto it = k.factories.find(kind);
    if (it == k.factories.end()) {
      std::vector<std::string> known;
      for (const auto& [name, f] : k.factories) known.push_back(name);
      return absl::NotFoundError(absl::StrCat("unknown server kind \"", kind, "\" (known: ",
                                              absl::StrJoin(known, ", "), ")"));
    }
    factory = it->second;
  }
  return factory(args);
}

std::vector<std::string> ServerKinds::List() {
  Kinds& k = Registry();
  absl::MutexLock lock(&k.mu);
  std::vector<std::string> out;
  for (const auto& [name, f] : k.factories) out.push_back(name);
  return out;
}

std::vector<std::string> ServerKinds::Refused() {
  Kinds& k = Registry();
  absl::MutexLock lock(&k.mu);
  return k.refused;
}

}  // namespace polis
