// The principals file: parsing, patterns, permissions, hashing, the
// authenticator (secrets, certificates, throttling) and the failure throttle.
#include <sys/stat.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/password_hash.h"
#include "broker/auth/authenticator.h"
#include "broker/auth/failure_throttle.h"
#include "broker/auth/principals.h"
#include "gtest/gtest.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace txmsg::broker::auth {
namespace {

std::string Hash(const std::string& secret) { return *base::HashSecret(secret, 1'000); }

TEST(PasswordHashTest, VerifiesOnlyTheSecretAndSaltsEachHash) {
  const std::string a = Hash("open sesame");
  const std::string b = Hash("open sesame");
  EXPECT_NE(a, b) << "two hashes of one secret must differ by their salt";
  EXPECT_TRUE(absl::StartsWith(a, "pbkdf2-sha256$1000$"));
  EXPECT_FALSE(absl::StrContains(a, "open sesame"));
  ASSERT_OK_AND_ASSIGN(bool ok, base::VerifySecret("open sesame", a));
  EXPECT_TRUE(ok);
  ASSERT_OK_AND_ASSIGN(bool wrong, base::VerifySecret("open sesamE", a));
  EXPECT_FALSE(wrong);
  EXPECT_FALSE(base::VerifySecret("x", "md5$1$abc$def").ok());
  EXPECT_FALSE(base::VerifySecret("x", "pbkdf2-sha256$10$AAAAAAAAAAA=$AAAA").ok());
  EXPECT_EQ(base::HashAlgorithm(a), "pbkdf2-sha256");
}

TEST(PasswordHashTest, DefaultIsSlow) {
  const std::string h = *base::HashSecret("x");
  EXPECT_TRUE(absl::StartsWith(h, "pbkdf2-sha256$600000$")) << h;
}

TEST(PatternTest, StarMatchesAnyRun) {
  EXPECT_TRUE(MatchPattern("*", ""));
  EXPECT_TRUE(MatchPattern("*", "anything.at.all"));
  EXPECT_TRUE(MatchPattern("orders.*", "orders.eu"));
  EXPECT_TRUE(MatchPattern("orders.*", "orders."));
  EXPECT_FALSE(MatchPattern("orders.*", "orders"));
  EXPECT_FALSE(MatchPattern("orders.*", "xorders.eu"));
  EXPECT_TRUE(MatchPattern("*_group", "tx_order_group"));
  EXPECT_TRUE(MatchPattern("tx_*_group", "tx_order_group"));
  EXPECT_FALSE(MatchPattern("tx_*_group", "tx_order_groups"));
  EXPECT_TRUE(MatchPattern("a*b*c", "aXXbYYbZc"));
  EXPECT_TRUE(MatchPattern("exact", "exact"));
  EXPECT_FALSE(MatchPattern("exact", "exact2"));
}

TEST(PrincipalSetTest, ParsesRolesPatternsAndDeniesByDefault) {
  const std::string text =
      absl::StrCat("# a comment\n\n", "orders ", Hash("a"),
                   " produce:groups=tx_order_group:topics=topic_txmsg "
                   "consume:groups=tx_order_rollback_group:topics=topic_tx_rollback_msg\n",
                   "ops ", Hash("b"), " admin\n", "viewer ", Hash("c"), " admin_read\n",
                   "eu-svc cert produce:groups=orders.*\n");
  ASSERT_OK_AND_ASSIGN(PrincipalSet set, PrincipalSet::Parse(text));
  ASSERT_EQ(set.principals().size(), 4u);
  const Principal& orders = *set.Find("orders");
  const std::string g = "tx_order_group", t = "topic_txmsg", other = "other";
  EXPECT_TRUE(orders.Allows(Role::kProduce, &g, &t));
  EXPECT_FALSE(orders.Allows(Role::kProduce, &g, &other));
  EXPECT_FALSE(orders.Allows(Role::kProduce, &other, &t));
  EXPECT_FALSE(orders.Allows(Role::kConsume, &g, &t));
  EXPECT_FALSE(orders.MayAdmin());
  EXPECT_FALSE(orders.MayAdminRead());
  EXPECT_TRUE(set.Find("ops")->MayAdmin());
  EXPECT_TRUE(set.Find("ops")->MayAdminRead());
  EXPECT_FALSE(set.Find("viewer")->MayAdmin());
  EXPECT_TRUE(set.Find("viewer")->MayAdminRead());
  const Principal& eu = *set.Find("eu-svc");
  EXPECT_TRUE(eu.by_certificate());
  const std::string eu_group = "orders.eu";
  EXPECT_TRUE(eu.Allows(Role::kProduce, &eu_group, &t)) << "an omitted topic list means *";
  EXPECT_EQ(set.Find("nobody"), nullptr);
  // Written and read back, it is the same.
  ASSERT_OK_AND_ASSIGN(PrincipalSet again, PrincipalSet::Parse(set.Serialize()));
  EXPECT_EQ(again.Serialize(), set.Serialize());
}

TEST(PrincipalSetTest, BadLinesNameTheLineAndNeverEchoTheCredential) {
  const std::string secretish = "pbkdf2-sha256$1000$c2VjcmV0c2FsdA==$notbase64!!";
  for (const std::string& text :
       {absl::StrCat("ok ", Hash("a"), " admin\nbad ", secretish, " admin\n"),
        absl::StrCat("ok ", Hash("a"), " admin\nbad ", Hash("b"), " superuser\n"),
        absl::StrCat("ok ", Hash("a"), " admin\nbad ", Hash("b"), "\n"),
        absl::StrCat("ok ", Hash("a"), " admin\nb@d! ", Hash("b"), " admin\n"),
        absl::StrCat("ok ", Hash("a"), " admin\nok ", Hash("b"), " admin\n"),
        absl::StrCat("ok ", Hash("a"), " admin\nbad ", Hash("b"), " produce:groups=\n")}) {
    absl::StatusOr<PrincipalSet> set = PrincipalSet::Parse(text);
    ASSERT_FALSE(set.ok()) << text;
    EXPECT_TRUE(absl::StartsWith(set.status().message(), "line 2: ")) << set.status();
    EXPECT_FALSE(absl::StrContains(set.status().message(), "notbase64")) << set.status();
  }
}

TEST(PrincipalSetTest, FileIsWrittenWithMode0600) {
  txmsg::testing::TempDir dir;
  const std::string path = dir.path() + "/principals";
  PrincipalSet set;
  ASSERT_OK(set.Put(Principal{"ops", Hash("x"), {Grant{Role::kAdmin, {"*"}, {"*"}}}}));
  ASSERT_OK(SavePrincipalsFile(path, set));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_OK_AND_ASSIGN(PrincipalSet loaded, LoadPrincipalsFile(path));
  EXPECT_NE(loaded.Find("ops"), nullptr);
  EXPECT_TRUE(absl::IsNotFound(LoadPrincipalsFile(dir.path() + "/missing").status()));
}

PrincipalSet TwoUsers() {
  PrincipalSet set;
  EXPECT_OK(set.Put(Principal{"alice", Hash("alice-secret"), {Grant{Role::kAdmin, {"*"}, {"*"}}}}));
  EXPECT_OK(set.Put(Principal{"svc", Principal::kCert, {Grant{Role::kProduce, {"*"}, {"*"}}}}));
  return set;
}

TEST(AuthenticatorTest, AcceptsTheSecretOnlyAndTheSameWordsForEveryRefusal) {
  Authenticator auth(TwoUsers());
  ASSERT_OK_AND_ASSIGN(std::string who, auth.Authenticate("alice", "alice-secret", "", "h1", 0));
  EXPECT_EQ(who, "alice");
  // Again, from the memory of verified secrets.
  EXPECT_OK(auth.Authenticate("alice", "alice-secret", "", "h1", 0).status());
  const absl::Status wrong = auth.Authenticate("alice", "guess", "", "h1", 0).status();
  const absl::Status unknown = auth.Authenticate("alicf", "alice-secret", "", "h2", 0).status();
  EXPECT_TRUE(absl::IsUnauthenticated(wrong));
  EXPECT_TRUE(absl::IsUnauthenticated(unknown));
  EXPECT_EQ(std::string(wrong.message()).replace(wrong.message().find("alice"), 5, "X"),
            std::string(unknown.message()).replace(unknown.message().find("alicf"), 5, "X"));
  EXPECT_FALSE(absl::StrContains(unknown.message(), "alice-secret"));
  EXPECT_FALSE(absl::StrContains(wrong.message(), "guess"));
  EXPECT_EQ(auth.failures(), 2u);
}

TEST(AuthenticatorTest, CertificatePrincipalNeedsTheVerifiedPeerName) {
  Authenticator auth(TwoUsers());
  // By the name the TLS layer verified, with or without naming the user.
  EXPECT_EQ(*auth.Authenticate("", "", "svc", "h", 0), "svc");
  EXPECT_EQ(*auth.Authenticate("svc", "", "svc", "h", 0), "svc");
  // Never by a secret, nor by a certificate of another name.
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Authenticate("svc", "anything", "", "h", 0).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Authenticate("svc", "", "alice", "h", 0).status()));
  // A password principal still needs its secret when a certificate is shown.
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Authenticate("", "", "alice", "h", 0).status()));
  EXPECT_EQ(*auth.Authenticate("alice", "alice-secret", "alice", "h", 0), "alice");
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Authenticate("", "", "", "h", 0).status()));
}

TEST(AuthenticatorTest, FailuresAreThrottledPerSource) {
  Authenticator auth(TwoUsers(), FailureThrottle::Options{3, 1'000, 100});
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(auth.Authenticate("alice", "no", "", "bad", 0).ok());
  // Even the right secret waits now, from that address only.
  const absl::Status held = auth.Authenticate("alice", "alice-secret", "", "bad", 10).status();
  EXPECT_TRUE(absl::IsUnauthenticated(held));
  EXPECT_TRUE(absl::StrContains(held.message(), "too many failed")) << held;
  EXPECT_OK(auth.Authenticate("alice", "alice-secret", "", "good", 10).status());
  EXPECT_OK(auth.Authenticate("alice", "alice-secret", "", "bad", 1'000).status());
  EXPECT_EQ(auth.failures(), 4u);
}

// Many source addresses cannot keep the broker hashing: past a broker-wide
// budget of failed slow checks, checks that would need one are refused at
// once, while secrets already verified still get in.
TEST(AuthenticatorTest, FailedSlowChecksHaveABrokerWideBudget) {
  Authenticator auth(TwoUsers());
  EXPECT_OK(auth.Authenticate("alice", "alice-secret", "", "h0", 0).status());
  int refused_at_once = 0;
  for (int i = 0; i < 30; ++i) {
    const absl::Status s =
        auth.Authenticate(i % 2 ? "alice" : "nobody", "guess", "", absl::StrCat("10.0.0.", i), 0)
            .status();
    EXPECT_TRUE(absl::IsUnauthenticated(s));
    if (absl::StrContains(s.message(), "on this broker")) ++refused_at_once;
  }
  EXPECT_EQ(refused_at_once, 20);  // the first 10 were checked, the rest refused unhashed
  EXPECT_OK(auth.Authenticate("alice", "alice-secret", "", "10.0.0.99", 0).status());
  // The budget refills: a second later one more check is made.
  const absl::Status later = auth.Authenticate("alice", "guess", "", "10.0.1.1", 1'000).status();
  EXPECT_FALSE(absl::StrContains(later.message(), "on this broker")) << later;
}

TEST(FailureThrottleTest, RefillsAndStaysBounded) {
  FailureThrottle t(FailureThrottle::Options{2, 500, 3});
  t.Failed("a", 0);
  EXPECT_EQ(t.WaitMs("a", 0), 0u);
  t.Failed("a", 0);
  EXPECT_EQ(t.WaitMs("a", 0), 500u);
  EXPECT_EQ(t.WaitMs("a", 250), 250u);
  EXPECT_EQ(t.WaitMs("a", 500), 0u);
  for (int i = 0; i < 10; ++i) t.Failed(absl::StrCat("source-", i), 600);
  EXPECT_LE(t.sources(), 3u);
}

TEST(AuthenticatorTest, ReloadKeepsThePreviousPrincipalsOnABadFile) {
  txmsg::testing::TempDir dir;
  const std::string path = dir.path() + "/principals";
  ASSERT_OK(SavePrincipalsFile(path, TwoUsers()));
  ASSERT_OK_AND_ASSIGN(auto auth, Authenticator::FromFile(path));
  ASSERT_NE(auth->Find("alice"), nullptr);
  FILE* f = std::fopen(path.c_str(), "a");
  std::fputs("broken line\n", f);
  std::fclose(f);
  EXPECT_FALSE(auth->Reload().ok());
  EXPECT_NE(auth->Find("alice"), nullptr);
  PrincipalSet one = TwoUsers();
  one.Remove("alice");
  ASSERT_OK(SavePrincipalsFile(path, one));
  ASSERT_OK(auth->Reload());
  EXPECT_EQ(auth->Find("alice"), nullptr);
}

}  // namespace
}  // namespace txmsg::broker::auth
