// bus/zmq_curve_test.cc — ZmqTransport with CURVE: who gets in, who is
// refused (ZAP), how a refused client learns it, and the Sender of each
// envelope.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "bus/authorized_keys.h"
#include "bus/curve_keys.h"
#include "bus/curve_security.h"
#include "bus/zmq_transport.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/transport_helpers.h"

namespace polis::bus {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::MakeEnvelope;
using ::polis::testing::PollUntil;
using ::polis::testing::RecordingHandler;
using ::polis::testing::StatusIs;
using ::testing::HasSubstr;

struct SenderRecorder : RecordingHandler {
  std::vector<Sender> senders;
  std::vector<std::string> dialed;
  void OnEnvelope(const EnvelopeView& e, const ReturnPath& from, absl::Time at,
                  const Sender& s) override {
    RecordingHandler::OnEnvelope(e, from, at, s);
    senders.push_back(s);
    dialed.emplace_back(s.dialed);
  }
};

CurveKeyPair Keys() { return *GenerateCurveKeyPair(); }

std::shared_ptr<const AuthorizedKeys> Authorize(const std::string& lines) {
  return *AuthorizedKeys::Parse(lines, "test");
}

std::unique_ptr<ZmqTransport> Secure(const CurveKeyPair& own,
                                     std::shared_ptr<const AuthorizedKeys> authorized,
                                     const std::string& server_key = "") {
  ZmqTransportOptions o;
  o.connect_timeout = absl::Seconds(5);
  o.curve = std::make_shared<CurveSecurity>(own, std::move(authorized), server_key);
  return *ZmqTransport::Create(o);
}

TEST(ZmqCurveTest, AuthorizedNodeDeliversWithItsRoleAndGetsReplies) {
  const CurveKeyPair ka = Keys(), kb = Keys();
  auto a = Secure(ka, Authorize("node " + kb.public_key + " b\n"));
  auto b = Secure(kb, Authorize("node " + ka.public_key + "\n"), ka.public_key);
  auto ep = a->Listen("tcp://127.0.0.1:*");
  ASSERT_THAT(ep, IsOk());
  SenderRecorder ha, hb;
  ASSERT_THAT(b->Send(*ep, MakeEnvelope(1, "secret payload")), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return !ha.envelopes.empty(); }));
  EXPECT_EQ(ha.senders[0].role, PeerRole::kNode);
  ASSERT_NE(ha.senders[0].key, nullptr);
  EXPECT_EQ(ha.senders[0].key->public_key, kb.public_key);
  EXPECT_EQ(ha.senders[0].key->comment, "b");
  ASSERT_THAT(a->Reply(ha.envelopes[0].second, MakeEnvelope(2, "back")), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return !hb.envelopes.empty(); }));
  EXPECT_EQ(hb.senders[0].role, PeerRole::kNode);  // came back on the connection b dialed
  EXPECT_EQ(hb.dialed[0], *ep);
  EXPECT_TRUE(hb.downs.empty());
}

TEST(ZmqCurveTest, ClientKeyArrivesAsClientOnAChannel) {
  const CurveKeyPair ka = Keys(), kc = Keys();
  auto a = Secure(ka, Authorize("client " + kc.public_key + " names=counter\n"));
  auto c = Secure(kc, Authorize(""), ka.public_key);
  auto ep = a->Listen("tcp://127.0.0.1:*");
  ASSERT_THAT(ep, IsOk());
  auto ch = c->OpenChannel(*ep);
  ASSERT_THAT(ch, IsOk());
  ASSERT_THAT((*ch)->Send(MakeEnvelope(1, "call")), IsOk());
  SenderRecorder ha;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return !ha.envelopes.empty(); }));
  EXPECT_EQ(ha.senders[0].role, PeerRole::kClient);
  EXPECT_TRUE(ha.senders[0].MayReach("counter"));
  EXPECT_FALSE(ha.senders[0].MayReach("kv"));
}

// SetAuthorized while a client's channel stays open: the channel's next
// message arrives as kRevoked (no key), a new handshake with that key is
// refused, and listed again (as admin) the open channel's next message
// has its new role.
TEST(ZmqCurveTest, AReplacedTableAppliesToTheNextMessageOfAnOpenConnection) {
  const CurveKeyPair ka = Keys(), kc = Keys();
  ZmqTransportOptions o;
  o.connect_timeout = absl::Seconds(5);
  o.curve = std::make_shared<CurveSecurity>(ka, Authorize("client " + kc.public_key + "\n"));
  std::shared_ptr<CurveSecurity> sec = o.curve;
  auto a = *ZmqTransport::Create(o);
  auto c = Secure(kc, Authorize(""), ka.public_key);
  auto ep = a->Listen("tcp://127.0.0.1:*");
  ASSERT_THAT(ep, IsOk());
  auto ch = c->OpenChannel(*ep);
  ASSERT_THAT(ch, IsOk());
  SenderRecorder ha;
  ASSERT_THAT((*ch)->Send(MakeEnvelope(1, "before")), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return ha.envelopes.size() == 1; }));
  EXPECT_EQ(ha.senders[0].role, PeerRole::kClient);

  sec->SetAuthorized(Authorize(""));
  ASSERT_THAT((*ch)->Send(MakeEnvelope(2, "after")), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return ha.envelopes.size() == 2; }));
  EXPECT_EQ(ha.senders[1].role, PeerRole::kRevoked);
  EXPECT_EQ(ha.senders[1].key, nullptr);
  // A new connection with that key is refused at its handshake.
  auto again = Secure(kc, Authorize(""), ka.public_key);
  SenderRecorder hagain;
  ASSERT_THAT(again->Send(*ep, MakeEnvelope(3, "new connection")), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {again.get(), &hagain}},
                        [&] { return !hagain.downs.empty(); }));
  EXPECT_THAT(hagain.downs[0].second, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ha.envelopes.size(), 2u);

  sec->SetAuthorized(Authorize("admin " + kc.public_key + " back\n"));
  ASSERT_THAT((*ch)->Send(MakeEnvelope(4, "readmitted")), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] { return ha.envelopes.size() == 3; }));
  EXPECT_EQ(ha.senders[2].role, PeerRole::kAdmin);
  ASSERT_NE(ha.senders[2].key, nullptr);
  EXPECT_EQ(ha.senders[2].key->comment, "back");
}

TEST(ZmqCurveTest, UnknownKeyDeliversNothingAndLearnsItIsNotAuthorized) {
  const CurveKeyPair ka = Keys(), stranger = Keys();
  auto a = Secure(ka, Authorize(""));
  auto s = Secure(stranger, Authorize(""), ka.public_key);
  auto ep = a->Listen("tcp://127.0.0.1:*");
  ASSERT_THAT(ep, IsOk());
  SenderRecorder ha, hs;
  ASSERT_THAT(s->Send(*ep, MakeEnvelope(1, "let me in")), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {s.get(), &hs}}, [&] { return !hs.downs.empty(); }));
  EXPECT_THAT(hs.downs[0].second, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(hs.downs[0].second.message()),
              HasSubstr("refused: this key is not authorized there"));
  // A channel learns it too, from Recv.
  auto ch = s->OpenChannel(*ep);
  ASSERT_THAT(ch, IsOk());
  ASSERT_THAT((*ch)->Send(MakeEnvelope(2, "call")), IsOk());
  absl::Status recv;
  ASSERT_TRUE(PollUntil({{a.get(), &ha}}, [&] {
    auto r = (*ch)->Recv(absl::Now() + absl::Milliseconds(5));
    recv = r.status();
    return !r.ok();
  }));
  EXPECT_THAT(recv, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(ha.envelopes.empty());
}

TEST(ZmqCurveTest, WrongServerKeyFailsFast) {
  const CurveKeyPair ka = Keys(), kb = Keys(), impostor = Keys();
  auto a = Secure(ka, Authorize("node " + kb.public_key + "\n"));
  auto b = Secure(kb, Authorize(""));
  auto ep = a->Listen("tcp://127.0.0.1:*");
  ASSERT_THAT(ep, IsOk());
  ASSERT_THAT(b->SetPeerKey(*ep, impostor.public_key), IsOk());
  SenderRecorder ha, hb;
  const absl::Time start = absl::Now();
  ASSERT_THAT(b->Send(*ep, MakeEnvelope(1)), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {b.get(), &hb}}, [&] { return !hb.downs.empty(); }));
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));  // not the connect timeout (5 s)
  EXPECT_THAT(hb.downs[0].second, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(hb.downs[0].second.message()), HasSubstr("wrong server key"));
  EXPECT_TRUE(ha.envelopes.empty());
}

// A peer that dies in the middle of the CURVE handshake closes the
// connection just as a server that cannot read our hello does. Here a raw
// TCP listener takes the connection, reads the client's first bytes and
// closes both sockets, as a killed process would: the client must report
// the peer gone (UNAVAILABLE), not a key problem.
TEST(ZmqCurveTest, APeerThatDiesMidHandshakeIsUnavailableNotAKeyError) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string ep = "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  std::thread dying_peer([listener] {
    const int conn = ::accept(listener, nullptr, nullptr);
    if (conn >= 0) {
      char greeting[64];
      (void)::recv(conn, greeting, sizeof(greeting), 0);  // the handshake has begun
      ::close(conn);
    }
    ::close(listener);  // nothing listens any more: reconnections are refused
  });
  auto b = Secure(Keys(), Authorize(""));
  ASSERT_THAT(b->SetPeerKey(ep, Keys().public_key), IsOk());
  SenderRecorder hb;
  ASSERT_THAT(b->Send(ep, MakeEnvelope(1)), IsOk());
  const bool down = PollUntil({{b.get(), &hb}}, [&] { return !hb.downs.empty(); });
  dying_peer.join();
  ASSERT_TRUE(down);
  EXPECT_THAT(hb.downs[0].second, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(hb.downs[0].second.message()), HasSubstr("during the handshake"));
}

TEST(ZmqCurveTest, NoServerKeyKnownIsRefusedBeforeConnecting) {
  auto b = Secure(Keys(), Authorize(""));
  EXPECT_THAT(b->Send("tcp://127.0.0.1:9", MakeEnvelope(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(b->SetPeerKey("tcp://127.0.0.1:9", "nope"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ZmqCurveTest, PlainClientCannotTalkToACurveServer) {
  const CurveKeyPair ka = Keys();
  auto a = Secure(ka, Authorize(""));
  auto p = *ZmqTransport::Create({});
  auto ep = a->Listen("tcp://127.0.0.1:*");
  ASSERT_THAT(ep, IsOk());
  SenderRecorder ha, hp;
  ASSERT_THAT(p->Send(*ep, MakeEnvelope(1)), IsOk());
  ASSERT_TRUE(PollUntil({{a.get(), &ha}, {p.get(), &hp}}, [&] { return !hp.downs.empty(); }));
  EXPECT_TRUE(ha.envelopes.empty());
}

}  // namespace
}  // namespace polis::bus
