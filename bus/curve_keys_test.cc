// bus/curve_keys_test.cc — key files and authorized keys files.
#include "bus/curve_keys.h"

#include <sys/stat.h>

#include <fstream>

#include "bus/authorized_keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scratch_dir.h"
#include "tests/status_matchers.h"

namespace polis::bus {
namespace {

using ::polis::testing::IsOk;
using ::polis::testing::ScratchDir;
using ::polis::testing::StatusIs;
using ::testing::HasSubstr;

void WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

TEST(CurveKeysTest, GeneratedFilesLoadBackWithMode0600) {
  ASSERT_TRUE(CurveAvailable());
  auto dir = ScratchDir::Create("polis-keys");
  ASSERT_THAT(dir, IsOk());
  auto kp = GenerateCurveKeyPair();
  ASSERT_THAT(kp, IsOk());
  const std::string base = (*dir)->File("node1");
  ASSERT_THAT(WriteCurveKeyFiles(base, *kp), IsOk());
  struct stat st;
  ASSERT_EQ(::stat((base + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = LoadCurveSecretKeyFile(base + ".key");
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->public_key, kp->public_key);
  EXPECT_EQ(loaded->secret_key, kp->secret_key);
  auto pub = LoadCurvePublicKey(base + ".pub");
  ASSERT_THAT(pub, IsOk());
  EXPECT_EQ(*pub, kp->public_key);
  EXPECT_EQ(*LoadCurvePublicKey(kp->public_key), kp->public_key);  // Z85 text itself
  EXPECT_EQ(CurveKeyBinary(kp->public_key).size(), kCurveKeyBytes);
}

TEST(CurveKeysTest, NeverOverwrites) {
  auto dir = ScratchDir::Create("polis-keys");
  ASSERT_THAT(dir, IsOk());
  auto kp = GenerateCurveKeyPair();
  ASSERT_THAT(kp, IsOk());
  ASSERT_THAT(WriteCurveKeyFiles((*dir)->File("a"), *kp), IsOk());
  EXPECT_THAT(WriteCurveKeyFiles((*dir)->File("a"), *kp),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(CurveKeysTest, SecretKeyReadableByOthersIsRefused) {
  auto dir = ScratchDir::Create("polis-keys");
  ASSERT_THAT(dir, IsOk());
  auto kp = GenerateCurveKeyPair();
  ASSERT_THAT(kp, IsOk());
  const std::string base = (*dir)->File("n");
  ASSERT_THAT(WriteCurveKeyFiles(base, *kp), IsOk());
  ASSERT_EQ(::chmod((base + ".key").c_str(), 0644), 0);
  auto loaded = LoadCurveSecretKeyFile(base + ".key");
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("is readable by group or others (mode 0644); run chmod 600"));
  ASSERT_EQ(::chmod((base + ".key").c_str(), 0640), 0);
  EXPECT_THAT(LoadCurveSecretKeyFile(base + ".key"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(CurveKeysTest, MalformedSecretKeyFileNamesTheLine) {
  auto dir = ScratchDir::Create("polis-keys");
  ASSERT_THAT(dir, IsOk());
  const std::string path = (*dir)->File("bad.key");
  WriteFile(path, "# c\nsecret-key tooshort\n", 0600);
  auto loaded = LoadCurveSecretKeyFile(path);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(path + ":2:"));
  auto a = GenerateCurveKeyPair(), b = GenerateCurveKeyPair();
  const std::string mixed = (*dir)->File("mixed.key");
  WriteFile(mixed, "public-key " + b->public_key + "\nsecret-key " + a->secret_key + "\n", 0600);
  EXPECT_THAT(LoadCurveSecretKeyFile(mixed), StatusIs(absl::StatusCode::kInvalidArgument));
  // The secret alone: the public key is derived.
  const std::string alone = (*dir)->File("alone.key");
  WriteFile(alone, "secret-key " + a->secret_key + "\n", 0600);
  auto derived = LoadCurveSecretKeyFile(alone);
  ASSERT_THAT(derived, IsOk());
  EXPECT_EQ(derived->public_key, a->public_key);
  EXPECT_THAT(LoadCurveSecretKeyFile((*dir)->File("missing.key")),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(AuthorizedKeysTest, ParsesRolesGlobsAndComments) {
  auto n = GenerateCurveKeyPair(), c = GenerateCurveKeyPair(), a = GenerateCurveKeyPair();
  const std::string text = "# cluster\n\nnode " + n->public_key + " node one\nclient " +
                           c->public_key + " names=counter*,kv bob's laptop\nadmin " +
                           a->public_key + "\n";
  auto keys = AuthorizedKeys::Parse(text, "ak");
  ASSERT_THAT(keys, IsOk());
  EXPECT_EQ((*keys)->size(), 3u);
  const AuthorizedKey* node = (*keys)->FindBinary(CurveKeyBinary(n->public_key));
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->role, PeerRole::kNode);
  EXPECT_EQ(node->comment, "node one");
  EXPECT_EQ(node->line, 3);
  const AuthorizedKey* client = (*keys)->FindZ85(c->public_key);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->role, PeerRole::kClient);
  EXPECT_EQ(client->comment, "bob's laptop");
  EXPECT_TRUE(client->MayReach("counter7"));
  EXPECT_TRUE(client->MayReach("kv"));
  EXPECT_FALSE(client->MayReach("kv2"));
  EXPECT_EQ((*keys)->FindZ85(a->public_key)->role, PeerRole::kAdmin);
  EXPECT_EQ((*keys)->FindZ85(GenerateCurveKeyPair()->public_key), nullptr);
}

TEST(AuthorizedKeysTest, EveryBadLineIsAnErrorNamingIt) {
  auto k = GenerateCurveKeyPair();
  const std::string key = k->public_key;
  for (const std::string& bad :
       std::vector<std::string>{"root " + key, "node", "node abc", "node " + key + "\nclient " + key,
        "admin " + key + " names=x", "node " + key + " names=x", "client " + key + " names=a,,b"}) {
    auto keys = AuthorizedKeys::Parse("# head\n" + bad + "\n", "/etc/ak");
    EXPECT_THAT(keys, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_THAT(std::string(keys.status().message()), HasSubstr("/etc/ak:")) << bad;
  }
  auto dup = AuthorizedKeys::Parse("node " + key + "\nclient " + key + "\n", "f");
  EXPECT_THAT(std::string(dup.status().message()), HasSubstr("f:2: key"));
  EXPECT_THAT(AuthorizedKeys::LoadFile("/nonexistent/ak"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace polis::bus
