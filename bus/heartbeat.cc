// bus/heartbeat.cc — see heartbeat.h.
#include "bus/heartbeat.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"

namespace polis::bus {
namespace {

// Datagrams read per turn of the loop, so a flood of them cannot hold the
// thread away from sending beats and checking silences.
constexpr int kMaxDatagramsPerTurn = 64;
// The thread's niceness: ahead of the node's workers on a loaded machine.
constexpr int kNice = -10;
// other_fds_ entries that hold no socket.
constexpr int kNotOpened = -1;
constexpr int kCannotOpen = -2;

absl::Time MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return absl::TimeFromTimespec(ts);
}

void RaiseThreadPriority() {
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(tid), kNice) != 0) {
    POLIS_LOG(DEBUG) << "heartbeat thread stays at normal priority: " << std::strerror(errno);
  }
}

int FamilyIndex(int family) {
  switch (family) {
    case AF_INET:
      return 0;
    case AF_INET6:
      return 1;
    default:
      return 2;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Heartbeater>> Heartbeater::Create(
    std::string self_endpoint, uint64_t incarnation, HeartbeatOptions options,
    HeartbeatListener* listener, std::function<uint64_t()> state_version) {
  if (listener == nullptr) return absl::InvalidArgumentError("Heartbeater: null listener");
  if (options.interval <= absl::ZeroDuration() || options.timeout <= options.interval) {
    return absl::InvalidArgumentError(
        absl::StrCat("Heartbeater: need 0 < interval < timeout (interval ",
                     absl::FormatDuration(options.interval), ", timeout ",
                     absl::FormatDuration(options.timeout), ")"));
  }
  absl::StatusOr<internal::HeartbeatKey> key =
      options.key ? absl::StatusOr<internal::HeartbeatKey>(*options.key)
                  : internal::NewHeartbeatKey();
  if (!key.ok()) return key.status();
  absl::StatusOr<std::unique_ptr<internal::DatagramSocket>> socket =
      internal::DatagramSocket::BindFor(self_endpoint);
  if (!socket.ok()) return socket.status();
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    return absl::UnavailableError(absl::StrCat("Heartbeater: eventfd: ", std::strerror(errno)));
  }
  return std::unique_ptr<Heartbeater>(new Heartbeater(std::move(self_endpoint), incarnation,
                                                      std::move(options), listener,
                                                      std::move(state_version),
                                                      std::move(*socket), wake_fd, *key));
}

Heartbeater::Heartbeater(std::string self_endpoint, uint64_t incarnation,
                         HeartbeatOptions options, HeartbeatListener* listener,
                         std::function<uint64_t()> state_version,
                         std::unique_ptr<internal::DatagramSocket> socket, int wake_fd,
                         const internal::HeartbeatKey& key)
    : self_endpoint_(std::move(self_endpoint)),
      incarnation_(incarnation),
      options_(std::move(options)),
      listener_(listener),
      state_version_(std::move(state_version)),
      socket_(std::move(socket)),
      wake_fd_(wake_fd),
      key_(key),
      peers_(options_.timeout),
      thread_([this] { Run(); }) {}

Heartbeater::~Heartbeater() {
  stop_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  thread_.join();
  close(wake_fd_);
  for (int fd : other_fds_) {
    if (fd >= 0) close(fd);
  }
}

absl::Time Heartbeater::Now() const {
  return options_.clock ? options_.clock() : MonotonicNow();
}

absl::Status Heartbeater::Watch(const std::string& peer_endpoint, uint64_t incarnation,
                                const std::string& peer_address, std::string_view peer_key) {
  if (peer_endpoint.empty()) {
    return absl::InvalidArgumentError("Heartbeater::Watch: empty peer endpoint");
  }
  absl::StatusOr<internal::DatagramAddress> address =
      internal::ParseDatagramAddress(peer_address);
  if (!address.ok()) return address.status();
  absl::StatusOr<internal::HeartbeatKey> key = internal::HeartbeatKeyFromBytes(peer_key);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Heartbeater::Watch(", peer_endpoint, "): ", key.status().message()));
  }
  absl::MutexLock lock(&mu_);
  peers_.Watch(peer_endpoint, incarnation, *address, *key, Now());
  return absl::OkStatus();
}

void Heartbeater::Unwatch(const std::string& peer_endpoint) {
  absl::MutexLock lock(&mu_);
  peers_.Unwatch(peer_endpoint);
}

std::optional<Heartbeater::PeerStats> Heartbeater::Stats(const std::string& peer_endpoint) const {
  absl::MutexLock lock(&mu_);
  const internal::HeartbeatPeers::Peer* peer = peers_.Find(peer_endpoint);
  if (peer == nullptr) return std::nullopt;
  PeerStats stats;
  stats.since_last_heard = Now() - (peer->heard_ever ? peer->last_heard : peer->watched_at);
  stats.heard_ever = peer->heard_ever;
  stats.silent = peer->silent;
  stats.clock_offset = internal::HeartbeatPeers::ClockOffset(*peer);
  stats.beats_received = peer->beats_received;
  return stats;
}

HeartbeatCounters Heartbeater::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

void Heartbeater::Run() {
  RaiseThreadPriority();
  pthread_setname_np(pthread_self(), "polis-heartbeat");
  std::vector<internal::HeartbeatEvent> events;
  std::vector<internal::DatagramAddress> targets;
  // Waits are capped well below the self-pause threshold (timeout/2), so
  // that only a real stall trips the guard.
  const absl::Duration max_wait = options_.timeout / 4;
  absl::Time next_round = Now();
  while (!stop_.load(std::memory_order_acquire)) {
    const absl::Time now = Now();
    const bool round = now >= next_round;
    absl::Time next_deadline;
    {
      absl::MutexLock lock(&mu_);
      const internal::HeartbeatPeers::TickResult tick = peers_.Tick(now, &events);
      if (tick.paused) ++counters_.self_pauses;
      next_deadline = tick.next_deadline;
      if (round) peers_.AppendAddresses(&targets);
    }
    Deliver(events);
    if (round) {
      SendRound(targets);
      targets.clear();
      next_round += options_.interval;
      if (next_round <= now) next_round = now + options_.interval;  // fell behind: no burst
    }
    const absl::Time wake = std::min({next_round, next_deadline, now + max_wait});
    WaitAndReceive(wake - Now());
  }
}

void Heartbeater::SendRound(const std::vector<internal::DatagramAddress>& targets) {
  if (targets.empty()) return;
  wire::Heartbeat beat;
  beat.set_endpoint(self_endpoint_);
  beat.set_incarnation(incarnation_);
  beat.set_seq(++seq_);
  beat.set_sent_unix_ns(absl::ToUnixNanos(base::Now()));
  beat.set_state_version(state_version_ ? state_version_() : 0);
  beat.SerializeToString(&send_buffer_);
  internal::AppendHeartbeatMac(key_, &send_buffer_);  // one MAC per round, for every peer
  uint64_t sent = 0;
  uint64_t failed = 0;
  for (const internal::DatagramAddress& to : targets) {
    const int fd = SendFdFor(to.family());
    if (fd >= 0 && sendto(fd, send_buffer_.data(), send_buffer_.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                          to.addr(), to.length) >= 0) {
      ++sent;
    } else {
      ++failed;
    }
  }
  absl::MutexLock lock(&mu_);
  counters_.beats_sent += sent;
  counters_.send_failures += failed;
}

int Heartbeater::SendFdFor(int family) {
  if (family == socket_->family()) return socket_->fd();
  int& fd = other_fds_[FamilyIndex(family)];
  if (fd == kNotOpened) {
    absl::StatusOr<int> opened = internal::OpenSendOnlySocket(family);
    if (!opened.ok()) POLIS_LOG(WARNING) << "heartbeat: " << opened.status();
    fd = opened.ok() ? *opened : kCannotOpen;  // tried once; sends to it count as failures
  }
  return fd;
}

void Heartbeater::WaitAndReceive(absl::Duration wait) {
  // Round up: waking a little early would only spin.
  const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1)));
  pollfd fds[2] = {{socket_->fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  if (poll(fds, 2, static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000))) <= 0) return;
  if (fds[1].revents != 0) {
    uint64_t ignored;
    [[maybe_unused]] ssize_t n = read(wake_fd_, &ignored, sizeof(ignored));
  }
  if (fds[0].revents != 0) Receive();
}

void Heartbeater::Receive() {
  char buffer[kMaxHeartbeatBytes + 1];
  std::vector<internal::HeartbeatEvent> events;
  for (int i = 0; i < kMaxDatagramsPerTurn; ++i) {
    // MSG_TRUNC: the datagram's real length, even when it did not fit.
    const ssize_t n = recv(socket_->fd(), buffer, sizeof(buffer), MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      continue;  // a queued error (e.g. ICMP): consumed; read on
    }
    wire::Heartbeat beat;
    const bool oversized = n > kMaxHeartbeatBytes;
    const bool parsed = !oversized && beat.ParseFromArray(buffer, static_cast<int>(n)) &&
                        !beat.endpoint().empty();
    const absl::Time now = Now();
    absl::MutexLock lock(&mu_);
    if (oversized) {
      ++counters_.ignored_oversized;
      continue;
    }
    if (!parsed) {
      ++counters_.ignored_malformed;
      continue;
    }
    switch (peers_.OnBeat(beat, std::string_view(buffer, static_cast<size_t>(n)), now,
                          base::Now(), &events)) {
      case internal::HeartbeatPeers::BeatOutcome::kAccepted:
        ++counters_.beats_accepted;
        break;
      case internal::HeartbeatPeers::BeatOutcome::kOtherIncarnation:
        ++counters_.beats_other_incarnation;
        break;
      case internal::HeartbeatPeers::BeatOutcome::kUnwatched:
        ++counters_.ignored_unwatched;
        break;
      case internal::HeartbeatPeers::BeatOutcome::kUnauthenticated:
        ++counters_.ignored_unauthenticated;
        break;
      case internal::HeartbeatPeers::BeatOutcome::kReplayed:
        ++counters_.ignored_replayed;
        break;
    }
  }
  Deliver(events);
}

void Heartbeater::Deliver(std::vector<internal::HeartbeatEvent>& events) {
  for (const internal::HeartbeatEvent& event : events) {
    if (event.kind == internal::HeartbeatEvent::Kind::kSilent) {
      listener_->OnSilent(event.endpoint, event.incarnation, event.silent_for);
    } else {
      listener_->OnHeard(event.endpoint, event.beat);
    }
  }
  events.clear();
}

}  // namespace polis::bus
