// tools/cluster_view.cc — see cluster_view.h.
#include "tools/cluster_view.h"

#include <unistd.h>

#include <map>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "node/node.h"
#include "tools/client_command.h"

namespace polis::tools {
namespace {

// The seed's entry for itself, as a member would be listed.
wire::MemberInfo SelfAsMember(const wire::NodeEntry& self) {
  wire::MemberInfo m;
  m.set_node(self.node());
  m.set_endpoint(self.endpoint());
  m.set_incarnation(self.incarnation());
  m.set_state("up");
  m.set_since_unix_ns(self.started_unix_ns());
  m.set_last_heard_ms(-1);
  m.set_names(self.names_size());
  return m;
}

}  // namespace

absl::StatusOr<ClusterView> AssembleView(const std::string& seed, NodeAnswers answers) {
  const absl::StatusOr<wire::NodeInfo>* seed_info = nullptr;
  for (const auto& [node, info] : answers) {
    if (info.ok() && info->self().endpoint() == seed) seed_info = &info;
  }
  for (const auto& [node, info] : answers) {
    if (seed_info == nullptr && info.ok()) seed_info = &info;
  }
  if (seed_info == nullptr) {
    if (answers.empty()) {
      return absl::UnavailableError(absl::StrCat("the node at ", seed, " listed no members"));
    }
    return answers.front().second.status();
  }
  const wire::NodeInfo s = **seed_info;  // A copy: the answers are moved below.
  std::map<std::string, NodeReport> by_node;
  NodeReport& me = by_node[s.self().node()];
  me.is_seed = true;
  me.seen = SelfAsMember(s.self());
  for (const wire::MemberInfo& m : s.members()) {
    NodeReport& r = by_node[m.node()];
    r.seen = m;
    r.info = absl::UnavailableError(absl::StrCat("node \"", m.node(), "\" is ", m.state(), " as ",
                                                 s.self().node(), " sees it; not asked"));
  }
  for (auto& [node, info] : answers) {
    NodeReport& r = by_node[node];
    if (r.seen.node().empty()) {  // Joined after the seed answered.
      r.seen = info.ok() ? SelfAsMember(info->self()) : wire::MemberInfo();
      r.seen.set_node(node);
    }
    r.info = std::move(info);
  }
  ClusterView view;
  view.seed_node = s.self().node();
  for (auto& [node, r] : by_node) {
    r.node = node;
    view.nodes.push_back(std::move(r));
  }
  return view;
}

absl::StatusOr<ClusterView> GatherCluster(const std::string& seed, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<std::unique_ptr<Node>> node = JoinAsClient(seed, deadline);
  if (!node.ok()) return node.status();

  // The client's view is the seed's members and the seed (sorted).
  const std::vector<std::string> members = (*node)->Peers();
  NodeAnswers answers;
  for (const std::string& m : members) answers.emplace_back(m, absl::UnknownError("not asked"));
  std::vector<std::thread> askers;
  askers.reserve(answers.size());
  for (auto& answer : answers) {
    askers.emplace_back([&answer, &node, deadline, timeout] {
      answer.second = (*node)->Info(answer.first, Remaining(deadline));
      if (absl::IsDeadlineExceeded(answer.second.status())) {
        answer.second = absl::DeadlineExceededError(absl::StrCat(
            "node \"", answer.first, "\" did not answer within ", absl::FormatDuration(timeout)));
      }
    });
  }
  for (std::thread& t : askers) t.join();
  return AssembleView(seed, std::move(answers));
}

}  // namespace polis::tools
