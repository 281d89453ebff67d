// telemetry/otlp_file_sink.cc — see otlp_file_sink.h.
#include "telemetry/otlp_file_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace polis::telemetry {

absl::StatusOr<std::unique_ptr<OtlpFileSink>> OtlpFileSink::Open(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("trace file: empty path");
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int error = errno;
    return absl::ErrnoToStatus(error, absl::StrCat("cannot open trace file ", path));
  }
  return std::unique_ptr<OtlpFileSink>(new OtlpFileSink(path, fd));
}

OtlpFileSink::~OtlpFileSink() { Close(); }

bool OtlpFileSink::WriteAll(const char* data, size_t size, size_t* written) {
  while (*written < size) {
    const ssize_t n = ::write(fd_, data + *written, size - *written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    *written += static_cast<size_t>(n);
  }
  return true;
}

void OtlpFileSink::Export(const OtlpJson& batch) {
  if (fd_ < 0 || batch.spans == 0) return;
  std::string line;
  line.reserve(batch.json.size() + 1);
  line.append(batch.json);
  line.push_back('\n');
  size_t written = 0;
  if (WriteAll(line.data(), line.size(), &written)) {
    exported_.fetch_add(batch.spans, std::memory_order_relaxed);
    return;
  }
  const int error = errno;
  const uint64_t failures = failed_.fetch_add(1, std::memory_order_relaxed) + 1;
  dropped_.fetch_add(batch.spans, std::memory_order_relaxed);
  if (failures % 100 == 1) {
    POLIS_LOG(WARNING) << "trace file " << path_ << ": write failed (" << strerror(error) << "), "
                       << batch.spans << " spans dropped (" << failures << " failed writes so far)";
  }
  // A partial line: end it, so that the next one is readable on its own.
  if (written > 0) {
    size_t newline = 0;
    WriteAll("\n", 1, &newline);
  }
}

void OtlpFileSink::Close() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

SinkStats OtlpFileSink::stats() const {
  SinkStats s;
  s.exported_spans = exported_.load(std::memory_order_relaxed);
  s.dropped_spans = dropped_.load(std::memory_order_relaxed);
  s.failed_requests = failed_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace polis::telemetry
