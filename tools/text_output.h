// tools/text_output.h — the two shapes the `polis` CLI prints results in:
// an aligned table for people and JSON for scripts.
//
// TextTable pads every column to its widest cell, two spaces apart, with
// the header first; rows come out in the order added (callers sort them).
// JsonQuote makes a JSON string literal of any bytes (invalid UTF-8 is
// replaced, control characters escaped), so output always parses.
//
// Thread-safety: a TextTable is used by one thread; JsonQuote is pure.
//
// Example:
//   TextTable t({"NAME", "NODE"});
//   t.AddRow({"counter", "a"});
//   std::cout << t.Render();            // "NAME     NODE\ncounter  a\n"
//   JsonQuote("a\"b");                  // "\"a\\\"b\""
#ifndef POLIS_TOOLS_TEXT_OUTPUT_H_
#define POLIS_TOOLS_TEXT_OUTPUT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace polis::tools {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);
  // A row with fewer cells than the header is padded with empty ones.
  void AddRow(std::vector<std::string> cells);
  // Header and rows, one per line, each ending in '\n' (no trailing spaces).
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header.
};

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view s);

}  // namespace polis::tools

#endif  // POLIS_TOOLS_TEXT_OUTPUT_H_
