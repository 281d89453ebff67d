// tools/cluster_commands.cc — `polis nodes` and `polis ps`; `polis describe`
// is in describe_command.cc. See cluster_commands.h.
#include "tools/cluster_commands.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/text_output.h"

namespace polis::tools {
namespace {

std::string StatusText(const absl::Status& s) {
  return absl::StrCat(absl::StatusCodeToString(s.code()), ": ", s.message());
}

// "3d4h", "2h5m", "4m12s", "12s", "0s": the two largest units.
std::string Uptime(absl::Duration d) {
  int64_t s = std::max<int64_t>(0, absl::ToInt64Seconds(d));
  const int64_t days = s / 86400, hours = s % 86400 / 3600, mins = s % 3600 / 60, secs = s % 60;
  if (days > 0) return absl::StrCat(days, "d", hours, "h");
  if (hours > 0) return absl::StrCat(hours, "h", mins, "m");
  if (mins > 0) return absl::StrCat(mins, "m", secs, "s");
  return absl::StrCat(secs, "s");
}

std::string LastHeard(int64_t ms) {
  if (ms < 0) return "-";
  if (ms < 1000) return absl::StrCat(ms, "ms");
  return Uptime(absl::Milliseconds(ms));
}

struct PsRow {
  const wire::ServerInfo* server;
  const std::string* node;
};

// {"framing":12,"unknown_kind":3}: what the node refused, by reason.
std::string BadInputJson(const google::protobuf::RepeatedPtrField<wire::BadInputCount>& counts) {
  std::vector<std::string> items;
  for (const wire::BadInputCount& c : counts) {
    items.push_back(absl::StrCat(JsonQuote(c.reason()), ":", c.count()));
  }
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

// The node's failure detector: where it takes beats and what it did with
// them; null for a node without one (in-process) or that did not answer.
std::string HeartbeatJson(const wire::NodeInfo& info) {
  if (!info.has_heartbeat()) return "null";
  const wire::HeartbeatInfo& h = info.heartbeat();
  return absl::StrCat(
      "{\"address\":", JsonQuote(h.address()), ",\"sent\":", h.beats_sent(),
      ",\"send_failures\":", h.send_failures(), ",\"accepted\":", h.beats_accepted(),
      ",\"ignored\":{\"unwatched\":", h.ignored_unwatched(), ",\"malformed\":",
      h.ignored_malformed(), ",\"oversized\":", h.ignored_oversized(),
      ",\"unauthenticated\":", h.ignored_unauthenticated(), ",\"replayed\":",
      h.ignored_replayed(), ",\"other_incarnation\":", h.beats_other_incarnation(),
      "},\"self_pauses\":", h.self_pauses(), "}");
}

// {"addr:10.0.0.7":{"framing":12},"b":{"refused":1}}: the same per peer.
std::string BadInputByPeerJson(const wire::NodeInfo& info) {
  std::vector<std::string> items;
  for (const wire::PeerBadInput& p : info.bad_input_by_peer()) {
    items.push_back(absl::StrCat(JsonQuote(p.peer()), ":", BadInputJson(p.counts())));
  }
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

}  // namespace

CommandOutput FormatNodes(const ClusterView& view, bool json, absl::Time now) {
  bool any_error = false;
  for (const NodeReport& n : view.nodes) any_error = any_error || !n.info.ok();
  std::vector<std::string> header = {"NODE",   "ENDPOINT", "INCARNATION", "STATE",
                                     "UPTIME", "SERVERS",  "LAST_HEARD"};
  if (any_error) header.push_back("ERROR");
  TextTable table(std::move(header));
  std::vector<std::string> items;
  for (const NodeReport& n : view.nodes) {
    // The node's own word where it answered, else the seed's.
    const bool ok = n.info.ok();
    const std::string& endpoint = ok ? n.info->self().endpoint() : n.seen.endpoint();
    const uint64_t incarnation = ok ? n.info->self().incarnation() : n.seen.incarnation();
    const absl::Duration up =
        ok ? now - absl::FromUnixNanos(n.info->self().started_unix_ns()) : absl::ZeroDuration();
    const std::string error = ok ? "" : StatusText(n.info.status());
    if (json) {
      items.push_back(absl::StrCat(
          "{\"name\":", JsonQuote(n.node), ",\"endpoint\":", JsonQuote(endpoint),
          ",\"incarnation\":", incarnation == 0 ? "null" : absl::StrCat("\"", incarnation, "\""),
          ",\"state\":", JsonQuote(n.seen.state()), ",\"seed\":", n.is_seed ? "true" : "false",
          ",\"uptime_ms\":",
          ok ? absl::StrCat(std::max<int64_t>(0, absl::ToInt64Milliseconds(up))) : "null",
          ",\"servers\":", ok ? absl::StrCat(n.info->servers_size()) : "null",
          ",\"names\":", ok ? n.info->self().names_size() : static_cast<int>(n.seen.names()),
          ",\"last_heard_ms\":", n.seen.last_heard_ms(), ",\"clock_offset_ms\":",
          n.seen.clock_offset_ms(), ",\"bad_input\":", ok ? BadInputJson(n.info->bad_input()) : "null",
          ",\"bad_input_by_peer\":", ok ? BadInputByPeerJson(*n.info) : "null",
          ",\"heartbeat\":", ok ? HeartbeatJson(*n.info) : "null",
          ",\"error\":", ok ? "null" : JsonQuote(error), "}"));
    } else {
      table.AddRow({n.node, endpoint, incarnation == 0 ? "-" : absl::StrCat(incarnation),
                    n.seen.state(), ok ? Uptime(up) : "-",
                    ok ? absl::StrCat(n.info->servers_size()) : "-",
                    LastHeard(n.seen.last_heard_ms()), error});
    }
  }
  if (json) return {absl::StrCat("{\"nodes\":[", absl::StrJoin(items, ","), "]}\n"), ""};
  return {table.Render(), ""};
}

CommandOutput FormatPs(const ClusterView& view, bool json, bool all) {
  std::vector<PsRow> rows;
  CommandOutput output;
  std::vector<std::string> unreachable;
  for (const NodeReport& n : view.nodes) {
    if (!n.info.ok()) {
      unreachable.push_back(absl::StrCat("{\"node\":", JsonQuote(n.node), ",\"error\":",
                                         JsonQuote(StatusText(n.info.status())), "}"));
      absl::StrAppend(&output.err, "polis ps: node ", n.node,
                      " is left out: ", StatusText(n.info.status()), "\n");
      continue;
    }
    for (const wire::ServerInfo& s : n.info->servers()) {
      if (all || !s.name().empty()) rows.push_back({&s, &n.node});
    }
  }
  std::sort(rows.begin(), rows.end(), [](const PsRow& a, const PsRow& b) {
    return std::forward_as_tuple(a.server->name(), *a.node, a.server->pid()) <
           std::forward_as_tuple(b.server->name(), *b.node, b.server->pid());
  });
  if (json) {
    std::vector<std::string> items;
    for (const PsRow& r : rows) {
      items.push_back(absl::StrCat(
          "{\"name\":", JsonQuote(r.server->name()), ",\"node\":", JsonQuote(*r.node),
          ",\"pid\":", r.server->pid(), ",\"kind\":", JsonQuote(r.server->kind()),
          ",\"mailbox\":", r.server->mailbox(), ",\"restarts\":", r.server->restarts(),
          ",\"dropped\":", r.server->dropped(), "}"));
    }
    output.out = absl::StrCat("{\"names\":[", absl::StrJoin(items, ","), "],\"unreachable\":[",
                              absl::StrJoin(unreachable, ","), "]}\n");
    return output;
  }
  TextTable table({"NAME", "NODE", "PID", "KIND", "MAILBOX", "RESTARTS", "DROPPED"});
  for (const PsRow& r : rows) {
    table.AddRow({r.server->name().empty() ? "-" : r.server->name(), *r.node,
                  absl::StrCat(r.server->pid()), r.server->kind().empty() ? "-" : r.server->kind(),
                  absl::StrCat(r.server->mailbox()), absl::StrCat(r.server->restarts()),
                  absl::StrCat(r.server->dropped())});
  }
  output.out = table.Render();
  return output;
}

absl::StatusOr<CommandOutput> RunNodes(const ClusterCommand& command) {
  absl::StatusOr<ClusterView> view = GatherCluster(command.seed, command.timeout);
  if (!view.ok()) return view.status();
  return FormatNodes(*view, command.json, absl::Now());
}

absl::StatusOr<CommandOutput> RunPs(const ClusterCommand& command) {
  absl::StatusOr<ClusterView> view = GatherCluster(command.seed, command.timeout);
  if (!view.ok()) return view.status();
  return FormatPs(*view, command.json, command.all);
}

}  // namespace polis::tools
