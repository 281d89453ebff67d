// genserver/server_kinds.cc — see server_kinds.h.
#include "genserver/server_kinds.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "genserver/internal/kind_args.h"
#include "google/protobuf/descriptor.h"

namespace polis {
namespace {

// One registered kind: free-form (`prototype` null, `free_form` set) or
// typed (`prototype` is its Args' default instance, `typed` set).
struct Entry {
  ServerFactory free_form;
  const google::protobuf::Message* prototype = nullptr;
  std::function<absl::StatusOr<std::unique_ptr<Behaviour>>(const google::protobuf::Message&)> typed;
};

struct Kinds {
  absl::Mutex mu;
  std::map<std::string, Entry> entries ABSL_GUARDED_BY(mu);
  std::vector<std::string> refused ABSL_GUARDED_BY(mu);  // Kinds registered twice, in order.
};

Kinds& Registry() {
  static Kinds* kinds = new Kinds;  // Never destroyed: used during static init.
  return *kinds;
}

bool Add(const std::string& kind, Entry entry) {
  Kinds& k = Registry();
  absl::MutexLock lock(&k.mu);
  if (k.entries.emplace(kind, std::move(entry)).second) return true;
  k.refused.push_back(kind);
  return false;
}

absl::StatusOr<Entry> Find(const std::string& kind) {
  Kinds& k = Registry();
  absl::MutexLock lock(&k.mu);
  auto it = k.entries.find(kind);
  if (it == k.entries.end()) {
    std::vector<std::string> known;
    for (const auto& [name, e] : k.entries) known.push_back(name);
    return absl::NotFoundError(absl::StrCat("unknown server kind \"", kind,
                                            "\" (known: ", absl::StrJoin(known, ", "), ")"));
  }
  return it->second;
}

// A typed kind's Args filled from the spec's fields; nullptr for a
// free-form kind (after checking it was not given typed_args).
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> ResolveArgs(
    const std::string& kind, const Entry& entry, const google::protobuf::Struct& args,
    const google::protobuf::Any& typed_args) {
  const bool has_typed = !typed_args.type_url().empty();
  if (has_typed && args.fields_size() > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind ", kind, ": give args or typed_args, not both"));
  }
  if (entry.prototype == nullptr) {
    if (has_typed) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kind ", kind, " takes free-form args (a google.protobuf.Struct in args), not typed_args",
          " (got ", internal::AnyTypeName(typed_args), ")"));
    }
    return nullptr;
  }
  std::unique_ptr<google::protobuf::Message> out(entry.prototype->New());
  absl::Status s = has_typed ? internal::ArgsFromAny(kind, typed_args, out.get())
                             : internal::ArgsFromStruct(kind, args, out.get());
  if (!s.ok()) return s;
  return out;
}

}  // namespace

bool ServerKinds::Register(const std::string& kind, ServerFactory factory) {
  Entry entry;
  entry.free_form = std::move(factory);
  return Add(kind, std::move(entry));
}

bool ServerKinds::RegisterTyped(const std::string& kind, const google::protobuf::Message& prototype,
                                MessageFactory factory) {
  Entry entry;
  entry.prototype = &prototype;
  entry.typed = std::move(factory);
  return Add(kind, std::move(entry));
}

absl::StatusOr<std::unique_ptr<Behaviour>> ServerKinds::Create(
    const std::string& kind, const google::protobuf::Struct& args,
    const google::protobuf::Any& typed_args) {
  absl::StatusOr<Entry> entry = Find(kind);
  if (!entry.ok()) return entry.status();
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> resolved =
      ResolveArgs(kind, *entry, args, typed_args);
  if (!resolved.ok()) return resolved.status();
  if (*resolved == nullptr) return entry->free_form(args);
  return entry->typed(**resolved);
}

absl::Status ServerKinds::CheckArgs(const std::string& kind, const google::protobuf::Struct& args,
                                    const google::protobuf::Any& typed_args) {
  absl::StatusOr<Entry> entry = Find(kind);
  if (!entry.ok()) return entry.status();
  return ResolveArgs(kind, *entry, args, typed_args).status();
}

absl::StatusOr<std::string> ServerKinds::ArgsType(const std::string& kind) {
  absl::StatusOr<Entry> entry = Find(kind);
  if (!entry.ok()) return entry.status();
  if (entry->prototype == nullptr) return std::string("google.protobuf.Struct");
  return entry->prototype->GetDescriptor()->full_name();
}

std::vector<std::string> ServerKinds::List() {
  Kinds& k = Registry();
  absl::MutexLock lock(&k.mu);
  std::vector<std::string> out;
  for (const auto& [name, e] : k.entries) out.push_back(name);
  return out;
}

std::vector<std::string> ServerKinds::Refused() {
  Kinds& k = Registry();
  absl::MutexLock lock(&k.mu);
  return k.refused;
}

}  // namespace polis
