// tools/node_config.cc — see node_config.h.
#include "tools/node_config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace polis::tools {
namespace {

// Keeps the first error, as "FILE:LINE:COLUMN: message" (1-based).
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit FirstErrorCollector(std::string filename) : filename_(std::move(filename)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error_.empty()) error_ = absl::StrCat(filename_, ":", line + 1, ":", column + 1, ": ", message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string filename_;
  std::string error_;
};

}  // namespace

absl::StatusOr<NodeConfig> ParseNodeConfig(const std::string& text, const std::string& filename) {
  NodeConfig config;
  FirstErrorCollector errors(filename);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &config)) {
    return absl::InvalidArgumentError(
        errors.error().empty() ? absl::StrCat(filename, ": cannot parse node config") : errors.error());
  }
  return config;
}

absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseNodeConfig(text.str(), path);
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

absl::Status ApplyNodeFlags(const ParsedArgs& args, NodeConfig* config) {
  if (args.Has("name")) config->set_name(args.Get("name"));
  if (args.Has("listen")) config->set_listen(args.Get("listen"));
  if (args.Has("seed")) {
    config->clear_seeds();
    for (const std::string& s : SplitList(args.Get("seed"))) config->add_seeds(s);
  }
  if (args.Has("serve")) {
    config->clear_serve();
    for (const std::string& s : SplitList(args.Get("serve"))) {
      absl::StatusOr<ServeSpec> spec = ParseServeSpec(s);
      if (!spec.ok()) return spec.status();
      *config->add_serve() = *std::move(spec);
    }
  }
  if (args.Has("threads")) {
    absl::StatusOr<int> n = ParsePositiveInt("--threads", args.Get("threads"));
    if (!n.ok()) return n.status();
    config->set_threads(*n);
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

}  // namespace polis::tools
