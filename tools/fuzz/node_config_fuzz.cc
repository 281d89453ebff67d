// tools/fuzz/node_config_fuzz.cc — libFuzzer target: the `polis node`
// config file parser (tools/node_config.h ParseNodeConfig, then
// RootName + RootSupervisorSpec, which run the supervision tree checks of
// tools/supervision_config.h) and the --serve spec parser (ParseServeSpec).
//
// The input is the file's text (protobuf text format). Errors must be
// INVALID_ARGUMENT (the documented one: file, line, field); anything else,
// a crash or a sanitizer report is a finding.
//
// Thread-safety: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
//
// Example:
//   build-fuzz/fuzz/node_config_fuzz -dict=tools/fuzz/node_config.dict tools/fuzz/corpus/node_config
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/stubs/logging.h"
#include "tools/node_config.h"

namespace {

void Check(const absl::Status& s, const char* what) {
  if (s.ok() || s.code() == absl::StatusCode::kInvalidArgument) return;
  std::fprintf(stderr, "node_config_fuzz: %s: undocumented error %s\n", what,
               s.ToString().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static google::protobuf::LogSilencer* quiet = new google::protobuf::LogSilencer;
  (void)quiet;
  if (size > 64 * 1024) return -1;
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<polis::tools::NodeConfig> config =
      polis::tools::ParseNodeConfig(text, "fuzz.textproto");
  Check(config.status(), "ParseNodeConfig");
  if (config.ok()) {
    (void)polis::tools::RootName(*config);
    Check(polis::tools::RootSupervisorSpec(*config).status(), "RootSupervisorSpec");
  }
  Check(polis::tools::ParseServeSpec(text).status(), "ParseServeSpec");
  return 0;
}
