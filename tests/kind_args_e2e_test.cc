// A typed server kind's arguments in a real `polis node` process: the
// counter's `initial` given as typed_args (protobuf text's expanded Any
// syntax) arrives exact, 2^53 + 1 included, and `polis call` reads it back;
// the same number in the Struct form (a double) is refused when the file is
// loaded: exit code 2, the message naming the kind, the field and the way
// out (typed_args).
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/node_process.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"

namespace polis::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Write(const ScratchDir& dir, const std::string& file, const std::string& text) {
  const std::string path = dir.File(file);
  std::ofstream(path) << text;
  return path;
}

TEST(KindArgsE2eTest, TypedArgsReachTheCounterExactlyAndTheStructFormIsRefused) {
  auto dir = ScratchDir::Create();
  ASSERT_THAT(dir, IsOk());
  const std::string typed = Write(**dir, "typed.textproto", R"(
    serve { kind: "counter" name: "big"
            typed_args { [type.googleapis.com/polis.examples.CounterArgs] { initial: 9007199254740993 } } }
  )");
  auto node = NodeProcess::Start(
      {.name = "args", .listen = "tcp://127.0.0.1:*", .extra_args = {"--config=" + typed}});
  ASSERT_THAT(node, IsOk());
  ProcessResult got = RetryUntil(
      [&] {
        return Polis({"call", "--seed=" + (*node)->endpoint(), "big", R"({"get": {}})"});
      },
      [](const ProcessResult& r) { return !FailedWith(r, {"NOT_FOUND"}); }, absl::Seconds(15));
  EXPECT_EQ(got.exit_code, 0) << got.Summary();
  // int64 prints as a JSON string: every digit is the server's.
  EXPECT_EQ(got.out, "{\"value\":\"9007199254740993\"}\n") << got.Summary();
  EXPECT_THAT((*node)->Stop(), IsOk());

  const std::string loose = Write(**dir, "struct.textproto", R"(
    serve { kind: "counter" name: "big"
            args { fields { key: "initial" value { number_value: 9007199254740993 } } } }
  )");
  ProcessResult refused =
      Polis({"node", "--name=refused", "--listen=tcp://127.0.0.1:*", "--config=" + loose},
            absl::Seconds(20));
  EXPECT_EQ(refused.exit_code, 2) << refused.Summary();
  EXPECT_THAT(refused.err, StartsWith("INVALID_ARGUMENT: ")) << refused.Summary();
  EXPECT_THAT(refused.err,
              AllOf(HasSubstr("serve counter:big"), HasSubstr("kind counter: args.initial"),
                    HasSubstr("cannot hold exactly"), HasSubstr("typed_args")))
      << refused.Summary();
  EXPECT_EQ(refused.out, "") << refused.Summary();  // It never got as far as listening.
}

}  // namespace
}  // namespace polis::testing
