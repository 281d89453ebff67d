// node/internal/membership_gate_test.cc — who may send membership messages.
#include "node/internal/membership_gate.h"

#include <memory>

#include "bus/authorized_keys.h"
#include "bus/curve_security.h"
#include "gtest/gtest.h"
#include "node/internal/directory.h"
#include "polis/envelope.pb.h"
#include "tests/status_matchers.h"

namespace polis::internal {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::StatusIs;

struct Built {
  std::string type, payload;
  bus::EnvelopeView View() const {
    bus::EnvelopeView v;
    v.kind = wire::KIND_SYSTEM;
    v.type = type;
    v.payload = payload;
    return v;
  }
};

Built HelloEnv(bool client, const std::string& endpoint = "tcp://127.0.0.1:7000") {
  wire::Hello h;
  h.set_node("n");
  h.set_client(client);
  h.set_endpoint(endpoint);
  return {wire::Hello::descriptor()->full_name(), h.SerializeAsString()};
}

Built GoodbyeEnv() {
  wire::Goodbye g;
  g.set_node("n");
  return {wire::Goodbye::descriptor()->full_name(), g.SerializeAsString()};
}

TEST(MembershipGateTest, ClientKeyMaySubscribeButNeverActAsANode) {
  bus::AuthorizedKey key{bus::PeerRole::kClient, std::string(40, 'a'), {}, "", 3};
  bus::Sender client{bus::PeerRole::kClient, &key, ""};
  std::pair<std::string, std::string> pin;
  EXPECT_THAT(CheckMembershipSender(HelloEnv(true).View(), client, &pin), IsOk());
  EXPECT_THAT(CheckMembershipSender(HelloEnv(false).View(), client, &pin),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckMembershipSender(GoodbyeEnv().View(), client, &pin),
              StatusIs(absl::StatusCode::kPermissionDenied));
  key.role = bus::PeerRole::kAdmin;
  bus::Sender admin{bus::PeerRole::kAdmin, &key, ""};
  EXPECT_THAT(CheckMembershipSender(GoodbyeEnv().View(), admin, &pin),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(pin.first.empty());
}

TEST(MembershipGateTest, NodeHelloPinsTheKeyItsConnectionProved) {
  bus::AuthorizedKey key{bus::PeerRole::kNode, std::string(40, 'k'), {}, "", 1};
  bus::Sender node{bus::PeerRole::kNode, &key, ""};
  std::pair<std::string, std::string> pin;
  EXPECT_THAT(CheckMembershipSender(HelloEnv(false, "tcp://10.0.0.2:7").View(), node, &pin),
              IsOk());
  EXPECT_EQ(pin.first, "tcp://10.0.0.2:7");
  EXPECT_EQ(pin.second, key.public_key);
  EXPECT_THAT(CheckMembershipSender(GoodbyeEnv().View(), node, &pin), IsOk());
}

TEST(MembershipGateTest, ANodeSpeaksOnlyForItsOwnKeyAndListsItsMembersKeys) {
  bus::AuthorizedKey key{bus::PeerRole::kNode, std::string(40, 'k'), {}, "", 1};
  bus::Sender node{bus::PeerRole::kNode, &key, ""};
  wire::Hello h;
  h.set_node("n");
  h.set_endpoint("tcp://10.0.0.2:7");
  h.mutable_self()->set_public_key(std::string(40, 'x'));  // not the key it proved
  Built forged{wire::Hello::descriptor()->full_name(), h.SerializeAsString()};
  std::pair<std::string, std::string> pin;
  std::vector<std::pair<std::string, std::string>> hearsay;
  EXPECT_THAT(CheckMembershipSender(forged.View(), node, &pin, &hearsay),
              StatusIs(absl::StatusCode::kPermissionDenied));
  h.mutable_self()->set_public_key(key.public_key);
  wire::NodeEntry* m = h.add_members();
  m->set_endpoint("tcp://10.0.0.3:7");
  m->set_public_key(std::string(40, 'm'));
  h.add_members()->set_endpoint("tcp://10.0.0.4:7");  // no key: nothing to pin
  Built good{wire::Hello::descriptor()->full_name(), h.SerializeAsString()};
  EXPECT_THAT(CheckMembershipSender(good.View(), node, &pin, &hearsay), IsOk());
  EXPECT_EQ(pin.second, key.public_key);
  ASSERT_EQ(hearsay.size(), 1u);
  EXPECT_EQ(hearsay[0].first, "tcp://10.0.0.3:7");
  EXPECT_EQ(hearsay[0].second, std::string(40, 'm'));
}

TEST(MembershipGateTest, AnonymousIsUnchanged) {
  std::pair<std::string, std::string> pin;
  EXPECT_THAT(CheckMembershipSender(GoodbyeEnv().View(), bus::Sender{}, &pin), IsOk());
  EXPECT_THAT(CheckMembershipSender(HelloEnv(false).View(), bus::Sender{}, &pin), IsOk());
  EXPECT_TRUE(pin.first.empty());
}

// --- A node speaks only for itself (issue 15) ---

constexpr uint64_t kIncarnation = 7;

// Member `node` at `endpoint` with one name, its key bound as `key`.
void AddMember(Directory& d, const std::string& node, const std::string& endpoint,
               const std::string& key) {
  wire::NodeEntry e;
  e.set_node(node);
  e.set_endpoint(endpoint);
  e.set_incarnation(kIncarnation);
  e.set_names_version(2);
  wire::NameEntry* n = e.add_names();
  n->set_name(node + "-name");
  n->set_pid(1);
  d.Upsert(e, key);
}

Built NodeHello(const std::string& node, uint64_t incarnation, const std::string& endpoint) {
  wire::Hello h;
  h.set_node(node);
  h.set_incarnation(incarnation);
  h.set_endpoint(endpoint);
  h.mutable_self()->set_node(node);
  h.mutable_self()->set_incarnation(incarnation);
  h.mutable_self()->set_endpoint(endpoint);
  return {wire::Hello::descriptor()->full_name(), h.SerializeAsString()};
}

Built Goodbye(const std::string& node) {
  wire::Goodbye g;
  g.set_node(node);
  g.set_incarnation(kIncarnation);
  return {wire::Goodbye::descriptor()->full_name(), g.SerializeAsString()};
}

Built NamesRemoved(const std::string& node) {
  wire::NamesChanged nc;
  nc.set_node(node);
  nc.set_incarnation(kIncarnation);
  nc.set_names_version(3);
  nc.add_removed(node + "-name");
  return {wire::NamesChanged::descriptor()->full_name(), nc.SerializeAsString()};
}

Built MembersFrom(const std::string& node) {
  wire::Members m;
  m.set_node(node);
  m.set_incarnation(kIncarnation);
  return {wire::Members::descriptor()->full_name(), m.SerializeAsString()};
}

class SpeaksForItselfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddMember(dir_, "x", "tcp://10.0.0.1:7", kx_.public_key);
    AddMember(dir_, "y", "tcp://10.0.0.2:7", ky_.public_key);
  }
  // What the gate says of `b` from the node holding `key`.
  absl::Status From(const bus::AuthorizedKey& key, const Built& b) {
    const bus::Sender s{bus::PeerRole::kNode, &key, ""};
    return CheckSpeaksForItself(b.View(), s, ProvedKey(s, nullptr), dir_);
  }

  bus::AuthorizedKey kx_{bus::PeerRole::kNode, std::string(40, 'x'), {}, "", 1};
  bus::AuthorizedKey ky_{bus::PeerRole::kNode, std::string(40, 'y'), {}, "", 2};
  bus::AuthorizedKey kz_{bus::PeerRole::kNode, std::string(40, 'z'), {}, "", 3};
  Directory dir_;
};

TEST_F(SpeaksForItselfTest, ForgedMessagesAboutAnotherMemberAreRefusedAndItKeepsItsNames) {
  for (const Built& forged : {Goodbye("x"), NamesRemoved("x"), MembersFrom("x"),
                              NodeHello("x", kIncarnation, "tcp://10.0.0.1:7"),
                              NodeHello("x", kIncarnation + 1, "tcp://10.0.0.9:7")}) {
    EXPECT_THAT(From(ky_, forged), StatusIs(absl::StatusCode::kPermissionDenied)) << forged.type;
  }
  // The gate changes nothing, and what it refuses never reaches membership:
  // x is still there with its name.
  EXPECT_EQ(dir_.Resolve("x-name")->node, "x");
  // x's own messages are accepted.
  for (const Built& own : {Goodbye("x"), NamesRemoved("x"), MembersFrom("x"),
                           NodeHello("x", kIncarnation, "tcp://10.0.0.1:7")}) {
    EXPECT_THAT(From(kx_, own), IsOk()) << own.type;
  }
}

TEST_F(SpeaksForItselfTest, AFirstHelloBindsARestartKeepsItsKeyAnotherKeyWaitsForTheOldToGo) {
  // A node not yet a member: any node key may introduce it (its Hello binds).
  EXPECT_THAT(From(kz_, NodeHello("w", 1, "tcp://10.0.0.4:7")), IsOk());
  // x restarted (new incarnation), same key: fine.
  EXPECT_THAT(From(kx_, NodeHello("x", kIncarnation + 1, "tcp://10.0.0.1:7")), IsOk());
  // The name x under another key while x is up: refused...
  EXPECT_THAT(From(kz_, NodeHello("x", kIncarnation + 1, "tcp://10.0.0.1:7")),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // ...and accepted once x is down (it binds the new key).
  ASSERT_TRUE(dir_.Remove("x"));
  EXPECT_THAT(From(kz_, NodeHello("x", kIncarnation + 1, "tcp://10.0.0.1:7")), IsOk());
}

TEST_F(SpeaksForItselfTest, AHelloClaimingAnotherMembersEndpointIsRefused) {
  // y says it listens where x does (it would re-pin x's endpoint to its key).
  EXPECT_THAT(From(ky_, NodeHello("y", kIncarnation, "tcp://10.0.0.1:7")),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(From(kz_, NodeHello("z", 1, "tcp://10.0.0.1:7")),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // A node with x's key (x renamed) may.
  EXPECT_THAT(From(kx_, NodeHello("x2", 1, "tcp://10.0.0.1:7")), IsOk());
}

TEST_F(SpeaksForItselfTest, ClientHellosAndAnonymousSendersAreNotBound) {
  bus::AuthorizedKey client{bus::PeerRole::kClient, std::string(40, 'c'), {}, "", 4};
  wire::Hello h;
  h.set_node("x");  // a client calling itself x: answered, never a member
  h.set_client(true);
  const Built hello{wire::Hello::descriptor()->full_name(), h.SerializeAsString()};
  EXPECT_THAT(From(client, hello), IsOk());
  // No CURVE: nothing is authenticated, so nothing is bound (WORKSPACE.md,
  // Trust rules).
  EXPECT_THAT(CheckSpeaksForItself(Goodbye("x").View(), bus::Sender{}, "", dir_), IsOk());
}

TEST_F(SpeaksForItselfTest, OnAConnectionThisNodeDialedThePinnedServerKeyIsTheProof) {
  absl::StatusOr<std::shared_ptr<const bus::AuthorizedKeys>> auth =
      bus::AuthorizedKeys::Parse("", "test");
  ASSERT_THAT(auth, IsOk());
  bus::CurveSecurity curve({std::string(40, 'o'), std::string(40, 's')}, *auth);
  ASSERT_THAT(curve.SetServerKey("tcp://10.0.0.1:7", kx_.public_key), IsOk());
  const bus::Sender from_x{bus::PeerRole::kNode, nullptr, "tcp://10.0.0.1:7"};
  const bus::Sender from_y{bus::PeerRole::kNode, nullptr, "tcp://10.0.0.2:7"};
  ASSERT_THAT(curve.SetServerKey("tcp://10.0.0.2:7", ky_.public_key), IsOk());
  EXPECT_EQ(ProvedKey(from_x, &curve), kx_.public_key);
  EXPECT_THAT(CheckSpeaksForItself(Goodbye("x").View(), from_x, ProvedKey(from_x, &curve), dir_),
              IsOk());
  EXPECT_THAT(CheckSpeaksForItself(Goodbye("x").View(), from_y, ProvedKey(from_y, &curve), dir_),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Nothing pinned and no default: no proof at all.
  const bus::Sender unknown{bus::PeerRole::kNode, nullptr, "tcp://10.0.0.3:7"};
  EXPECT_EQ(ProvedKey(unknown, &curve), "");
  EXPECT_THAT(CheckSpeaksForItself(Goodbye("x").View(), unknown, "", dir_),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace polis::internal
