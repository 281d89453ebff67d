// bus/curve_security_test.cc — replacing a CurveSecurity's authorized table
// while it is read (SetAuthorized, ReloadAuthorizedKeys, AuthorizedSnapshot).
#include "bus/curve_security.h"

#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
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

std::string Key() { return GenerateCurveKeyPair()->public_key; }

std::shared_ptr<const AuthorizedKeys> Table(const std::string& text) {
  absl::StatusOr<std::shared_ptr<const AuthorizedKeys>> t = AuthorizedKeys::Parse(text, "test");
  EXPECT_THAT(t, IsOk());
  return *t;
}

TEST(CurveSecurityTest, SetAuthorizedReplacesTheTableAndSaysWhatChanged) {
  const std::string a = Key(), b = Key(), c = Key();
  CurveSecurity sec(*GenerateCurveKeyPair(), Table("node " + a + "\nclient " + b + "\n"));
  std::shared_ptr<const AuthorizedKeys> before = sec.authorized();
  const uint64_t version = sec.authorized_version();

  // b becomes an admin (neither added nor removed), a goes, c comes.
  AuthorizedKeysChange change = sec.SetAuthorized(Table("admin " + b + "\nclient " + c + "\n"));
  EXPECT_EQ(change.keys, 2u);
  EXPECT_EQ(change.added, 1u);
  EXPECT_EQ(change.removed, 1u);
  EXPECT_NE(sec.authorized_version(), version);
  EXPECT_EQ(sec.authorized()->FindZ85(a), nullptr);
  ASSERT_NE(sec.authorized()->FindZ85(b), nullptr);
  EXPECT_EQ(sec.authorized()->FindZ85(b)->role, PeerRole::kAdmin);
  EXPECT_NE(sec.authorized()->FindZ85(c), nullptr);
  // A snapshot taken before is unchanged and still valid.
  ASSERT_NE(before->FindZ85(a), nullptr);
  EXPECT_EQ(before->FindZ85(b)->role, PeerRole::kClient);
}

TEST(CurveSecurityTest, ASnapshotKeepsItsTableUntilTheNextCurrentAfterASwap) {
  const std::string a = Key(), b = Key();
  CurveSecurity sec(*GenerateCurveKeyPair(), Table("client " + a + "\n"));
  AuthorizedSnapshot snapshot(sec);
  const AuthorizedKeys* first = &snapshot.Current();
  EXPECT_EQ(&snapshot.Current(), first);  // unchanged: the same table
  const AuthorizedKey* entry = first->FindZ85(a);
  ASSERT_NE(entry, nullptr);

  sec.SetAuthorized(Table("client " + b + "\n"));
  // What Current() returned before stays valid until the next call.
  EXPECT_EQ(entry->public_key, a);
  const AuthorizedKeys& second = snapshot.Current();
  EXPECT_NE(&second, first);
  EXPECT_EQ(second.FindZ85(a), nullptr);
  EXPECT_NE(second.FindZ85(b), nullptr);
}

TEST(CurveSecurityTest, ReloadOfAGoodFileReplacesTheTable) {
  auto dir = ScratchDir::Create("polis-reload");
  ASSERT_THAT(dir, IsOk());
  const std::string path = (*dir)->File("authorized_keys");
  const std::string a = Key(), b = Key();
  CurveSecurity sec(*GenerateCurveKeyPair(), Table("client " + a + "\n"));
  std::ofstream(path) << "# after\nclient " << a << "\nclient " << b << " new\n";
  absl::StatusOr<AuthorizedKeysChange> change = ReloadAuthorizedKeys(sec, path);
  ASSERT_THAT(change, IsOk());
  EXPECT_EQ(change->keys, 2u);
  EXPECT_EQ(change->added, 1u);
  EXPECT_EQ(change->removed, 0u);
  EXPECT_NE(sec.authorized()->FindZ85(b), nullptr);
}

TEST(CurveSecurityTest, ABadOrMissingFileKeepsTheTableInUse) {
  auto dir = ScratchDir::Create("polis-reload");
  ASSERT_THAT(dir, IsOk());
  const std::string path = (*dir)->File("authorized_keys");
  const std::string a = Key();
  CurveSecurity sec(*GenerateCurveKeyPair(), Table("client " + a + "\n"));
  const uint64_t version = sec.authorized_version();

  std::ofstream(path) << "client " << Key() << "\nclinet " << Key() << "\n";
  absl::StatusOr<AuthorizedKeysChange> change = ReloadAuthorizedKeys(sec, path);
  EXPECT_THAT(change, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr(path + ":2:")));
  EXPECT_THAT(ReloadAuthorizedKeys(sec, (*dir)->File("none")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(sec.authorized_version(), version);
  EXPECT_NE(sec.authorized()->FindZ85(a), nullptr);
  EXPECT_EQ(sec.authorized()->size(), 1u);
}

// Readers on two threads (as the I/O and ZAP threads) look keys up while a
// third replaces the table again and again: every table a reader gets is
// whole (it holds the key that marks it, with that key's role).
TEST(CurveSecurityTest, ReadersSeeWholeTablesWhileTheyAreReplaced) {
  constexpr int kTables = 8;
  std::vector<std::string> marks;
  std::vector<std::shared_ptr<const AuthorizedKeys>> tables;
  for (int i = 0; i < kTables; ++i) {
    marks.push_back(Key());
    tables.push_back(Table(absl::StrCat("client ", marks[i], " table ", i, "\n")));
  }
  CurveSecurity sec(*GenerateCurveKeyPair(), tables[0]);
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int64_t> reads{0};
  auto reader = [&] {
    AuthorizedSnapshot snapshot(sec);
    while (!done.load()) {
      const AuthorizedKeys& t = snapshot.Current();
      int found = 0;
      for (int i = 0; i < kTables; ++i) {
        const AuthorizedKey* k = t.FindZ85(marks[i]);
        if (k != nullptr && k->comment == absl::StrCat("table ", i)) ++found;
      }
      if (found != 1 || t.size() != 1) torn.fetch_add(1);
      reads.fetch_add(1);
    }
  };
  std::thread r1(reader), r2(reader);
  for (int n = 0; n < 2000; ++n) sec.SetAuthorized(tables[n % kTables]);
  // Let the readers see the last table too.
  const int64_t seen = reads.load();
  while (reads.load() < seen + 100) std::this_thread::yield();
  done.store(true);
  r1.join();
  r2.join();
  EXPECT_EQ(torn.load(), 0);
}

}  // namespace
}  // namespace polis::bus
