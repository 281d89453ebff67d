// node/internal/seed_resolver.h — keeps a node's seed list resolved: every
// "dns:HOST:PORT" seed (seed_spec.h) is looked up at start and again every
// `refresh`, so nodes that join a headless service later are found.
//
// The list reported is every plain seed (tcp://, ipc://) as given plus every
// address the dns: seeds resolve to, sorted and without duplicates. It is
// reported at once after the first round of lookups (even if empty), then
// only when it differs from the last report. A name that fails to resolve
// keeps the addresses it last resolved to — a DNS blip drops no seed — and
// its failing, and its resolving again, are each logged once (WARNING).
// `on_resolved` (optional) hears every successful lookup of a dns: seed,
// each round, before the list is reported: the node pins the seed's CURVE
// key for each address there (node_core.cc), so a connection to an address
// never precedes its key.
//
// Thread-safety: RefreshNow from any thread. With a dns: seed, one thread
// ("polis-seeds") resolves and calls `on_change`; `on_change` may call
// RefreshNow but must not destroy the resolver. Without one, no thread is
// started and `on_change` runs once, inside Create.
//
// Example:
//   POLIS_ASSIGN_OR_RETURN(
//       std::unique_ptr<SeedResolver> seeds,
//       SeedResolver::Create({"dns:polis-seeds:7000", "tcp://10.0.0.9:7000"},
//                            kDefaultSeedRefresh,
//                            [&](std::vector<std::string> endpoints) { Connect(endpoints); }));
//   seeds->RefreshNow();  // Lost every peer: look again now.
#ifndef POLIS_NODE_INTERNAL_SEED_RESOLVER_H_
#define POLIS_NODE_INTERNAL_SEED_RESOLVER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/internal/seed_spec.h"

namespace polis::internal {

// How often a node looks its dns: seeds up again unless told otherwise.
inline constexpr absl::Duration kDefaultSeedRefresh = absl::Seconds(5);

class SeedResolver {
 public:
  // Receives the full current list of seed endpoints.
  using OnChange = std::function<void(std::vector<std::string>)>;
  // Resolves one dns: seed, as ResolveDnsSeed does (and by default is).
  using Resolve = std::function<absl::StatusOr<std::vector<std::string>>(absl::string_view)>;
  // The addresses the dns: seed `spec` (as given) resolved to this time.
  using OnResolved =
      std::function<void(const std::string& spec, const std::vector<std::string>& addresses)>;

  // Checks every spec (ValidateSeedSpec: INVALID_ARGUMENT for the first bad
  // one, and `on_change` is never called), then starts resolving. `refresh`
  // is the pause between two rounds of lookups, > 0; InfiniteDuration()
  // resolves only at start and on RefreshNow. INVALID_ARGUMENT for a refresh
  // <= 0. `resolve` is called on the resolver's thread and must be safe
  // there; tests pass a fake one. `on_resolved` (may be empty) runs on the
  // resolver's thread after each successful lookup, before `on_change`.
  static absl::StatusOr<std::unique_ptr<SeedResolver>> Create(std::vector<std::string> specs,
                                                              absl::Duration refresh,
                                                              OnChange on_change,
                                                              Resolve resolve = ResolveDnsSeed,
                                                              OnResolved on_resolved = nullptr);

  // Stops the thread, without waiting for the next refresh; a lookup under
  // way is waited for (getaddrinfo cannot be interrupted), no later one is
  // started. Once it has begun, `on_change` is not called again; a call
  // already under way is waited for.
  ~SeedResolver();
  SeedResolver(const SeedResolver&) = delete;
  SeedResolver& operator=(const SeedResolver&) = delete;

  // Starts a round of lookups as soon as the one under way (if any) ends;
  // requests made before it starts are one round. Thread-safe. Does nothing
  // when there is no dns: seed.
  void RefreshNow();

 private:
  // What is known of one dns: seed.
  struct DnsSeed {
    std::string spec;
    std::vector<std::string> addresses;  // Last successful lookup.
    bool failing = false;                // The last lookup failed.
  };

  SeedResolver(std::vector<std::string> plain, std::vector<DnsSeed> dns, absl::Duration refresh,
               OnChange on_change, Resolve resolve, OnResolved on_resolved);
  void Loop();
  // Looks every dns: seed up once; false if the destructor has begun.
  bool ResolveAll();
  bool Stopping() ABSL_LOCKS_EXCLUDED(mu_);
  // Reports the current list if it differs from the last one reported.
  void ReportIfChanged();
  bool Woken() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || refresh_requested_; }

  const std::vector<std::string> plain_;
  const absl::Duration refresh_;
  const OnChange on_change_;
  const Resolve resolve_;
  const OnResolved on_resolved_;
  // Owned by the resolver's thread (by Create when there is none).
  std::vector<DnsSeed> dns_;
  std::optional<std::vector<std::string>> last_reported_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool refresh_requested_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Not started without a dns: seed.
};

}  // namespace polis::internal

#endif  // POLIS_NODE_INTERNAL_SEED_RESOLVER_H_
