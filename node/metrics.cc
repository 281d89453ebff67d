// node/metrics.cc — see metrics.h; Node::Metrics (the collection itself is
// NodeCore's, node/internal/node_metrics.cc).
#include "node/metrics.h"

#include <unistd.h>

#include <cstdio>

#include "node/internal/node_core.h"
#include "node/node.h"

namespace polis {

void ServerMetrics::Add(const ServerMetrics& other) {
  processes += other.processes;
  calls += other.calls;
  casts += other.casts;
  infos += other.infos;
  mailbox += other.mailbox;
  dropped += other.dropped;
  for (int c = 0; c < kStatusCodes; ++c) answered[c] += other.answered[c];
  latency.Add(other.latency);
}

int64_t ResidentMemoryBytes() {
  // statm: size resident shared text lib data dt, in pages.
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long long size = 0, resident = 0;
  const int read = std::fscanf(f, "%lld %lld", &size, &resident);
  std::fclose(f);
  if (read != 2) return 0;
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

NodeMetrics Node::Metrics() const { return core_->Metrics(); }

}  // namespace polis
