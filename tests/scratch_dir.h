// tests/scratch_dir.h — a temporary directory for a test's files (ipc://
// socket paths, config files), removed with everything in it.
//
// Thread-safety: a ScratchDir has one owner thread.
//
// Example:
//   auto dir = ScratchDir::Create("polis-bus");
//   ASSERT_THAT(dir, IsOk());
//   const std::string ep = "ipc://" + (*dir)->File("node.sock");
//   std::string key = ReadFile((*dir)->File("a.pub"));
#ifndef POLIS_TESTS_SCRATCH_DIR_H_
#define POLIS_TESTS_SCRATCH_DIR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace polis::testing {

// A fresh directory under /tmp (short paths: ipc:// paths are limited to
// ~107 bytes), removed recursively by the destructor.
class ScratchDir {
 public:
  // A directory /tmp/PREFIX-XXXXXX. UNAVAILABLE if it cannot be created.
  static absl::StatusOr<std::unique_ptr<ScratchDir>> Create(const std::string& prefix = "polis");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The whole content of the file at `path` ("" if it cannot be read).
std::string ReadFile(const std::string& path);

}  // namespace polis::testing

#endif  // POLIS_TESTS_SCRATCH_DIR_H_
