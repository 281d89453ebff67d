// bus/authorized_keys.cc — see authorized_keys.h.
#include "bus/authorized_keys.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bus/curve_keys.h"

namespace polis::bus {

absl::StatusOr<std::shared_ptr<const AuthorizedKeys>> AuthorizedKeys::Parse(
    absl::string_view text, absl::string_view source) {
  auto keys = std::make_shared<AuthorizedKeys>();
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_no, ": ", why));
    };
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    AuthorizedKey key;
    key.line = line_no;
    if (words[0] == "node") {
      key.role = PeerRole::kNode;
    } else if (words[0] == "client") {
      key.role = PeerRole::kClient;
    } else if (words[0] == "admin") {
      key.role = PeerRole::kAdmin;
    } else {
      return bad(absl::StrCat("unknown role '", words[0], "' (node, client or admin)"));
    }
    if (words.size() < 2) return bad("no public key after the role");
    if (absl::Status s = ValidateCurveKey(words[1]); !s.ok()) return bad(s.message());
    key.public_key = std::string(words[1]);
    size_t rest = 2;
    if (words.size() > 2 && absl::StartsWith(words[2], "names=")) {
      if (key.role != PeerRole::kClient) {
        return bad(absl::StrCat("names= is for client lines only (a ", words[0],
                                " reaches every name)"));
      }
      for (absl::string_view glob : absl::StrSplit(words[2].substr(6), ',')) {
        if (glob.empty()) return bad("empty glob in names=");
        key.name_globs.emplace_back(glob);
      }
      rest = 3;
    }
    key.comment = absl::StrJoin(words.begin() + rest, words.end(), " ");
    std::string binary = CurveKeyBinary(key.public_key);
    if (keys->by_binary_.contains(binary)) {
      return bad(absl::StrCat("key ", key.public_key, " is listed twice (first on line ",
                              keys->by_binary_[binary]->line, ")"));
    }
    keys->entries_.push_back(std::move(key));
    keys->by_binary_.emplace(std::move(binary), &keys->entries_.back());
    keys->by_z85_.emplace(keys->entries_.back().public_key, &keys->entries_.back());
  }
  return std::shared_ptr<const AuthorizedKeys>(std::move(keys));
}

absl::StatusOr<std::shared_ptr<const AuthorizedKeys>> AuthorizedKeys::LoadFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read authorized keys ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path);
}

const AuthorizedKey* AuthorizedKeys::FindBinary(absl::string_view key32) const {
  auto it = by_binary_.find(key32);
  return it == by_binary_.end() ? nullptr : it->second;
}

const AuthorizedKey* AuthorizedKeys::FindZ85(absl::string_view z85) const {
  auto it = by_z85_.find(z85);
  return it == by_z85_.end() ? nullptr : it->second;
}

}  // namespace polis::bus
