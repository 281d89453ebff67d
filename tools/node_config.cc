// tools/node_config.cc — see node_config.h.
#include "tools/node_config.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "genserver/server_kinds.h"
#include "genserver/supervisor_child.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "node/internal/seed_spec.h"
#include "node/trace.h"
#include "telemetry/metrics_server.h"
#include "telemetry/otlp_endpoint.h"
#include "tools/supervision_config.h"

namespace polis::tools {
namespace {

// The field a value at `column` of `line` belongs to: the identifier before
// the ':' that precedes it ("  max_mailbox: 1.5" -> "max_mailbox"), or "".
std::string FieldBefore(absl::string_view line, size_t column) {
  // The tokenizer's columns advance to the next multiple of 8 at a tab.
  size_t i = 0;
  for (size_t col = 0; i < line.size() && col < column; ++i) {
    col = line[i] == '\t' ? (col / 8 + 1) * 8 : col + 1;
  }
  auto skip_space = [&] {
    while (i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t')) --i;
  };
  skip_space();
  if (i > 0 && line[i - 1] == '-') --i;  // "-2.5": the error is at "2.5".
  skip_space();
  if (i == 0 || line[i - 1] != ':') return "";
  --i;
  skip_space();
  const size_t end = i;
  while (i > 0 && (std::isalnum(static_cast<unsigned char>(line[i - 1])) || line[i - 1] == '_'))
    --i;
  return std::string(line.substr(i, end - i));
}

// Keeps the first error, as "FILE:LINE:COLUMN: message" (1-based), with
// "field NAME: " before the message when the error is in a field's value
// (a bad number names its field: "a.textproto:3:16: field max_mailbox:
// Expected integer, got: 1.5").
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  FirstErrorCollector(std::string filename, absl::string_view text)
      : filename_(std::move(filename)), text_(text) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!error_.empty()) return;
    error_ = absl::StrCat(filename_, ":", line + 1, ":", column + 1, ": ");
    std::vector<absl::string_view> lines = absl::StrSplit(text_, '\n');
    if (line >= 0 && static_cast<size_t>(line) < lines.size() && column >= 0) {
      const std::string field = FieldBefore(lines[line], static_cast<size_t>(column));
      if (!field.empty()) absl::StrAppend(&error_, "field ", field, ": ");
    }
    absl::StrAppend(&error_, message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string filename_;
  absl::string_view text_;
  std::string error_;
};

}  // namespace

absl::StatusOr<NodeConfig> ParseNodeConfig(const std::string& text, const std::string& filename,
                                           TreeCheck tree) {
  NodeConfig config;
  FirstErrorCollector errors(filename, text);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &config)) {
    std::string error = errors.error().empty()
                            ? absl::StrCat(filename, ": cannot parse node config")
                            : errors.error();
    if (absl::StrContains(error, "Could not find type")) {
      // An expanded Any (typed_args) naming a type this binary lacks.
      absl::StrAppend(&error,
                      " (typed_args takes a message type linked into this program, written "
                      "[type.googleapis.com/FULL.NAME]; a kind's type: ServerKinds::ArgsType, "
                      "e.g. polis.examples.CounterArgs for counter)");
    }
    return absl::InvalidArgumentError(error);
  }
  for (int i = 0; i < config.serve_size(); ++i) {
    const ServeSpec& serve = config.serve(i);
    if (serve.has_max_mailbox() &&
        (serve.max_mailbox() < 0 || serve.max_mailbox() > kMaxMailboxLimit)) {
      return absl::InvalidArgumentError(absl::StrCat(
          filename, ": serve[", i, "] (kind '", serve.kind(), "'): max_mailbox must be in [0, ",
          kMaxMailboxLimit, "] (0 = no bound), got ", serve.max_mailbox()));
    }
  }
  if (config.has_supervision() && tree == TreeCheck::kNow) {
    std::set<std::string> names;
    if (absl::Status s = CheckSupervisionTree(config.supervision(),
                                              absl::StrCat(filename, ": supervision"), &names);
        !s.ok()) {
      return s;
    }
  }
  return config;
}

absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path, TreeCheck tree) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseNodeConfig(text.str(), path, tree);
}

namespace {

// Resolves an expanded Any's type as the parser does, and a type it does not
// know as google.protobuf.Empty, whose fields the lenient parse then skips.
class AnyTypeOrEmpty : public google::protobuf::TextFormat::Finder {
 public:
  const google::protobuf::Descriptor* FindAnyType(const google::protobuf::Message& message,
                                                  const std::string& prefix,
                                                  const std::string& name) const override {
    const google::protobuf::Descriptor* known = Finder::FindAnyType(message, prefix, name);
    return known != nullptr ? known : google::protobuf::Empty::descriptor();
  }
};

// Drops what the lenient read finds: the strict parse reports it.
class IgnoreErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
};

std::vector<std::string> PeekConfigLoads(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  AnyTypeOrEmpty finder;
  google::protobuf::TextFormat::Parser parser;
  IgnoreErrors quiet;
  parser.SetFinder(&finder);
  parser.RecordErrorsTo(&quiet);
  parser.AllowUnknownField(true);
  NodeConfig config;
  if (!parser.ParseFromString(text.str(), &config)) return {};
  return {config.load().begin(), config.load().end()};
}

}  // namespace

std::vector<std::string> PluginsToLoad(const ParsedArgs& args) {
  std::vector<std::string> loads;
  if (args.Has("config")) loads = PeekConfigLoads(args.Get("config"));
  if (args.Has("load")) {
    for (const std::string& path : SplitList(args.Get("load"))) {
      if (std::find(loads.begin(), loads.end(), path) == loads.end()) loads.push_back(path);
    }
  }
  return loads;
}

absl::StatusOr<ServeSpec> ParseServeSpec(const std::string& text) {
  ServeSpec spec;
  size_t colon = text.find(':');
  spec.set_kind(text.substr(0, colon));
  if (colon != std::string::npos) {
    spec.set_name(text.substr(colon + 1));
    if (spec.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--serve=", text, ": empty name after ':'"));
    }
  }
  if (spec.kind().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--serve=", text, ": empty kind"));
  }
  return spec;
}

bool ListensOnlyLocally(const std::string& listen) {
  if (listen.empty() || listen.rfind("ipc://", 0) == 0) return true;
  if (listen.rfind("tcp://", 0) != 0) return false;
  std::string host = listen.substr(
      6, listen.rfind(':') == std::string::npos || listen.rfind(':') < 6 ? std::string::npos
                                                                         : listen.rfind(':') - 6);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::pair<std::string, std::string> SplitSeedKey(const std::string& seed) {
  size_t from = seed.find("://");
  from = from == std::string::npos ? (seed.rfind("dns:", 0) == 0 ? 4 : 0) : from + 3;
  const size_t at = seed.find('@', from);
  if (at == std::string::npos) return {seed, ""};
  return {seed.substr(0, at), seed.substr(at + 1)};
}

absl::Status ApplyNodeFlags(const ParsedArgs& args, NodeConfig* config) {
  if (args.Has("name")) config->set_name(args.Get("name"));
  if (args.Has("listen")) config->set_listen(args.Get("listen"));
  if (args.Has("advertise")) config->set_advertise(args.Get("advertise"));
  if (args.Has("seed")) {
    config->clear_seeds();
    for (const std::string& s : SplitList(args.Get("seed"))) config->add_seeds(s);
  }
  if (args.Has("key")) config->set_key_file(args.Get("key"));
  if (args.Has("authorized-keys")) config->set_authorized_keys_file(args.Get("authorized-keys"));
  if (args.Has("server-key")) config->set_server_key(args.Get("server-key"));
  if (config->key_file().empty() != config->authorized_keys_file().empty()) {
    return absl::InvalidArgumentError("--key and --authorized-keys go together (both or neither)");
  }
  if (args.Has("insecure")) config->set_insecure(true);
  if (config->insecure() && !config->key_file().empty()) {
    return absl::InvalidArgumentError("--insecure and --key contradict each other: choose one");
  }
  // Secure by default (as Redis's protected mode): no keys, no network.
  if (config->key_file().empty() && !config->insecure() && !ListensOnlyLocally(config->listen())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to listen on ", config->listen(),
        " without keys: anyone who reaches it could call, stop or reconfigure any server. Give "
        "--key=NAME.key --authorized-keys=FILE (see polis keygen), or --insecure to accept "
        "unauthenticated, unencrypted connections on a network you trust"));
  }
  for (const std::string& s : config->seeds()) {
    if (absl::Status st = internal::ValidateSeedSpec(SplitSeedKey(s).first); !st.ok()) return st;
  }
  if (args.Has("serve")) {
    config->clear_serve();
    for (const std::string& s : SplitList(args.Get("serve"))) {
      absl::StatusOr<ServeSpec> spec = ParseServeSpec(s);
      if (!spec.ok()) return spec.status();
      *config->add_serve() = *std::move(spec);
    }
  }
  if (args.Has("load")) {
    // Repeatable, and adds to the file's list (a plugin is loaded once).
    for (const std::string& path : SplitList(args.Get("load"))) {
      if (std::find(config->load().begin(), config->load().end(), path) == config->load().end()) {
        config->add_load(path);
      }
    }
  }
  if (args.Has("metrics")) config->set_metrics(args.Get("metrics"));
  if (!config->metrics().empty()) {
    if (absl::Status s = telemetry::ParseMetricsAddress(config->metrics()).status(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--metrics: ", s.message()));
    }
  }
  if (args.Has("root")) {
    if (args.Get("root").empty()) return absl::InvalidArgumentError("--root: empty name");
    config->set_root_name(args.Get("root"));
  }
  if (args.Has("threads")) {
    absl::StatusOr<int> n = ParsePositiveInt("--threads", args.Get("threads"));
    if (!n.ok()) return n.status();
    config->set_threads(*n);
  }
  if (args.Has("failure-timeout")) {
    absl::StatusOr<absl::Duration> d = ParseTimeout(args.Get("failure-timeout"));
    if (!d.ok()) return d.status();
    config->set_failure_timeout_ms(absl::ToInt64Milliseconds(*d));
  }
  if (config->failure_timeout_ms() < 0 ||
      (config->failure_timeout_ms() > 0 && config->failure_timeout_ms() < 50)) {
    return absl::InvalidArgumentError("failure timeout must be at least 50ms");
  }
  if (args.Has("trace-sample")) config->set_trace_sample(args.Get("trace-sample"));
  if (!config->trace_sample().empty()) {
    if (absl::Status s = Sampler::Parse(config->trace_sample()).status(); !s.ok()) return s;
  }
  if (args.Has("trace-buffer")) {
    absl::StatusOr<int> n = ParsePositiveInt("--trace-buffer", args.Get("trace-buffer"));
    if (!n.ok()) return n.status();
    config->set_trace_buffer_spans(*n);
  }
  if (config->trace_buffer_spans() < 0) {
    return absl::InvalidArgumentError("trace_buffer_spans must be >= 0");
  }
  if (args.Has("trace-file")) config->set_trace_file(args.Get("trace-file"));
  if (args.Has("otlp-endpoint")) config->set_otlp_endpoint(args.Get("otlp-endpoint"));
  if (!config->otlp_endpoint().empty()) {
    absl::StatusOr<telemetry::OtlpEndpoint> endpoint =
        telemetry::ParseOtlpEndpoint(config->otlp_endpoint());
    if (!endpoint.ok()) return endpoint.status();
  }
  if (config->name().empty()) {
    return absl::InvalidArgumentError("a node needs a name: --name=NAME (or name: in --config)");
  }
  if (config->threads() < 0) return absl::InvalidArgumentError("threads must be >= 0");
  for (const ServeSpec& s : config->serve()) {
    if (s.kind().empty()) return absl::InvalidArgumentError("a serve entry has no kind");
  }
  return absl::OkStatus();
}

namespace {

// A kind named by the config, and where: "serve accounts:a",
// "supervision.children[1].supervisor.children[0] (id 'db')".
struct NamedKind {
  std::string kind;
  std::string where;
};

void CollectKinds(const supervision::SupervisorSpec& spec, const std::string& path,
                  std::vector<NamedKind>* kinds);

void CollectChildKinds(const supervision::ChildSpec& child, const std::string& path,
                       std::vector<NamedKind>* kinds) {
  if (child.has_supervisor()) {
    CollectKinds(child.supervisor(), path + ".supervisor", kinds);
  } else if (child.has_dynamic_supervisor()) {
    CollectChildKinds(child.dynamic_supervisor().child_template(),
                      path + ".dynamic_supervisor.child_template", kinds);
  } else if (!child.kind().empty()) {
    kinds->push_back({child.kind(), absl::StrCat(path, " (id '", child.id(), "')")});
  }
}

void CollectKinds(const supervision::SupervisorSpec& spec, const std::string& path,
                  std::vector<NamedKind>* kinds) {
  for (int i = 0; i < spec.children_size(); ++i) {
    CollectChildKinds(spec.children(i), absl::StrCat(path, ".children[", i, "]"), kinds);
  }
}

}  // namespace

absl::Status CheckServerKinds(const NodeConfig& config) {
  std::vector<NamedKind> kinds;
  for (const ServeSpec& serve : config.serve()) {
    kinds.push_back(
        {serve.kind(), absl::StrCat("serve ", serve.kind(), ":",
                                    serve.name().empty() ? serve.kind() : serve.name())});
  }
  CollectKinds(config.supervision(), "supervision", &kinds);
  const std::vector<std::string> known = ServerKinds::List();
  for (const NamedKind& k : kinds) {
    if (std::binary_search(known.begin(), known.end(), k.kind)) continue;
    return absl::NotFoundError(absl::StrCat(
        k.where, ": unknown server kind \"", k.kind, "\" (known: ", absl::StrJoin(known, ", "),
        "); a kind from your own code: load it with --load=libyours.so, or register it and "
        "call polis::NodeMain (README, \"Your own servers\")"));
  }
  return absl::OkStatus();
}

std::string RootName(const NodeConfig& config) {
  return config.root_name().empty() ? absl::StrCat("root@", config.name()) : config.root_name();
}

absl::StatusOr<supervision::SupervisorSpec> RootSupervisorSpec(const NodeConfig& config) {
  supervision::SupervisorSpec root = config.supervision();
  if (!root.has_intensity()) root.set_intensity(kRootIntensity);
  if (root.period_ms() == 0) root.set_period_ms(kRootPeriodMs);
  // The file's tree was checked when it was read; check it again with the
  // root's name taken, then the serve entries against it.
  std::set<std::string> names = {RootName(config)};
  if (absl::Status s = CheckSupervisionTree(root, "supervision", &names); !s.ok()) return s;
  std::set<std::string> ids;
  for (const supervision::ChildSpec& c : root.children()) ids.insert(c.id());
  for (const ServeSpec& serve : config.serve()) {
    const std::string name = serve.name().empty() ? serve.kind() : serve.name();
    const std::string path = absl::StrCat("serve ", serve.kind(), ":", name);
    if (!ids.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": the root supervisor already has a child with id '", name, "'"));
    }
    supervision::ChildSpec* child = root.add_children();
    child->set_id(name);
    child->set_name(name);
    child->set_kind(serve.kind());
    if (serve.has_args()) *child->mutable_args() = serve.args();
    if (serve.has_typed_args()) *child->mutable_typed_args() = serve.typed_args();
    if (serve.has_max_mailbox()) child->set_max_mailbox(serve.max_mailbox());
    child->set_restart(supervision::PERMANENT);
    if (absl::Status s = CheckChildSpec(*child, path, &names); !s.ok()) return s;
  }
  return root;
}

}  // namespace polis::tools
