// Reloading a node's authorized keys with SIGHUP, with real `polis`
// processes (tools/node_command.h, bus/curve_security.h): a key added to
// the file gets in; a key removed from it is refused at once, on a new
// connection (its handshake) and on a connection it opened before (its next
// call gets PERMISSION_DENIED, the counter keeps its value); a file that
// does not parse keeps the keys in use and says FILE:LINE on stderr.
#include <signal.h>
#include <sys/types.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bus/curve_keys.h"
#include "examples/examples.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "polis/envelope.pb.h"
#include "tests/node_process.h"
#include "tests/raw_client.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"
#include "tests/wait.h"
#include "zmq.hpp"

namespace polis::testing {
namespace {

using ::testing::HasSubstr;

// A raw CURVE DEALER that stays connected across reloads and calls
// `counter` over that one connection, as any long-lived client would.
class LongLivedCaller {
 public:
  LongLivedCaller(const std::string& key_file, const std::string& server_pub,
                  const std::string& endpoint)
      : dealer_(ctx_, zmq::socket_type::dealer) {
    EXPECT_THAT(ConnectCurveDealer(dealer_, key_file, server_pub, endpoint), IsOk());
  }

  // Calls counter {"add": n}; the reply envelope, or nullopt if none came
  // within 10 s.
  std::optional<wire::Envelope> Add(int64_t n) {
    examples::CounterRequest req;
    req.set_add(n);
    wire::Envelope e;
    e.set_version(1);
    e.set_kind(wire::KIND_CALL);
    e.set_type(examples::CounterRequest::descriptor()->full_name());
    e.mutable_sender()->set_node("raw-caller");
    e.mutable_recipient()->set_name("counter");
    e.set_ref(++ref_);
    e.mutable_reply_to()->set_node("raw-caller");
    e.set_timeout_us(10'000'000);
    e.set_payload(req.SerializeAsString());
    const std::string f = Frame(e);
    if (!dealer_.send(zmq::buffer(f), zmq::send_flags::none)) return std::nullopt;
    zmq::message_t m;
    while (dealer_.recv(m, zmq::recv_flags::none)) {
      std::optional<wire::Envelope> reply;
      ForEachEnvelope(m, [&](const wire::Envelope& r) {
        if (r.kind() == wire::KIND_REPLY && r.ref() == ref_) reply = r;
      });
      if (reply) return reply;
    }
    return std::nullopt;
  }

 private:
  zmq::context_t ctx_;
  zmq::socket_t dealer_;
  uint64_t ref_ = 0;
};

class KeyReloadE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ScratchDir>> dir = ScratchDir::Create("polis-reload");
    ASSERT_THAT(dir, IsOk());
    dir_ = *std::move(dir);
    for (const char* name : {"n1", "client", "newcomer"}) {
      ProcessResult r = Polis({"keygen", "--out=" + dir_->File(name)});
      ASSERT_EQ(r.exit_code, 0) << r.Summary();
    }
    WriteKeys({"node " + Pub("n1") + " n1", "client " + Pub("client") + " the app"});
    absl::StatusOr<std::unique_ptr<NodeProcess>> n = NodeProcess::Start(
        {.name = "n1",
         .listen = "tcp://127.0.0.1:*",
         .serve = {"counter"},
         .extra_args = {"--key=" + dir_->File("n1.key"), "--authorized-keys=" + Keys()}});
    ASSERT_THAT(n, IsOk());
    node_ = *std::move(n);
  }

  std::string Pub(const std::string& name) {
    return std::string(absl::StripAsciiWhitespace(ReadFile(dir_->File(name + ".pub"))));
  }
  std::string Keys() { return dir_->File("authorized_keys"); }
  void WriteKeys(const std::vector<std::string>& lines) {
    std::ofstream out(Keys(), std::ios::trunc);
    out << "# who may connect\n";
    for (const std::string& l : lines) out << l << "\n";
  }

  // SIGHUP, then wait for the node's stderr to say `line` (its n-th such
  // reload line: the earlier ones are skipped).
  bool Reload(const std::string& line) {
    const size_t before = Count(node_->Stderr(), line);
    if (kill(node_->pid(), SIGHUP) != 0) return false;
    const bool said = WaitFor([&] { return Count(node_->Stderr(), line) > before; });
    EXPECT_TRUE(said) << "no \"" << line << "\" on stderr:\n" << node_->Stderr();
    return said;
  }
  static size_t Count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  // `polis call counter JSON` with `who`'s key.
  ProcessResult Call(const std::string& who, const std::string& json) {
    return Polis({"call", "--seed=" + node_->endpoint(), "--timeout=3s",
                  "--key=" + dir_->File(who + ".key"), "--server-key=" + dir_->File("n1.pub"),
                  "counter", json});
  }

  std::unique_ptr<ScratchDir> dir_;
  std::unique_ptr<NodeProcess> node_;
};

TEST_F(KeyReloadE2eTest, AnAddedKeyGetsInAndARemovedOneIsRefusedEvenOnItsOpenConnection) {
  ProcessResult r = Call("newcomer", R"({"add": 100})");
  EXPECT_NE(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.err, HasSubstr("not authorized")) << r.Summary();

  WriteKeys({"node " + Pub("n1") + " n1", "client " + Pub("client") + " the app",
             "client " + Pub("newcomer") + " names=counter the newcomer"});
  ASSERT_TRUE(Reload("node n1: authorized keys reloaded: 3 keys (+1 -0)"));
  r = Call("newcomer", R"({"add": 1})");
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"1\"}\n") << r.Summary();

  // A connection that stays open across the next reload.
  LongLivedCaller held(dir_->File("newcomer.key"), Pub("n1"), node_->endpoint());
  std::optional<wire::Envelope> reply = held.Add(1);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status_code(), 0) << reply->status_message();

  WriteKeys({"node " + Pub("n1") + " n1", "client " + Pub("client") + " the app"});
  ASSERT_TRUE(Reload("node n1: authorized keys reloaded: 2 keys (+0 -1)"));
  reply = held.Add(1000);  // same connection, opened while the key was good
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status_code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(reply->status_message(), HasSubstr("no longer in the node's authorized keys"));
  r = Call("newcomer", R"({"add": 1000})");  // a new connection
  EXPECT_NE(r.exit_code, 0) << r.Summary();
  EXPECT_THAT(r.err, HasSubstr("not authorized")) << r.Summary();
  // Nothing the removed key sent after its removal was applied.
  r = Call("client", R"({"get": {}})");
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"2\"}\n") << r.Summary();
  EXPECT_THAT(node_->Stop(), IsOk());
}

TEST_F(KeyReloadE2eTest, AFileThatDoesNotParseKeepsTheKeysInUse) {
  std::ofstream(Keys(), std::ios::trunc) << "client " << Pub("client") << "\n"
                                         << "clinet " << Pub("newcomer") << "\n";
  ASSERT_TRUE(Reload(absl::StrCat("node n1: error: authorized keys not reloaded (keeping the 2 in "
                                  "use): ",
                                  Keys(), ":2: ")));
  ProcessResult r = Call("client", R"({"add": 3})");
  ASSERT_EQ(r.exit_code, 0) << r.Summary();
  EXPECT_EQ(r.out, "{\"value\":\"3\"}\n") << r.Summary();
  r = Call("newcomer", R"({"add": 1})");
  EXPECT_NE(r.exit_code, 0) << r.Summary();
  // A file that is gone keeps them too.
  ASSERT_EQ(std::remove(Keys().c_str()), 0);
  ASSERT_TRUE(Reload("node n1: error: authorized keys not reloaded (keeping the 2 in use): "
                     "cannot read authorized keys"));
  r = Call("client", R"({"get": {}})");
  EXPECT_EQ(r.out, "{\"value\":\"3\"}\n") << r.Summary();
  EXPECT_THAT(node_->Stop(), IsOk());
}

}  // namespace
}  // namespace polis::testing
