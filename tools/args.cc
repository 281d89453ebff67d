// tools/args.cc — see args.h.
#include "tools/args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace polis::tools {

std::string ParsedArgs::Get(const std::string& flag, const std::string& fallback) const {
  auto it = flags.find(flag);
  return it == flags.end() ? fallback : it->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::map<std::string, FlagKind>& known) {
  ParsedArgs out;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || arg.size() < 2 || arg.rfind("--", 0) != 0) {
      if (!flags_done && arg.size() > 1 && arg[0] == '-' && arg != "-") {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag ", arg, " (flags are written --name=value)"));
      }
      out.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    auto it = known.find(name);
    if (it == known.end()) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    if (out.flags.count(name) && it->second != FlagKind::kList) {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " given twice"));
    }
    if (it->second == FlagKind::kBool) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " takes no value"));
      }
      out.flags[name] = "true";
      continue;
    }
    if (!value.has_value()) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      }
      value = args[++i];
    }
    if (auto [at, added] = out.flags.emplace(name, *value); !added) {
      absl::StrAppend(&at->second, ",", *value);  // A repeated kList flag.
    }
  }
  return out;
}

absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad duration \"", text, "\" (write e.g. 500ms, 5s, 1m)"));
  }
  return d;
}

absl::StatusOr<int> ParsePositiveInt(const std::string& what, const std::string& text) {
  int n = 0;
  if (!absl::SimpleAtoi(text, &n) || n <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a positive integer, got \"", text, "\""));
  }
  return n;
}

std::vector<std::string> SplitList(const std::string& text) {
  return absl::StrSplit(text, ',', absl::SkipEmpty());
}

}  // namespace polis::tools
