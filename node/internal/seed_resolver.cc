// node/internal/seed_resolver.cc — see seed_resolver.h.
#include "node/internal/seed_resolver.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/status_macros.h"

namespace polis::internal {

absl::StatusOr<std::unique_ptr<SeedResolver>> SeedResolver::Create(std::vector<std::string> specs,
                                                                   absl::Duration refresh,
                                                                   OnChange on_change,
                                                                   Resolve resolve,
                                                                   OnResolved on_resolved) {
  std::vector<std::string> plain;
  std::vector<DnsSeed> dns;
  for (std::string& spec : specs) {
    POLIS_RETURN_IF_ERROR(ValidateSeedSpec(spec));
    if (IsDnsSeed(spec)) {
      dns.push_back(DnsSeed{.spec = std::move(spec)});
    } else {
      plain.push_back(std::move(spec));
    }
  }
  if (refresh <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("seed refresh must be positive, not ", absl::FormatDuration(refresh)));
  }
  if (!on_change || !resolve) {
    return absl::InvalidArgumentError("SeedResolver needs an on_change and a resolve function");
  }
  std::unique_ptr<SeedResolver> r(new SeedResolver(std::move(plain), std::move(dns), refresh,
                                                   std::move(on_change), std::move(resolve),
                                                   std::move(on_resolved)));
  if (r->dns_.empty()) {
    r->ReportIfChanged();  // The list never changes: report it once, no thread.
  } else {
    r->thread_ = std::thread([self = r.get()] { self->Loop(); });
  }
  return r;
}

SeedResolver::SeedResolver(std::vector<std::string> plain, std::vector<DnsSeed> dns,
                           absl::Duration refresh, OnChange on_change, Resolve resolve,
                           OnResolved on_resolved)
    : plain_(std::move(plain)),
      refresh_(refresh),
      on_change_(std::move(on_change)),
      resolve_(std::move(resolve)),
      on_resolved_(std::move(on_resolved)),
      dns_(std::move(dns)) {}

SeedResolver::~SeedResolver() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void SeedResolver::RefreshNow() {
  absl::MutexLock lock(&mu_);
  refresh_requested_ = true;
}

void SeedResolver::Loop() {
  pthread_setname_np(pthread_self(), "polis-seeds");
  while (ResolveAll()) {
    ReportIfChanged();
    absl::MutexLock lock(&mu_);
    // Wakes for RefreshNow or the destructor; a request made during the
    // round just ended is already set, so the next round starts at once.
    mu_.AwaitWithTimeout(absl::Condition(this, &SeedResolver::Woken), refresh_);
    if (stopping_) return;
    refresh_requested_ = false;
  }
}

bool SeedResolver::Stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

bool SeedResolver::ResolveAll() {
  for (DnsSeed& seed : dns_) {
    if (Stopping()) return false;
    absl::StatusOr<std::vector<std::string>> r = resolve_(seed.spec);
    if (r.ok()) {
      if (seed.failing) {
        POLIS_LOG(WARNING) << "seed " << seed.spec << " resolves again, to " << r->size()
                           << " address(es)";
      }
      seed.failing = false;
      seed.addresses = *std::move(r);
      if (on_resolved_) on_resolved_(seed.spec, seed.addresses);
    } else {
      if (!seed.failing) {
        POLIS_LOG(WARNING) << "seed " << seed.spec << " does not resolve (" << r.status()
                           << "); keeping the " << seed.addresses.size()
                           << " address(es) it had, trying again";
      }
      seed.failing = true;
    }
  }
  return !Stopping();
}

void SeedResolver::ReportIfChanged() {
  std::vector<std::string> all = plain_;
  for (const DnsSeed& seed : dns_) {
    all.insert(all.end(), seed.addresses.begin(), seed.addresses.end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  if (last_reported_ == all) return;
  last_reported_ = all;
  on_change_(std::move(all));
}

}  // namespace polis::internal
