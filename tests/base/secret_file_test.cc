// Secret files (bearer tokens) and the safe-default bind rule.
#include "base/secret_file.h"

#include <sys/stat.h>

#include <fstream>

#include "base/listen.h"
#include "gtest/gtest.h"
#include "tests/testutil/temp_dir.h"

namespace txmsg::base {
namespace {

std::string Write(const testing::TempDir& dir, const std::string& text, mode_t mode) {
  const std::string path = dir.File("secret");
  { std::ofstream(path) << text; }
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(SecretFileTest, TrailingNewlineIsNotPartOfTheSecret) {
  testing::TempDir dir;
  absl::StatusOr<std::string> s = ReadSecretFile(Write(dir, "tok en\n\n", 0600));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, "tok en");
}

TEST(SecretFileTest, WorldReadableEmptyAndMissingFilesAreRefusedWithoutTheSecret) {
  testing::TempDir dir;
  absl::StatusOr<std::string> s = ReadSecretFile(Write(dir, "hunter2", 0644));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("chmod 600"), absl::string_view::npos);
  EXPECT_EQ(s.status().message().find("hunter2"), absl::string_view::npos);
  EXPECT_FALSE(ReadSecretFile(Write(dir, " \n", 0600)).ok());
  EXPECT_FALSE(ReadSecretFile(dir.File("missing")).ok());
}

TEST(SecretFileTest, SecretEqualsComparesWholeStrings) {
  EXPECT_TRUE(SecretEquals("abc", "abc"));
  EXPECT_FALSE(SecretEquals("abc", "abd"));
  EXPECT_FALSE(SecretEquals("abc", "abcd"));
  EXPECT_FALSE(SecretEquals("", "a"));
  EXPECT_TRUE(SecretEquals("", ""));
}

TEST(UnsafeBindReasonTest, OnlyNonLoopbackListenersNeedProtection) {
  EXPECT_EQ(UnsafeBindReason("x", "127.0.0.1", {{false, "--a"}}, false), "");
  EXPECT_EQ(UnsafeBindReason("x", "::1", {{false, "--a"}}, false), "");
  EXPECT_EQ(UnsafeBindReason("x", "0.0.0.0", {{true, "--a"}}, false), "");
  EXPECT_EQ(UnsafeBindReason("x", "0.0.0.0", {{false, "--a"}}, true), "");
  const std::string r =
      UnsafeBindReason("x", "10.1.2.3", {{false, "--a"}, {true, "--b"}, {false, "--c"}}, false);
  EXPECT_NE(r.find("add --a and --c"), std::string::npos) << r;
  EXPECT_EQ(r.find("--b"), std::string::npos) << r;
  EXPECT_NE(r.find("--insecure"), std::string::npos) << r;
}

}  // namespace
}  // namespace txmsg::base
