// node/internal/membership_gate_test.cc — who may send membership messages.
#include "node/internal/membership_gate.h"

#include "gtest/gtest.h"
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

}  // namespace
}  // namespace polis::internal
