#include "node/internal/membership.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "node/internal/letter.h"
#include "node/internal/outgoing.h"

namespace polis::internal {
namespace {

// How often the I/O thread looks at contacts, subscribers and names.
constexpr absl::Duration kTick = absl::Milliseconds(100);
// First wait before greeting an endpoint that did not answer again.
constexpr absl::Duration kFirstRetry = absl::Milliseconds(100);
// Failed tries after which an endpoint another member listed is dropped.
constexpr int kReferredAttempts = 3;
// How long an endpoint another member listed is tried at most.
constexpr absl::Duration kReferredLifetime = absl::Seconds(60);
// Bounds on what others can make this node keep.
constexpr size_t kMaxContacts = 4096;
constexpr size_t kMaxSubscribers = 1024;
// A client renews its subscription this often; a node drops one not
// renewed for kSubscriberTtl; a client whose node sent no view for
// kClientPatience picks another.
constexpr absl::Duration kClientRenew = absl::Seconds(3);
constexpr absl::Duration kSubscriberTtl = absl::Seconds(15);
constexpr absl::Duration kClientPatience = absl::Seconds(10);
// A member whose heartbeats announce names newer than its deltas brought
// for this long is asked for its full entry (a lost delta).
constexpr absl::Duration kNamesLagPatience = absl::Milliseconds(500);
// How often a node sends its member list to one member at random.
constexpr absl::Duration kGossipEvery = absl::Seconds(2);

// Which members `members` lists, but for the one at `except` (the Hello's
// recipient), in one number: equal sets give equal digests, in any order.
uint64_t MembersDigest(const std::vector<wire::NodeEntry>& members, const std::string& except) {
  uint64_t digest = 0;
  for (const wire::NodeEntry& m : members) {
    if (m.endpoint() == except) continue;
    digest += (std::hash<std::string>{}(m.node()) ^ m.incarnation()) * 0x9E3779B97F4A7C15ull + 1;
  }
  return digest;
}

}  // namespace

Membership::Membership(Parts parts, MembershipOptions options)
    : self_(parts.self),
      directory_(parts.directory),
      registry_(parts.registry),
      calls_(parts.calls),
      io_(parts.io),
      timers_(parts.timers),
      observer_(parts.observer),
      options_(std::move(options)) {}

Membership::~Membership() { Stop(); }

void Membership::Start() {
  if (options_.seeds.empty()) MarkJoined();
  io_->Post([this, seeds = options_.seeds] {
    for (const std::string& seed : seeds) AddContact(seed, Contact::Source::kSeed);
    Tick();
  });
}

void Membership::Stop() {
  absl::MutexLock lock(&tick_mu_);
  stopped_ = true;
  if (tick_timer_ != 0) timers_->Cancel(tick_timer_);
  tick_timer_ = 0;
}

void Membership::ScheduleTick() {
  absl::MutexLock lock(&tick_mu_);
  if (stopped_) return;
  tick_timer_ = timers_->Schedule(absl::Now() + kTick, [this] { io_->Post([this] { Tick(); }); });
}

absl::Status Membership::Join(absl::Duration timeout) {
  absl::MutexLock lock(&join_mu_);
  if (join_mu_.AwaitWithTimeout(absl::Condition(&joined_), timeout)) return absl::OkStatus();
  std::string seeds;
  for (const std::string& s : options_.seeds) absl::StrAppend(&seeds, seeds.empty() ? "" : ", ", s);
  return absl::UnavailableError(absl::StrCat(
      "no seed answered within ", absl::FormatDuration(timeout), " (", seeds, ")",
      last_seed_error_.empty() ? "" : "; last failure: ", last_seed_error_));
}

void Membership::MarkJoined() {
  absl::MutexLock lock(&join_mu_);
  joined_ = true;
}

void Membership::OnNamesChanged() {
  if (!names_dirty_.exchange(true)) io_->Post([this] { SyncNames(); });
}

void Membership::OnSilent(const std::string& endpoint, uint64_t incarnation,
                          absl::Duration silent_for) {
  io_->Post([this, endpoint, incarnation, silent_for] {
    std::optional<std::string> node = directory_->NodeAt(endpoint);
    if (!node) return;
    std::optional<Directory::Member> m = directory_->Find(*node);
    if (!m || m->incarnation != incarnation) return;
    NodeDown(*node,
             absl::UnavailableError(absl::StrCat("no heartbeat for ",
                                                 absl::FormatDuration(silent_for))),
             /*retry=*/true);
  });
}

void Membership::OnHeard(const std::string& endpoint, uint64_t incarnation,
                         uint64_t names_version) {
  io_->Post([this, endpoint, incarnation, names_version] {
    std::optional<std::string> node = directory_->NodeAt(endpoint);
    if (!node) return;
    std::optional<Directory::Member> m = directory_->Find(*node);
    if (!m) return;
    if (m->incarnation != incarnation) {
      SendHello(endpoint, /*reply_requested=*/true, "");  // It restarted: learn the new one.
      return;
    }
    auto lag = names_lag_.find(*node);
    if (names_version <= m->names_version) {
      if (lag != names_lag_.end()) names_lag_.erase(lag);
      return;
    }
    const absl::Time now = absl::Now();
    if (lag == names_lag_.end()) {
      names_lag_[*node] = now;
    } else if (now - lag->second > kNamesLagPatience) {
      lag->second = now;
      SendHello(endpoint, /*reply_requested=*/true, "");  // A delta went missing.
    }
  });
}

void Membership::SetSeeds(std::vector<std::string> seeds) {
  for (auto& [endpoint, c] : contacts_) {
    if (c.source == Contact::Source::kSeed &&
        std::find(seeds.begin(), seeds.end(), endpoint) == seeds.end()) {
      c.source = Contact::Source::kReferred;  // Tried a little longer, then dropped.
      c.expires = absl::Now() + kReferredLifetime;
    }
  }
  for (const std::string& s : seeds) AddContact(s, Contact::Source::kSeed);
}

void Membership::AddContact(const std::string& endpoint, Contact::Source source) {
  // dns: seeds come resolved, through SetSeeds.
  if (endpoint.empty() || endpoint == self_->endpoint || absl::StartsWith(endpoint, "dns:")) {
    return;
  }
  auto it = contacts_.find(endpoint);
  if (it != contacts_.end()) {
    // A stronger reason to keep it wins: seed > former member > referred.
    if (source < it->second.source) {
      it->second.source = source;
      it->second.expires = source == Contact::Source::kSeed
                               ? absl::InfiniteFuture()
                               : absl::Now() + options_.forget_after;
    }
    return;
  }
  if (contacts_.size() >= kMaxContacts && source == Contact::Source::kReferred) return;
  Contact c;
  c.source = source;
  c.next_try = absl::Now();
  c.backoff = kFirstRetry;
  switch (source) {
    case Contact::Source::kSeed:
      c.expires = absl::InfiniteFuture();
      break;
    case Contact::Source::kFormer:
      c.next_try = absl::Now() + kFirstRetry;
      c.expires = absl::Now() + options_.forget_after;
      break;
    case Contact::Source::kReferred:
      c.expires = absl::Now() + kReferredLifetime;
      break;
  }
  contacts_.emplace(endpoint, std::move(c));
}

void Membership::Tick() {
  const absl::Time now = absl::Now();
  if (names_dirty_.load(std::memory_order_acquire)) SyncNames();
  if (self_->client && !client_primary_.empty()) {
    if (now - client_view_at_ > kClientPatience) {
      POLIS_LOG(INFO) << "polis: client " << self_->name << " heard nothing from "
                      << client_primary_ << " for " << kClientPatience << "; trying its seeds";
      client_primary_.clear();
    } else if (now >= client_renew_at_) {
      SendHello(client_primary_, /*reply_requested=*/true, "");
      client_renew_at_ = now + kClientRenew;
    }
  }
  for (auto it = contacts_.begin(); it != contacts_.end();) {
    Contact& c = it->second;
    const bool reached = self_->client ? !client_primary_.empty()
                                       : !c.node.empty() && directory_->Known(c.node);
    if (reached) {
      c.backoff = kFirstRetry;
      c.failures = 0;
      ++it;
      continue;
    }
    if (c.expires < now) {
      contacts_.erase(it++);
      continue;
    }
    if (now >= c.next_try) {
      SendHello(it->first, /*reply_requested=*/true, "");
      // ±25% jitter, so that nodes that lost each other at once do not
      // greet in lockstep.
      const double jitter = 0.75 + 0.5 * static_cast<double>(RandomId() % 1000) / 1000.0;
      c.next_try = now + c.backoff * jitter;
      c.backoff = std::min(c.backoff * 2, options_.max_retry);
    }
    ++it;
  }
  if (!subscribers_.empty()) {
    subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                      [now](const Subscriber& s) { return s.expires < now; }),
                       subscribers_.end());
  }
  if (view_dirty_) PushView();
  if (!self_->client && now >= gossip_at_) {
    // Anti-entropy: our members to one member at random, so a member that
    // missed an introduction still learns of everyone.
    gossip_at_ = now + kGossipEvery;
    std::vector<Directory::Member> members = directory_->Members();
    if (members.size() > 1) {
      wire::Members all;
      all.set_node(self_->name);
      all.set_incarnation(self_->incarnation);
      for (wire::NodeEntry& e : Snapshot(/*with_names=*/false)) {
        *all.add_members() = std::move(e);
      }
      const OutgoingEnvelope out = OutgoingEnvelope::System(self_->name, all);
      (void)io_->transport().Send(members[RandomId() % members.size()].endpoint, out.view());
    }
  }
  ScheduleTick();
}

std::vector<wire::NodeEntry> Membership::Snapshot(bool with_names) const {
  std::vector<wire::NodeEntry> entries = directory_->Snapshot(with_names);
  if (self_->curve != nullptr) {
    for (wire::NodeEntry& e : entries) e.set_public_key(self_->curve->PinnedKey(e.endpoint()));
  }
  return entries;
}

wire::NodeEntry Membership::SelfEntry() const {
  wire::NodeEntry me;
  if (self_->curve != nullptr) me.set_public_key(self_->curve->own().public_key);
  me.set_node(self_->name);
  me.set_endpoint(self_->endpoint);
  me.set_incarnation(self_->incarnation);
  me.set_started_unix_ns(self_->started_unix_ns);
  me.set_names_version(announced_version_);
  for (const auto& [name, n] : announced_) *me.add_names() = n;
  return me;
}

void Membership::SendHello(const std::string& endpoint, bool reply_requested,
                           const std::string& answering) {
  wire::Hello hello;
  hello.set_node(self_->name);
  hello.set_incarnation(self_->incarnation);
  hello.set_wire_version(bus::kWireVersion);
  hello.set_max_message_bytes(self_->max_message_bytes);
  hello.set_endpoint(self_->endpoint);
  hello.set_client(self_->client);
  hello.set_reply_requested(reply_requested);
  hello.set_via(endpoint);
  hello.set_answering_via(answering);
  uint64_t members_digest = 0;
  if (self_->client) {
    hello.set_subscribe(true);
  } else {
    *hello.mutable_self() = SelfEntry();
    std::vector<wire::NodeEntry> members = Snapshot(/*with_names=*/false);
    members_digest = MembersDigest(members, endpoint);
    for (wire::NodeEntry& e : members) *hello.add_members() = std::move(e);
    if (detector_ != nullptr) {
      // To a node only (this branch): a client never learns the key, so a
      // client key cannot forge this node's beats.
      hello.set_heartbeat(detector_->address());
      hello.set_heartbeat_key(std::string(detector_->key()));
    }
  }
  const OutgoingEnvelope out = OutgoingEnvelope::System(self_->name, hello);
  if (absl::Status s = io_->transport().Send(endpoint, out.view()); !s.ok()) {
    POLIS_LOG(WARNING) << "polis: Hello to " << endpoint << " failed: " << s;
    return;
  }
  if (!self_->client) {
    hello_version_sent_[endpoint] = announced_version_;
    hello_members_sent_[endpoint] = members_digest;
  }
}

void Membership::AnswerClient(const wire::Hello& hello, const bus::ReturnPath& from) {
  const absl::Time now = absl::Now();
  if (hello.subscribe()) {
    auto same = std::find_if(subscribers_.begin(), subscribers_.end(),
                             [&](const Subscriber& s) { return s.path.token == from.token; });
    if (same != subscribers_.end()) {
      same->expires = now + kSubscriberTtl;
    } else {
      if (subscribers_.size() >= kMaxSubscribers) {
        // Full: the one closest to expiring (least recently renewed) goes.
        subscribers_.erase(std::min_element(
            subscribers_.begin(), subscribers_.end(),
            [](const Subscriber& a, const Subscriber& b) { return a.expires < b.expires; }));
      }
      subscribers_.push_back(Subscriber{from, now + kSubscriberTtl});
    }
  }
  wire::Hello answer;
  answer.set_node(self_->name);
  answer.set_incarnation(self_->incarnation);
  answer.set_wire_version(bus::kWireVersion);
  answer.set_max_message_bytes(self_->max_message_bytes);
  answer.set_endpoint(self_->endpoint);
  answer.set_answering_via(hello.via());
  *answer.mutable_self() = SelfEntry();
  *answer.add_view() = SelfEntry();
  for (wire::NodeEntry& e : Snapshot(/*with_names=*/true)) {
    *answer.add_view() = std::move(e);
  }
  const OutgoingEnvelope out = OutgoingEnvelope::System(self_->name, answer);
  if (absl::Status s = io_->transport().Reply(from, out.view()); !s.ok()) {
    // A client that left before our answer is normal.
    POLIS_LOG(DEBUG) << "polis: Hello answer to a client dropped: " << s;
  }
}

void Membership::AnswerVersion(const bus::ReturnPath& from) {
  wire::Hello answer;
  answer.set_node(self_->name);
  answer.set_incarnation(self_->incarnation);
  answer.set_wire_version(bus::kWireVersion);
  const OutgoingEnvelope out = OutgoingEnvelope::System(self_->name, answer);
  if (absl::Status s = io_->transport().Reply(from, out.view()); !s.ok()) {
    POLIS_LOG(DEBUG) << "polis: wire version answer dropped: " << s;
  }
}

void Membership::PushView() {
  view_dirty_ = false;
  if (subscribers_.empty()) return;
  wire::Hello view;
  view.set_node(self_->name);
  view.set_incarnation(self_->incarnation);
  view.set_wire_version(bus::kWireVersion);
  view.set_max_message_bytes(self_->max_message_bytes);
  view.set_endpoint(self_->endpoint);
  *view.mutable_self() = SelfEntry();
  *view.add_view() = SelfEntry();
  for (wire::NodeEntry& e : Snapshot(/*with_names=*/true)) {
    *view.add_view() = std::move(e);
  }
  const OutgoingEnvelope out = OutgoingEnvelope::System(self_->name, view);
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [&](const Subscriber& s) {
                                      return absl::IsNotFound(
                                          io_->transport().Reply(s.path, out.view()));
                                    }),
                     subscribers_.end());
}

void Membership::SyncNames() {
  names_dirty_.store(false, std::memory_order_release);
  std::vector<Registry::NameChange> changes = registry_->TakeNameChanges();
  if (changes.empty()) return;
  // The net effect per name (a name registered and released again within
  // one batch may need no word at all).
  absl::flat_hash_map<std::string, std::optional<wire::NameEntry>> net;
  for (Registry::NameChange& c : changes) net[c.name] = std::move(c.entry);
  wire::NamesChanged nc;
  for (auto& [name, entry] : net) {
    auto it = announced_.find(name);
    if (entry) {
      if (it != announced_.end() && it->second.pid() == entry->pid() &&
          it->second.registered_unix_ns() == entry->registered_unix_ns()) {
        continue;
      }
      *nc.add_added() = *entry;  // New, or registered again: replaces the old claim.
      announced_[name] = *std::move(entry);
    } else if (it != announced_.end()) {
      nc.add_removed(name);
      announced_.erase(it);
    }
  }
  if (nc.added().empty() && nc.removed().empty()) return;
  ++announced_version_;
  announced_version_seen_.store(announced_version_, std::memory_order_release);
  view_dirty_ = true;
  if (self_->client) return;
  nc.set_node(self_->name);
  nc.set_incarnation(self_->incarnation);
  nc.set_names_version(announced_version_);
  Broadcast(nc);
}

void Membership::Broadcast(const google::protobuf::Message& payload) {
  const OutgoingEnvelope out = OutgoingEnvelope::System(self_->name, payload);
  for (const Directory::Member& m : directory_->Members()) {
    if (!m.endpoint.empty()) (void)io_->transport().Send(m.endpoint, out.view());
  }
}

void Membership::SayGoodbye() {
  if (self_->client) {  // Never a member: nothing to take back (with CURVE it was refused).
    io_->transport().Flush();
    return;
  }
  wire::Goodbye g;
  g.set_node(self_->name);
  g.set_incarnation(self_->incarnation);
  Broadcast(g);
  io_->transport().Flush();
}

void Membership::PinKeys(const bus::Sender& sender,
                         const std::pair<std::string, std::string>& pin,
                         const std::vector<std::pair<std::string, std::string>>& listed) {
  if (self_->curve == nullptr) return;
  bus::Transport& transport = io_->transport();
  if (!pin.first.empty()) (void)transport.SetPeerKey(pin.first, pin.second);
  if (sender.role != bus::PeerRole::kNode || listed.empty()) return;
  const std::shared_ptr<const bus::AuthorizedKeys> authorized = self_->curve->authorized();
  for (const auto& [endpoint, key] : listed) {
    const bus::AuthorizedKey* k = authorized->FindZ85(key);
    if (!self_->client && (k == nullptr || k->role != bus::PeerRole::kNode)) continue;
    if (!self_->curve->PinnedKey(endpoint).empty()) continue;
    (void)transport.SetPeerKey(endpoint, key);
  }
}

bool Membership::HandleSystem(const bus::EnvelopeView& env, const bus::ReturnPath& from,
                              std::string_view proved_key,
                              absl::FunctionRef<void(const absl::Status&)> bad_input) {
  const std::string_view type = env.type;
  auto parse = [&env, &bad_input](google::protobuf::Message& m) {
    if (m.ParseFromArray(env.payload.data(), static_cast<int>(env.payload.size()))) return true;
    bad_input(absl::DataLossError(absl::StrCat(m.GetDescriptor()->name(), " does not parse")));
    return false;
  };
  if (type == wire::Hello::descriptor()->full_name()) {
    wire::Hello hello;
    if (parse(hello)) HandleHello(hello, from, proved_key, bad_input);
  } else if (type == wire::NamesChanged::descriptor()->full_name()) {
    wire::NamesChanged nc;
    if (parse(nc)) HandleNamesChanged(nc);
  } else if (type == wire::Members::descriptor()->full_name()) {
    wire::Members members;
    if (parse(members)) {
      for (const wire::NodeEntry& m : members.members()) {
        if (m.node() == self_->name || directory_->Known(m.node())) continue;
        AddContact(m.endpoint(), Contact::Source::kReferred);
      }
    }
  } else if (type == wire::Goodbye::descriptor()->full_name()) {
    wire::Goodbye bye;
    if (parse(bye)) {
      std::optional<Directory::Member> m = directory_->Find(bye.node());
      if (m && m->incarnation == bye.incarnation()) {
        NodeDown(bye.node(),
                 absl::UnavailableError(absl::StrCat("node \"", bye.node(), "\" shut down")),
                 /*retry=*/false);
      }
    }
  } else {
    return false;
  }
  return true;
}

void Membership::HandleHello(const wire::Hello& hello, const bus::ReturnPath& from,
                             std::string_view proved_key,
                             absl::FunctionRef<void(const absl::Status&)> bad_input) {
  if (hello.wire_version() != bus::kWireVersion) {
    // Frames carry their own version and are judged one by one: the
    // connection stays, nothing is admitted, and a peer that asked is told
    // the version this node speaks.
    bad_input(absl::FailedPreconditionError(
        absl::StrCat("node \"", hello.node(), "\" speaks wire version ", hello.wire_version(),
                     ", this node speaks ", bus::kWireVersion)));
    if ((hello.client() || hello.reply_requested()) && !from.empty()) AnswerVersion(from);
    return;
  }
  if (hello.client()) {
    // Whatever its `node` says (a client's name is informational only).
    if (!self_->client) AnswerClient(hello, from);
    return;
  }
  if (hello.node() == self_->name) {
    if (hello.incarnation() != self_->incarnation) {
      POLIS_LOG(ERROR) << "polis: another node is also named \"" << self_->name << "\" (at "
                       << hello.endpoint() << "); ignoring it";
    }
    return;
  }
  if (self_->client) {
    // A node's answer: its view of the cluster is ours.
    if (hello.view().empty()) return;
    // Members that left the view (or restarted) are down for this client
    // too: calls waiting on them fail now, as in a member's NodeDown, not
    // at their deadline. Removed from the directory first, so a call that
    // registers after this sees the node gone (Router::CallOverChannel).
    absl::flat_hash_map<std::string, uint64_t> next;
    for (const wire::NodeEntry& e : hello.view()) next[e.node()] = e.incarnation();
    std::vector<Directory::Member> gone;
    for (Directory::Member& m : directory_->Members()) {
      auto it = next.find(m.node);
      if (it == next.end() || it->second != m.incarnation) gone.push_back(std::move(m));
    }
    directory_->ReplaceAll({hello.view().begin(), hello.view().end()});
    for (const Directory::Member& m : gone) {
      const absl::Status status = absl::UnavailableError(
          absl::StrCat("node \"", m.node, "\" is down (it left the view of node \"",
                       hello.node(), "\")"));
      for (auto& s : calls_->TakeForNode(m.node)) s->Complete(status);
      observer_->OnNodeDown(m.node, m.incarnation, m.endpoint, status);
    }
    const absl::Time now = absl::Now();
    if (client_primary_.empty()) {
      client_primary_ = hello.answering_via().empty() ? hello.endpoint() : hello.answering_via();
      client_renew_at_ = now + kClientRenew;
    }
    client_view_at_ = now;
    MarkJoined();
    return;
  }
  const wire::NodeEntry& e = hello.self();
  if (e.node() != hello.node() || e.incarnation() != hello.incarnation() ||
      e.endpoint().empty()) {
    bad_input(absl::InvalidArgumentError(absl::StrCat(
        "Hello from \"", hello.node(), "\" without its own entry (node, incarnation, endpoint)")));
    return;
  }
  std::optional<Directory::Member> known = directory_->Find(e.node());
  if (known && known->incarnation != e.incarnation()) {
    if (e.started_unix_ns() < known->started_unix_ns) return;  // An older incarnation.
    NodeDown(e.node(), absl::UnavailableError(absl::StrCat("node \"", e.node(), "\" restarted")),
             /*retry=*/false);
    known.reset();
  }
  const bool is_new = !known;
  directory_->Upsert(e, std::string(proved_key));
  names_lag_.erase(e.node());
  for (const std::string* via : {&e.endpoint(), &hello.answering_via()}) {
    auto c = contacts_.find(*via);
    if (c == contacts_.end()) continue;
    c->second.node = e.node();
    c->second.failures = 0;
    c->second.backoff = kFirstRetry;
  }
  if (is_new && detector_ != nullptr && !hello.heartbeat().empty()) {
    // First-hand only: a member's key comes in its own Hello, never in
    // another's member list.
    detector_->Watch(e.endpoint(), e.incarnation(), hello.heartbeat(), hello.heartbeat_key());
  }
  ResolveConflicts(e.node(), e.incarnation(), e.names());
  for (const wire::NodeEntry& m : hello.members()) {
    if (m.node() == self_->name || directory_->Known(m.node())) continue;
    AddContact(m.endpoint(), Contact::Source::kReferred);
  }
  view_dirty_ = true;
  if (is_new) {
    POLIS_LOG(INFO) << "polis: node " << self_->name << " sees " << e.node() << " at "
                    << e.endpoint();
    observer_->OnNodeUp(e.node(), e.incarnation());
    // Introduce it to the others (they may not know each other yet).
    wire::Members intro;
    intro.set_node(self_->name);
    intro.set_incarnation(self_->incarnation);
    wire::NodeEntry* m = intro.add_members();
    m->set_node(e.node());
    m->set_endpoint(e.endpoint());
    m->set_incarnation(e.incarnation());
    const OutgoingEnvelope out = OutgoingEnvelope::System(self_->name, intro);
    for (const Directory::Member& other : directory_->Members()) {
      if (other.node != e.node()) (void)io_->transport().Send(other.endpoint, out.view());
    }
  }
  if (hello.reply_requested()) {
    SendHello(e.endpoint(), /*reply_requested=*/false, hello.via());
  } else if (is_new) {
    // It answered a Hello of ours: if names changed here since that Hello
    // (no NamesChanged reached it, it was not a member yet), send them now.
    // Likewise if members came since: this node may be the only one that
    // knows both (it was seeded by two nodes that know nothing of each
    // other, and greeted both before either answered), and only a Hello
    // listing them tells each of the other.
    auto sent = hello_version_sent_.find(e.endpoint());
    auto listed = hello_members_sent_.find(e.endpoint());
    if (sent == hello_version_sent_.end() || sent->second != announced_version_ ||
        listed == hello_members_sent_.end() ||
        listed->second !=
            MembersDigest(Snapshot(/*with_names=*/false), e.endpoint())) {
      SendHello(e.endpoint(), /*reply_requested=*/false, "");
    }
  }
  MarkJoined();
}

void Membership::HandleNamesChanged(const wire::NamesChanged& nc) {
  switch (directory_->ApplyNamesChanged(nc)) {
    case Directory::Delta::kApplied:
      ResolveConflicts(nc.node(), nc.incarnation(), nc.added());
      view_dirty_ = true;
      return;
    case Directory::Delta::kGap:
      if (std::optional<std::string> ep = directory_->EndpointOf(nc.node())) {
        SendHello(*ep, /*reply_requested=*/true, "");
      }
      return;
    case Directory::Delta::kStale:
    case Directory::Delta::kUnknown:
      return;
  }
}

void Membership::ResolveConflicts(
    const std::string& node, uint64_t incarnation,
    const google::protobuf::RepeatedPtrField<wire::NameEntry>& entries) {
  for (const wire::NameEntry& n : entries) {
    const NameClaim claim{node, incarnation, n.pid(), n.registered_unix_ns()};
    if (std::optional<Pid> loser = registry_->YieldTo(n.name(), claim)) {
      POLIS_LOG(WARNING) << "polis: node " << self_->name << " gives up the name \"" << n.name()
                         << "\" (held by " << loser->ToString() << ") to " << node
                         << ", whose claim is older";
      observer_->OnNameLost(*loser, n.name(), claim);
    }
  }
}

void Membership::OnPeerDown(const std::string& endpoint, const absl::Status& why) {
  if (self_->client && endpoint == client_primary_) client_primary_.clear();
  if (std::optional<std::string> node = directory_->NodeAt(endpoint); node && !self_->client) {
    NodeDown(*node, why, /*retry=*/true);
    return;
  }
  auto c = contacts_.find(endpoint);
  if (c == contacts_.end()) return;
  if (c->second.source == Contact::Source::kSeed && !why.ok()) {
    absl::MutexLock lock(&join_mu_);
    last_seed_error_ = why.ToString();
  }
  ++c->second.failures;
  if (c->second.source == Contact::Source::kReferred &&
      c->second.failures >= kReferredAttempts) {
    contacts_.erase(c);
  }
}

void Membership::NodeDown(const std::string& node, const absl::Status& why, bool retry) {
  std::optional<Directory::Member> m = directory_->Find(node);
  if (!m || !directory_->Remove(node)) return;
  names_lag_.erase(node);
  hello_version_sent_.erase(m->endpoint);
  hello_members_sent_.erase(m->endpoint);
  POLIS_LOG(INFO) << "polis: node " << self_->name << " lost peer " << node << ": " << why;
  const absl::Status status =
      absl::UnavailableError(absl::StrCat("node \"", node, "\" is down: ", why.message()));
  for (auto& s : calls_->TakeForNode(node)) s->Complete(status);
  if (detector_ != nullptr) detector_->Unwatch(m->endpoint);
  io_->transport().Disconnect(m->endpoint);
  if (retry) {
    AddContact(m->endpoint, Contact::Source::kFormer);
    if (auto c = contacts_.find(m->endpoint); c != contacts_.end()) {
      c->second.node = node;
      c->second.backoff = kFirstRetry;
      c->second.next_try = absl::Now() + kFirstRetry;
    }
  } else if (auto c = contacts_.find(m->endpoint);
             c != contacts_.end() && c->second.source != Contact::Source::kSeed) {
    contacts_.erase(c);
  }
  view_dirty_ = true;
  observer_->OnNodeDown(node, m->incarnation, m->endpoint, status);
}

void Membership::FillMembers(wire::NodeInfo* info) const {
  for (const Directory::Member& m : directory_->Members()) {
    wire::MemberInfo* mi = info->add_members();
    mi->set_node(m.node);
    mi->set_endpoint(m.endpoint);
    mi->set_incarnation(m.incarnation);
    mi->set_state("up");
    mi->set_since_unix_ns(absl::ToUnixNanos(m.since));
    mi->set_names(m.names);
    if (detector_ != nullptr) {
      mi->set_last_heard_ms(absl::ToInt64Milliseconds(detector_->SinceHeard(m.endpoint)));
      mi->set_clock_offset_ms(absl::ToInt64Milliseconds(detector_->ClockOffset(m.endpoint)));
    } else {
      mi->set_last_heard_ms(-1);
    }
  }
  for (const auto& [endpoint, c] : contacts_) {
    if (c.source != Contact::Source::kFormer || c.node.empty() || directory_->Known(c.node)) {
      continue;
    }
    wire::MemberInfo* mi = info->add_members();
    mi->set_node(c.node);
    mi->set_endpoint(endpoint);
    mi->set_state("down");
    mi->set_last_heard_ms(-1);
  }
}

}  // namespace polis::internal
