// telemetry/otlp_http_sink.cc — see otlp_http_sink.h.
#include "telemetry/otlp_http_sink.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <utility>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "httplib.h"

namespace polis::telemetry {
namespace internal {

// One collector connection (kept alive between requests), used by the
// sender thread only.
class OtlpHttpPoster {
 public:
  OtlpHttpPoster(const OtlpEndpoint& endpoint, const OtlpHttpOptions& options)
      : client_(endpoint.host, endpoint.port) {
    client_.set_connection_timeout(ToChrono(options.connect_timeout));
    client_.set_read_timeout(ToChrono(options.read_timeout));
    client_.set_write_timeout(ToChrono(options.read_timeout));
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);  // One request, then its answer: no Nagle delay.
  }

  struct Answer {
    int status = 0;              // HTTP status; 0 if no answer came.
    std::string error;           // What went wrong, for the log.
    absl::Duration retry_after;  // From a Retry-After header (seconds form), or 0.
  };

  Answer Post(const std::string& body) {
    Answer answer;
    httplib::Result result = client_.Post(kOtlpTracesPath, body, "application/json");
    if (!result) {
      answer.error = httplib::to_string(result.error());
      return answer;
    }
    answer.status = result->status;
    if (answer.status < 200 || answer.status > 299) {
      answer.error = absl::StrCat("HTTP ", answer.status, " ", result->body.substr(0, 200));
    }
    int seconds = 0;
    if (absl::SimpleAtoi(result->get_header_value("Retry-After"), &seconds) && seconds > 0) {
      answer.retry_after = absl::Seconds(seconds);
    }
    return answer;
  }

 private:
  static std::chrono::microseconds ToChrono(absl::Duration d) {
    return std::chrono::microseconds(absl::ToInt64Microseconds(d));
  }
  httplib::Client client_;
};

}  // namespace internal

namespace {

// OTLP/HTTP: retry on these, and on no answer at all.
bool Retryable(int status) {
  return status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OtlpHttpSink>> OtlpHttpSink::Create(std::string_view endpoint,
                                                                    OtlpHttpOptions options) {
  absl::StatusOr<OtlpEndpoint> parsed = ParseOtlpEndpoint(endpoint);
  if (!parsed.ok()) return parsed.status();
  if (options.max_queued_batches == 0) {
    return absl::InvalidArgumentError("OTLP/HTTP sink: max_queued_batches must be at least 1");
  }
  return std::unique_ptr<OtlpHttpSink>(new OtlpHttpSink(*std::move(parsed), options));
}

OtlpHttpSink::OtlpHttpSink(OtlpEndpoint endpoint, OtlpHttpOptions options)
    : endpoint_(std::move(endpoint)), options_(options) {}

OtlpHttpSink::~OtlpHttpSink() { Close(); }

void OtlpHttpSink::Export(const OtlpJson& batch) {
  if (batch.spans == 0) return;
  // Started by the first batch, from the exporter's thread: it inherits
  // that thread's signal mask (polis node blocks SIGTERM in every thread
  // but one), not the mask of whoever made the sink.
  if (!thread_.joinable() && !closed_) thread_ = std::thread([this] { Run(); });
  absl::MutexLock lock(&mu_);
  if (closing_) {
    stats_.dropped_spans += batch.spans;
    return;
  }
  if (queue_.size() >= options_.max_queued_batches) {
    stats_.dropped_spans += queue_.front().spans;
    queue_.pop_front();
  }
  queue_.push_back(Batch{.json = batch.json, .spans = batch.spans});
  stats_.queued_batches = queue_.size();
}

void OtlpHttpSink::Close() {
  {
    absl::MutexLock lock(&mu_);
    if (!closing_) {
      closing_ = true;
      flush_deadline_ = absl::Now() + options_.flush_timeout;
    }
  }
  closed_ = true;
  if (thread_.joinable()) thread_.join();
}

SinkStats OtlpHttpSink::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void OtlpHttpSink::Run() {
  pthread_setname_np(pthread_self(), "polis-otlp-http");
  internal::OtlpHttpPoster poster(endpoint_, options_);
  for (;;) {
    Batch batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](OtlpHttpSink* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
            return s->closing_ || !s->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // Closing, and nothing left.
      if (closing_ && absl::Now() >= flush_deadline_) {
        // Out of time: the rest is dropped.
        for (const Batch& b : queue_) stats_.dropped_spans += b.spans;
        queue_.clear();
        stats_.queued_batches = 0;
        return;
      }
      batch = std::move(queue_.front());
      queue_.pop_front();
      stats_.queued_batches = queue_.size();
    }
    Deliver(poster, std::move(batch));
  }
}

void OtlpHttpSink::Deliver(internal::OtlpHttpPoster& poster, Batch batch) {
  const absl::Time first_attempt = absl::Now();
  absl::Duration backoff = options_.initial_backoff;
  absl::BitGen random;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      absl::MutexLock lock(&mu_);
      ++stats_.retries;
    }
    const internal::OtlpHttpPoster::Answer answer = poster.Post(batch.json);
    absl::MutexLock lock(&mu_);
    if (answer.error.empty()) {
      stats_.exported_spans += batch.spans;
      return;
    }
    ++stats_.failed_requests;
    const bool retry = Retryable(answer.status);
    // Closing: each batch gets one attempt; the first failure means the
    // collector is not taking them, so the rest is dropped too.
    if (closing_) {
      stats_.dropped_spans += batch.spans;
      for (const Batch& b : queue_) stats_.dropped_spans += b.spans;
      queue_.clear();
      stats_.queued_batches = 0;
      return;
    }
    const bool too_long = absl::Now() - first_attempt >= options_.max_retry_time;
    if (!retry || too_long) {
      stats_.dropped_spans += batch.spans;
      POLIS_LOG(WARNING) << "OTLP export to " << endpoint_.ToString() << kOtlpTracesPath
                         << ": " << answer.error << "; " << batch.spans << " spans dropped"
                         << (retry ? " (retried too long)" : " (not retryable)");
      return;
    }
    if (stats_.failed_requests % 100 == 1) {
      POLIS_LOG(WARNING) << "OTLP export to " << endpoint_.ToString() << kOtlpTracesPath
                         << ": " << answer.error << "; retrying (" << stats_.failed_requests
                         << " failed requests so far)";
    }
    // Equal jitter: half the back-off, plus up to the other half.
    absl::Duration delay =
        backoff / 2 + absl::Uniform(random, 0.0, 1.0) * (backoff / 2);
    if (answer.retry_after > delay) delay = std::min(answer.retry_after, options_.max_backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
    // Wait without the lock; a Close ends the wait (the batch then gets the
    // closing flush's single attempt).
    const absl::Time until = absl::Now() + delay;
    mu_.AwaitWithDeadline(absl::Condition(&closing_), until);
  }
}

}  // namespace polis::telemetry
