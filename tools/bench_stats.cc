// tools/bench_stats.cc — see bench_stats.h.
#include "tools/bench_stats.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace polis::tools {

double Percentile(std::vector<double>& samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t i = static_cast<size_t>(std::ceil(q * samples.size()));
  return samples[std::clamp<size_t>(i, 1, samples.size()) - 1];
}

double Median(std::vector<double> values) { return Percentile(values, 0.5); }

double MedianRatio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> ratios;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (b[i] != 0) ratios.push_back(a[i] / b[i]);
  }
  return Median(std::move(ratios));
}

int64_t ResidentBytes(int pid) {
  std::ifstream statm(pid == 0 ? std::string("/proc/self/statm")
                               : absl::StrCat("/proc/", pid, "/statm"));
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

int64_t CpuNanos(int pid) {
  std::error_code ec;
  int64_t total = 0;
  for (const auto& task : std::filesystem::directory_iterator(
           absl::StrCat("/proc/", pid, "/task"), ec)) {
    std::ifstream schedstat(task.path() / "schedstat");
    int64_t on_cpu = 0;
    if (schedstat >> on_cpu) total += on_cpu;
  }
  return total;
}

absl::Status CheckOnlyName(const std::string& only, absl::Span<const char* const> names) {
  if (only.empty() || std::find(names.begin(), names.end(), only) != names.end()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--only: one of ", absl::StrJoin(names, ", "), ", not \"", only, "\""));
}

BenchLine::BenchLine(std::string bench) : bench_(std::move(bench)) {}

BenchLine& BenchLine::Add(const std::string& key, double value) {
  fields_.emplace_back(key, std::isfinite(value) ? absl::StrFormat("%.3g", value) : "null");
  if (std::isfinite(value) && std::abs(value) >= 1000) {
    fields_.back().second = absl::StrFormat("%.0f", value);
  }
  return *this;
}

BenchLine& BenchLine::Add(const std::string& key, int64_t value) {
  fields_.emplace_back(key, absl::StrCat(value));
  return *this;
}

BenchLine& BenchLine::Add(const std::string& key, const std::string& value) {
  fields_.emplace_back(key, absl::StrCat("\"", value, "\""));  // Values are plain words.
  return *this;
}

std::string BenchLine::Format(bool json) const {
  std::string out = json ? absl::StrCat("{\"bench\":\"", bench_, "\"") : bench_ + ":";
  for (const auto& [key, value] : fields_) {
    // People read tcp, not "tcp".
    const bool quoted = !json && value.size() >= 2 && value.front() == '"';
    absl::StrAppend(&out, json ? ",\"" : " ", key, json ? "\":" : "=",
                    quoted ? value.substr(1, value.size() - 2) : value);
  }
  if (json) out += "}";
  return out;
}

void BenchLine::Print(bool json) const { std::cout << Format(json) << std::endl; }

}  // namespace polis::tools
