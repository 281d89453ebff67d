// tools/trace_command.cc — `polis trace`; see trace_command.h. The tree,
// the waterfall and the listing are in trace_view.cc.
#include "tools/trace_command.h"

#include <map>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "node/node.h"
#include "tools/client_command.h"
#include "tools/trace_view.h"

namespace polis::tools {
namespace {

// Asks every member of `client`'s view at once, one thread each.
SpanAnswers AskEveryNode(Node& client, const wire::SpanQuery& query, absl::Time deadline,
                         absl::Duration timeout) {
  SpanAnswers answers;
  for (const std::string& node : client.Peers()) {
    answers.emplace_back(node, absl::UnknownError("not asked"));
  }
  std::vector<std::thread> askers;
  askers.reserve(answers.size());
  for (auto& answer : answers) {
    askers.emplace_back([&answer, &client, &query, deadline, timeout] {
      answer.second = client.QuerySpans(answer.first, query, Remaining(deadline));
      if (absl::IsDeadlineExceeded(answer.second.status())) {
        answer.second = absl::DeadlineExceededError(
            absl::StrCat("did not answer within ", absl::FormatDuration(timeout)));
      }
    });
  }
  for (std::thread& t : askers) t.join();
  return answers;
}

// Every span of the answers, by trace id (bytes).
std::map<std::string, std::vector<wire::Span>> SpansByTrace(
    const std::vector<wire::SpanQueryReply>& answers) {
  std::map<std::string, std::vector<wire::Span>> out;
  for (const wire::SpanQueryReply& a : answers) {
    for (const wire::Span& s : a.spans()) out[s.trace_id()].push_back(s);
  }
  return out;
}

absl::StatusOr<CommandOutput> ShowTrace(Node& client, const TraceCommand& command,
                                        absl::Time deadline) {
  wire::SpanQuery query;
  query.add_trace_ids(std::string(command.trace_id.view()));
  CommandOutput output;
  absl::StatusOr<std::vector<wire::SpanQueryReply>> answers =
      CollectAnswers(AskEveryNode(client, query, deadline, command.timeout), &output.err);
  if (!answers.ok()) return answers.status();
  std::vector<wire::Span> spans =
      std::move(SpansByTrace(*answers)[std::string(command.trace_id.view())]);
  if (spans.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no node holds a span of trace ", command.trace_id.Hex(), " (asked ", answers->size(),
        answers->size() == 1 ? " node" : " nodes",
        "; a trace is recorded only if sampled, and each node keeps a bounded number of spans,"
        " dropping the oldest)"));
  }
  const std::vector<TreeSpan> tree = ArrangeTrace(std::move(spans));
  output.out = command.json ? FormatTraceJson(command.trace_id, tree)
                            : FormatWaterfall(command.trace_id, tree);
  return output;
}

absl::StatusOr<CommandOutput> ListTraces(Node& client, const TraceCommand& command,
                                         absl::Time deadline) {
  CommandOutput output;
  wire::SpanQuery summaries;
  summaries.set_last(command.last);
  summaries.set_errors_only(command.errors_only);
  absl::StatusOr<std::vector<wire::SpanQueryReply>> first =
      CollectAnswers(AskEveryNode(client, summaries, deadline, command.timeout), &output.err);
  if (!first.ok()) return first.status();
  const std::vector<wire::TraceSummary> recent =
      MostRecentTraces(*first, command.last, command.errors_only);
  std::map<std::string, std::vector<wire::Span>> spans;
  if (!recent.empty()) {
    wire::SpanQuery query;
    for (const wire::TraceSummary& t : recent) query.add_trace_ids(t.trace_id());
    std::string notes;
    absl::StatusOr<std::vector<wire::SpanQueryReply>> second =
        CollectAnswers(AskEveryNode(client, query, deadline, command.timeout), &notes);
    // Without spans the summaries are still worth printing.
    if (second.ok()) spans = SpansByTrace(*second);
    output.err += notes;
  }
  std::vector<TraceListing> listing;
  listing.reserve(recent.size());
  for (const wire::TraceSummary& t : recent) {
    listing.push_back(ListTrace(t, ArrangeTrace(std::move(spans[t.trace_id()]))));
  }
  output.out = FormatTraceList(listing, command.json, absl::Now());
  return output;
}

}  // namespace

absl::StatusOr<std::vector<wire::SpanQueryReply>> CollectAnswers(SpanAnswers answers,
                                                                 std::string* err) {
  std::vector<wire::SpanQueryReply> out;
  absl::Status first_error;
  for (auto& [node, answer] : answers) {
    if (!answer.ok()) {
      absl::StrAppend(err, "polis trace: node ", node, " did not answer (its spans are left out): ",
                      absl::StatusCodeToString(answer.status().code()), ": ",
                      answer.status().message(), "\n");
      if (first_error.ok()) {
        first_error = absl::Status(answer.status().code(),
                                   absl::StrCat("node ", node, ": ", answer.status().message()));
      }
      continue;
    }
    if (answer->truncated()) {
      absl::StrAppend(err, "polis trace: node ", node,
                      " holds more matching spans than it sent; some are left out\n");
    }
    out.push_back(*std::move(answer));
  }
  if (out.empty()) {
    if (!first_error.ok()) return first_error;
    return absl::UnavailableError("the seed listed no members to ask");
  }
  return out;
}

absl::StatusOr<CommandOutput> RunTrace(const TraceCommand& command) {
  const absl::Time deadline = absl::Now() + command.timeout;
  absl::StatusOr<std::unique_ptr<Node>> client = JoinAsClient(command.seed, deadline);
  if (!client.ok()) return client.status();
  return command.last > 0 ? ListTraces(**client, command, deadline)
                          : ShowTrace(**client, command, deadline);
}

}  // namespace polis::tools
