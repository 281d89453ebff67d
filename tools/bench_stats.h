// tools/bench_stats.h — percentiles and result lines for the benchmarks.
//
// Thread-safety: plain values and pure functions.
//
// Example:
//   BenchLine line("local_call");
//   line.Add("p50_us", Percentile(samples, 0.50)).Add("calls", 20000);
//   line.Print(/*json=*/true);   // {"bench":"local_call","p50_us":1.90,"calls":20000}
#ifndef POLIS_TOOLS_BENCH_STATS_H_
#define POLIS_TOOLS_BENCH_STATS_H_

#include <chrono>
#include <initializer_list>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace polis::tools {

// The q-quantile (0..1) of `samples` (sorted in place); 0 if empty.
double Percentile(std::vector<double>& samples, double q);
// Median of a few values (copied); 0 if empty.
double Median(std::vector<double> values);
// Median of the round-by-round ratios a[i] / b[i] (sizes must match; 0 if
// empty). Each round's two figures were measured back to back, so a noisy
// moment of the host moves both; the median of their ratios is steadier
// than the ratio of the two medians.
double MedianRatio(const std::vector<double>& a, const std::vector<double>& b);

// Microseconds since `start` on the steady clock.
inline double MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
      .count();
}

// Resident set size of process `pid` (0: this one), in bytes
// (/proc/PID/statm); 0 if unreadable.
int64_t ResidentBytes(int pid = 0);

// CPU time all live threads of process `pid` have used, in nanoseconds (sum
// of /proc/PID/task/*/schedstat); 0 if unreadable.
int64_t CpuNanos(int pid);

// `--only`: OK for "" or one of `names`; INVALID_ARGUMENT naming them else.
absl::Status CheckOnlyName(const std::string& only, absl::Span<const char* const> names);

// One result line.
class BenchLine {
 public:
  explicit BenchLine(std::string bench);
  BenchLine& Add(const std::string& key, double value);
  BenchLine& Add(const std::string& key, int64_t value);
  BenchLine& Add(const std::string& key, int value) { return Add(key, int64_t{value}); }
  BenchLine& Add(const std::string& key, const std::string& value);
  BenchLine& Add(const std::string& key, const char* value) { return Add(key, std::string(value)); }
  // JSON object on one line, or "bench: key=value ..." for people.
  std::string Format(bool json) const;
  void Print(bool json) const;

 private:
  std::string bench_;
  std::vector<std::pair<std::string, std::string>> fields_;  // Values as JSON.
};

}  // namespace polis::tools

#endif  // POLIS_TOOLS_BENCH_STATS_H_
