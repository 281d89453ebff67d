// tools/bench_servers.cc — see bench_servers.h.
#include "tools/bench_servers.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"

#include "google/protobuf/empty.pb.h"
#include "tools/bench_stats.h"

namespace polis::tools {
namespace {

constexpr absl::Duration kBenchCallTimeout = absl::Seconds(10);

}  // namespace

google::protobuf::BytesValue BenchPayload(int64_t bytes) {
  google::protobuf::BytesValue v;
  v.set_value(std::string(bytes, 'x'));
  return v;
}

google::protobuf::Int64Value Count(int64_t n) {
  google::protobuf::Int64Value v;
  v.set_value(n);
  return v;
}

Sink::Sink(std::string ack_to) : ack_to_(std::move(ack_to)) {
  AcceptCall<google::protobuf::Empty, google::protobuf::Int64Value>();
  AcceptAnyCast();
}

Task<absl::StatusOr<GenServer::Reply>> Sink::HandleCall(const Message& request, const From&) {
  co_return Count(count_);
}

Task<absl::Status> Sink::HandleCast(const Message& message) {
  if (message.Is<google::protobuf::UInt64Value>()) {
    absl::StatusOr<google::protobuf::UInt64Value> mark =
        message.As<google::protobuf::UInt64Value>();
    if (mark.ok()) co_return Cast(ack_to_, *mark);
    co_return mark.status();
  }
  ++count_;
  co_return absl::OkStatus();
}

CallLoop::CallLoop(std::string target, LoopResult* result, int slot, int64_t payload_bytes)
    : target_(std::move(target)),
      result_(result),
      slot_(slot),
      payload_(BenchPayload(payload_bytes)) {
  AcceptCast<google::protobuf::Int64Value>();
}

Task<absl::Status> CallLoop::HandleCast(const Message& message) {
  absl::StatusOr<google::protobuf::Int64Value> n = message.As<google::protobuf::Int64Value>();
  std::vector<double>* latencies =
      result_->latencies_us.empty() ? nullptr : &result_->latencies_us[slot_];
  if (latencies != nullptr) latencies->reserve(n.ok() ? n->value() : 0);
  for (int64_t i = 0; n.ok() && i < n->value(); ++i) {
    std::chrono::steady_clock::time_point start;
    if (latencies != nullptr) start = std::chrono::steady_clock::now();
    absl::StatusOr<Message> reply =
        co_await context().CallRaw(target_, payload_, kBenchCallTimeout);
    if (!reply.ok()) {
      result_->Fail(reply.status());
      break;
    }
    if (latencies != nullptr) latencies->push_back(MicrosSince(start));
  }
  result_->done.DecrementCount();
  co_return absl::OkStatus();
}

CastLoop::CastLoop(std::string target, LoopResult* result, uint64_t windows_in_flight,
                   int64_t payload_bytes, int64_t window)
    : target_(std::move(target)),
      result_(result),
      windows_in_flight_(windows_in_flight),
      window_(std::max<int64_t>(1, window)),
      payload_(BenchPayload(payload_bytes)) {
  AcceptCast<google::protobuf::Int64Value>();   // start: how many casts
  AcceptCast<google::protobuf::UInt64Value>();  // a window's ack
}

Task<absl::StatusOr<int64_t>> CastLoop::SinkCount() {
  absl::StatusOr<google::protobuf::Int64Value> count =
      co_await Call<google::protobuf::Int64Value>(target_, google::protobuf::Empty(),
                                                  kBenchCallTimeout);
  if (!count.ok()) co_return count.status();
  co_return count->value();
}

bool CastLoop::SendWindow() {
  const int64_t n = std::min(remaining_, window_);
  for (int64_t i = 0; i < n; ++i) {
    if (absl::Status s = Cast(target_, payload_); !s.ok()) {
      result_->Fail(s);
      return false;
    }
  }
  remaining_ -= n;
  google::protobuf::UInt64Value mark;
  mark.set_value(++marks_sent_);
  if (absl::Status s = Cast(target_, mark); !s.ok()) {
    result_->Fail(s);
    return false;
  }
  return true;
}

Task<absl::Status> CastLoop::Finish(absl::Status status) {
  int64_t confirmed = 0;
  if (status.ok()) {
    absl::StatusOr<int64_t> after = co_await SinkCount();
    if (after.ok()) {
      confirmed = *after - before_;
    } else {
      status = after.status();
    }
  }
  const double elapsed_us = MicrosSince(start_);
  {
    absl::MutexLock lock(&result_->mu);
    result_->confirmed += confirmed;
    result_->elapsed_us = std::max(result_->elapsed_us, elapsed_us);
  }
  if (!status.ok()) result_->Fail(status);
  result_->done.DecrementCount();
  co_return absl::OkStatus();
}

Task<absl::Status> CastLoop::HandleCast(const Message& message) {
  if (message.Is<google::protobuf::UInt64Value>()) {  // an ack
    ++marks_acked_;
    if (remaining_ > 0) {  // the oldest window is through: open the next
      if (!SendWindow()) co_return co_await Finish(absl::AbortedError("cast refused"));
    } else if (marks_acked_ == marks_sent_) {
      co_return co_await Finish(absl::OkStatus());
    }
    co_return absl::OkStatus();
  }
  absl::StatusOr<google::protobuf::Int64Value> n = message.As<google::protobuf::Int64Value>();
  if (!n.ok()) co_return co_await Finish(n.status());
  absl::StatusOr<int64_t> before = co_await SinkCount();
  if (!before.ok()) co_return co_await Finish(before.status());
  before_ = *before;
  remaining_ = n->value();
  marks_sent_ = marks_acked_ = 0;
  start_ = std::chrono::steady_clock::now();
  for (uint64_t w = 0; w < windows_in_flight_ && (remaining_ > 0 || w == 0); ++w) {
    if (!SendWindow()) co_return co_await Finish(absl::AbortedError("cast refused"));
  }
  co_return absl::OkStatus();
}

Spawner::Spawner(LoopResult* result) : result_(result) {
  AcceptCast<google::protobuf::Int64Value>();
}

Task<absl::Status> Spawner::HandleCast(const Message& message) {
  absl::StatusOr<google::protobuf::Int64Value> n = message.As<google::protobuf::Int64Value>();
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; n.ok() && i < n->value(); ++i) {
    // Named locals, not temporaries inside the co_await expression: g++ 12
    // mis-destroys some of those (double free of the options' strings).
    SpawnOptions options;
    options.name = absl::StrCat("idle-", i);
    options.kind = "idle";
    SpawnAwaiter spawn = context().Spawn(std::make_unique<Idle>(), std::move(options));
    absl::StatusOr<Pid> pid = co_await spawn;
    if (!pid.ok()) {
      result_->Fail(pid.status());
      break;
    }
  }
  result_->elapsed_us = MicrosSince(start);
  result_->done.DecrementCount();
  co_return absl::OkStatus();
}

absl::StatusOr<SpawnFigures> SpawnIdleServers(Node& node, int64_t n) {
  LoopResult result(1);
  absl::StatusOr<Pid> spawner = node.Spawn(std::make_unique<Spawner>(&result));
  if (!spawner.ok()) return spawner.status();
  // Free memory the process kept from earlier benchmarks (thousands of
  // servers stopped) would take the new servers without growing the RSS.
  malloc_trim(0);
  const int64_t rss_before = ResidentBytes();
  if (absl::Status s = node.Cast(*spawner, Count(n)); !s.ok()) return s;
  result.done.Wait();
  const int64_t rss_after = ResidentBytes();
  absl::MutexLock lock(&result.mu);
  if (!result.error.ok()) return result.error;
  return SpawnFigures{.seconds = result.elapsed_us / 1e6,
                      .bytes_per_server = static_cast<double>(rss_after - rss_before) / n};
}

}  // namespace polis::tools
