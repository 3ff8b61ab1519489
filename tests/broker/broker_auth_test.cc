// Authentication and permissions against the real txmsg-broker, its
// principals file written by the real txmsgctl: refused clients, roles,
// reload on SIGHUP, the audit across a restart, txmsgctl's user commands and
// --user, and no secret in any log line or error.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/broker/raw_connection.h"
#include "tests/testutil/broker_process.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/subprocess.h"
#include "tests/testutil/temp_dir.h"
#include "txmsg/blocking_client.h"

namespace txmsg {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;

// Secrets no log line or error may ever show.
constexpr char kOpsSecret[] = "ops-Secret-9f1e";
constexpr char kOrdersSecret[] = "orders-Secret-77ab";
constexpr char kViewerSecret[] = "viewer-Secret-c0de";
constexpr char kWrongSecret[] = "wrong-Secret-dead";

struct CtlResult {
  int code;
  std::string out;  // stdout and stderr
};

// txmsgctl ARGS with TXMSG_SECRET=secret (if any), output and exit code.
CtlResult Ctl(const std::vector<std::string>& args, const std::string& secret = "",
              const std::string& stdin_text = "") {
  std::string cmd = TXMSGCTL_BIN;
  for (const std::string& a : args) cmd += " '" + a + "'";
  cmd = stdin_text.empty() ? cmd + " </dev/null" : "printf '%s\\n' '" + stdin_text + "' | " + cmd;
  std::vector<std::string> env;
  if (!secret.empty()) env.push_back("TXMSG_SECRET=" + secret);
  testing::Subprocess p({"/bin/sh", "-c", cmd + " 2>&1"}, env);
  CtlResult r;
  r.out = p.ReadAll(30s);
  const int status = p.Wait();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class BrokerAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    users_ = tmp_.File("principals");
    AddUser("ops", kOpsSecret, {"--role", "admin"});
    AddUser("orders", kOrdersSecret,
            {"--role", "produce", "--groups", "tx_order_group", "--topics", "topic_*"});
    // The viewer's secret comes from standard input.
    CtlResult r = Ctl({"user", "add", users_, "viewer", "--role", "admin_read"}, "", kViewerSecret);
    ASSERT_EQ(r.code, 0) << r.out;
    log_ = tmp_.File("broker.log");
    broker_ = std::make_unique<testing::BrokerProcess>(
        tmp_.File("data"), std::vector<std::string>{"--auth_file=" + users_, "--tx_timeout=1h"});
    broker_->set_wrapper("exec \"$@\" 2>>'" + log_ + "'");
    ASSERT_TRUE(broker_->Start());
  }
  void TearDown() override {
    broker_.reset();
    // No secret in any line the broker wrote.
    const std::string log = ReadFile(log_);
    for (const char* secret : {kOpsSecret, kOrdersSecret, kViewerSecret, kWrongSecret}) {
      EXPECT_FALSE(absl::StrContains(log, secret)) << "the broker logged a secret:\n" << log;
    }
  }
  void AddUser(const std::string& name, const std::string& secret, std::vector<std::string> flags) {
    std::vector<std::string> args = {"user", "add", users_, name};
    args.insert(args.end(), flags.begin(), flags.end());
    CtlResult r = Ctl(args, secret);
    ASSERT_EQ(r.code, 0) << r.out;
  }
  absl::StatusOr<std::unique_ptr<BlockingClient>> As(const std::string& user,
                                                     const std::string& secret,
                                                     wire::ClientRole role = wire::ROLE_ADMIN,
                                                     const std::string& group = "") {
    return BlockingClient::Connect(broker_->address(), role, group, 5s, {user, secret});
  }
  CtlResult CtlAs(const std::string& user, const std::string& secret,
                  std::vector<std::string> args) {
    args.insert(args.begin(), {"--broker=" + broker_->address(), "--user=" + user});
    return Ctl(args, secret);
  }
  // Stores a pending half message; its id.
  static std::string StoreHalf(BlockingClient& producer, const std::string& tx_id) {
    wire::Frame half;
    half.mutable_send_half()->set_tx_id(tx_id);
    half.mutable_send_half()->mutable_content()->set_topic("topic_txmsg");
    absl::StatusOr<wire::Frame> stored = producer.Call(half);
    EXPECT_OK(stored.status());
    return stored.ok() ? std::to_string(stored->send_half_ok().message_id()) : "0";
  }
  static void ExpectNoSecret(const std::string& text) {
    for (const char* secret : {kOpsSecret, kOrdersSecret, kViewerSecret, kWrongSecret}) {
      EXPECT_FALSE(absl::StrContains(text, secret)) << text;
    }
  }

  testing::TempDir tmp_;
  std::string users_;
  std::string log_;
  std::unique_ptr<testing::BrokerProcess> broker_;
};

TEST_F(BrokerAuthTest, UnauthenticatedAndWrongSecretClientsAreRefused) {
  auto anonymous = BlockingClient::Connect(broker_->address());
  ASSERT_FALSE(anonymous.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(anonymous.status())) << anonymous.status();
  auto wrong = As("ops", kWrongSecret);
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(wrong.status())) << wrong.status();
  ExpectNoSecret(std::string(wrong.status().message()));
  auto unknown = As("mallory", kOpsSecret);
  ASSERT_FALSE(unknown.ok());
  ExpectNoSecret(std::string(unknown.status().message()));
  ASSERT_OK_AND_ASSIGN(auto ops, As("ops", kOpsSecret));
  wire::Frame stats;
  stats.mutable_stats();
  EXPECT_OK(ops->Call(stats).status());
}

TEST_F(BrokerAuthTest, FailedHelloAndRequestsBeforeHelloCloseTheConnection) {
  wire::Frame hello;
  hello.set_correlation_id(1);
  hello.mutable_hello()->set_version(wire::PROTOCOL_VERSION_1);
  hello.mutable_hello()->set_role(wire::ROLE_ADMIN);
  hello.mutable_hello()->set_user("ops");
  hello.mutable_hello()->set_secret(kWrongSecret);
  wire::Frame stats;
  stats.set_correlation_id(2);
  stats.mutable_stats();
  {
    // A wrong Hello, and a request after it: one error, then the close.
    testing_broker::RawConnection raw(broker_->port());
    raw.Write(hello);
    raw.Write(stats);
    const std::vector<wire::Frame> got = raw.ReadUntilClosed();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].error().code(), wire::ERROR_UNAUTHENTICATED);
    ExpectNoSecret(got[0].error().message());
  }
  {
    // A request before any Hello.
    testing_broker::RawConnection raw(broker_->port());
    raw.Write(stats);
    const std::vector<wire::Frame> got = raw.ReadUntilClosed();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].error().code(), wire::ERROR_UNAUTHENTICATED);
  }
}

TEST_F(BrokerAuthTest, RolesAreHeldToTheirPermissionsAndTxmsgctlExitsOneWithTheReason) {
  ASSERT_OK_AND_ASSIGN(auto producer,
                       As("orders", kOrdersSecret, wire::ROLE_PRODUCER, "tx_order_group"));
  const std::string id = StoreHalf(*producer, "tx-1");
  // The read-only admin reads but cannot commit.
  CtlResult show = CtlAs("viewer", kViewerSecret, {"half", "show", id});
  EXPECT_EQ(show.code, 0) << show.out;
  CtlResult commit = CtlAs("viewer", kViewerSecret, {"half", "commit", id});
  EXPECT_EQ(commit.code, 1) << commit.out;
  EXPECT_TRUE(absl::StrContains(commit.out, "ResolveHalf denied for user \"viewer\""))
      << commit.out;
  // A producer cannot resolve halves through admin requests.
  CtlResult by_producer = CtlAs("orders", kOrdersSecret, {"half", "rollback", id});
  EXPECT_EQ(by_producer.code, 1) << by_producer.out;
  EXPECT_TRUE(absl::StrContains(by_producer.out, "denied")) << by_producer.out;
  // Without --user: refused, exit 1, the broker's reason.
  CtlResult anonymous = Ctl({"--broker=" + broker_->address(), "stats"});
  EXPECT_EQ(anonymous.code, 1) << anonymous.out;
  EXPECT_TRUE(absl::StrContains(anonymous.out, "requires authentication")) << anonymous.out;
  // A wrong secret: exit 1, the secret nowhere.
  CtlResult wrong = CtlAs("ops", kWrongSecret, {"stats"});
  EXPECT_EQ(wrong.code, 1) << wrong.out;
  ExpectNoSecret(wrong.out);
  // --user without TXMSG_SECRET is a usage error.
  CtlResult no_secret = Ctl({"--broker=" + broker_->address(), "--user=ops", "stats"});
  EXPECT_EQ(no_secret.code, 2) << no_secret.out;
  for (const CtlResult* r : {&show, &commit, &by_producer, &anonymous}) ExpectNoSecret(r->out);
}

TEST_F(BrokerAuthTest, OperatorCommitIsAuditedAndTheAuditSurvivesARestart) {
  ASSERT_OK_AND_ASSIGN(auto producer,
                       As("orders", kOrdersSecret, wire::ROLE_PRODUCER, "tx_order_group"));
  const std::string id = StoreHalf(*producer, "tx-2");
  CtlResult commit = CtlAs("ops", kOpsSecret, {"half", "commit", id});
  ASSERT_EQ(commit.code, 0) << commit.out;
  for (int round = 0; round < 2; ++round) {
    CtlResult show = CtlAs("viewer", kViewerSecret, {"half", "show", id});
    ASSERT_EQ(show.code, 0) << show.out;
    EXPECT_TRUE(absl::StrContains(show.out, "AUDIT       commit by ops at ")) << show.out;
    EXPECT_TRUE(absl::StrContains(show.out, "from 127.0.0.1:")) << show.out;
    producer.reset();
    ASSERT_TRUE(broker_->Restart());
  }
}

TEST_F(BrokerAuthTest, SighupReloadClosesRemovedUsersAndKeepsTheOthers) {
  ASSERT_OK_AND_ASSIGN(auto orders,
                       As("orders", kOrdersSecret, wire::ROLE_PRODUCER, "tx_order_group"));
  ASSERT_OK_AND_ASSIGN(auto viewer, As("viewer", kViewerSecret));
  wire::Frame stats;
  stats.mutable_stats();
  // The viewer gains admin (same secret: its connection stays).
  CtlResult upgrade = Ctl({"user", "add", users_, "viewer", "--role", "admin"}, kViewerSecret);
  ASSERT_EQ(upgrade.code, 0) << upgrade.out;
  CtlResult removed = Ctl({"user", "remove", users_, "orders"});
  ASSERT_EQ(removed.code, 0) << removed.out;
  broker_->Signal(SIGHUP);
  // The removed user's connection is closed by the broker.
  wire::Frame ping;
  ping.mutable_ping();
  ASSERT_TRUE(WaitFor([&] { return !orders->Call(ping).ok(); }, 10s));
  // The viewer's stays, and may now do what admin may (on the same connection).
  ASSERT_OK(viewer->Call(stats).status());
  wire::Frame replay;
  replay.mutable_replay_dlq()->set_group("nobody");
  absl::StatusOr<wire::Frame> r = viewer->Call(replay);
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();  // allowed, just no such group
  // And the removed user cannot come back.
  EXPECT_TRUE(absl::IsUnauthenticated(
      As("orders", kOrdersSecret, wire::ROLE_PRODUCER, "tx_order_group").status()));
}

TEST_F(BrokerAuthTest, UserListShowsNamesAndRolesButNoHash) {
  CtlResult list = Ctl({"user", "list", users_});
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_TRUE(absl::StrContains(list.out, "ops")) << list.out;
  EXPECT_TRUE(absl::StrContains(list.out, "produce:groups=tx_order_group:topics=topic_*"))
      << list.out;
  EXPECT_TRUE(absl::StrContains(list.out, "admin_read")) << list.out;
  EXPECT_TRUE(absl::StrContains(list.out, "pbkdf2-sha256")) << list.out;
  EXPECT_FALSE(absl::StrContains(list.out, "$")) << "a hash was printed:\n" << list.out;
  struct stat st {};
  ASSERT_EQ(::stat(users_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A role may carry its own patterns; --topics fills in the others'.
  CtlResult mixed = Ctl({"user", "add", users_, "mixed", "--role", "produce:groups=g1,g2:topics=t1",
                         "--role", "consume", "--topics", "x.*"},
                        kOrdersSecret);
  ASSERT_EQ(mixed.code, 0) << mixed.out;
  list = Ctl({"user", "list", users_});
  EXPECT_TRUE(
      absl::StrContains(list.out, "produce:groups=g1,g2:topics=t1 consume:groups=*:topics=x.*"))
      << list.out;
  // Bad input is refused with a reason, nothing written.
  CtlResult bad_role = Ctl({"user", "add", users_, "x", "--role", "root"}, "s");
  EXPECT_EQ(bad_role.code, 2) << bad_role.out;
  CtlResult missing = Ctl({"user", "remove", users_, "nobody"});
  EXPECT_EQ(missing.code, 2) << missing.out;
  ExpectNoSecret(ReadFile(users_));
}

}  // namespace
}  // namespace txmsg
