// tools/args.h — the small command-line parser of the `polis` CLI.
//
// Accepts `--flag=value`, `--flag value` and bare boolean flags (`--json`)
// from a fixed list, plus positional arguments. Anything else is a usage
// error with a clear message: an unknown flag, a missing value, a value
// given to a boolean flag, a repeated flag.
//
// Thread-safety: pure functions.
//
// Example:
//   absl::StatusOr<ParsedArgs> a = ParseArgs({"--seed=tcp://h:1", "c", "{}"},
//       {{"seed", FlagKind::kValue}, {"json", FlagKind::kBool}});
//   a->Get("seed");         // "tcp://h:1"
//   a->positional;          // {"c", "{}"}
#ifndef POLIS_TOOLS_ARGS_H_
#define POLIS_TOOLS_ARGS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace polis::tools {

// kList: a value flag that may be repeated; the values are joined with ','
// (read them with SplitList).
enum class FlagKind { kValue, kBool, kList };

struct ParsedArgs {
  std::map<std::string, std::string> flags;  // Boolean flags map to "true".
  std::vector<std::string> positional;

  bool Has(const std::string& flag) const { return flags.count(flag) > 0; }
  // The flag's value, or `fallback` if absent.
  std::string Get(const std::string& flag, const std::string& fallback = "") const;
};

// Parses `args` (without the program and subcommand names). `--` ends the
// flags. INVALID_ARGUMENT naming the offending argument on any usage error.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::map<std::string, FlagKind>& known);

// "500ms", "5s", "1m30s" (absl::ParseDuration). INVALID_ARGUMENT for
// anything else, and for negative or infinite durations.
absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text);

// A positive int. INVALID_ARGUMENT naming `what` otherwise.
absl::StatusOr<int> ParsePositiveInt(const std::string& what, const std::string& text);

// "a,b,,c" -> {"a", "b", "c"} (empty items skipped).
std::vector<std::string> SplitList(const std::string& text);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_ARGS_H_
