// Authentication and permissions in the broker core, in-process: every
// request before Hello, wrong secrets, each role against the operations
// outside it, check-backs only to principals that may produce, reloads, and
// the audit of operator actions across a restart.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "base/password_hash.h"
#include "broker/auth/authenticator.h"
#include "gtest/gtest.h"
#include "tests/broker/core/core_harness.h"
#include "tests/testutil/status_matchers.h"

namespace txmsg::broker::testing {
namespace {

using auth::Authenticator;
using auth::Grant;
using auth::Principal;
using auth::PrincipalSet;
using auth::Role;

constexpr char kTopic[] = "topic_txmsg";
constexpr char kOrders[] = "tx_order_group";
constexpr char kStock[] = "tx_stock_group";
constexpr char kSecret[] = "s3cret-Value-42";

Principal User(const std::string& name, std::vector<Grant> grants) {
  Principal p;
  p.name = name;
  p.credential = *base::HashSecret(kSecret, 1'000);  // cheap for tests
  p.grants = std::move(grants);
  return p;
}

Grant G(Role role, std::vector<std::string> groups = {"*"},
        std::vector<std::string> topics = {"*"}) {
  return Grant{role, std::move(groups), std::move(topics)};
}

PrincipalSet Principals() {
  PrincipalSet set;
  EXPECT_OK(set.Put(User("orders", {G(Role::kProduce, {kOrders}, {kTopic})})));
  EXPECT_OK(set.Put(User("other", {G(Role::kProduce, {"group_b"}, {"*"})})));
  EXPECT_OK(set.Put(User("stock", {G(Role::kConsume, {kStock}, {"topic_*"})})));
  EXPECT_OK(set.Put(User("ops", {G(Role::kAdmin)})));
  EXPECT_OK(set.Put(User("viewer", {G(Role::kAdminRead)})));
  return set;
}

wire::Frame Hello(wire::ClientRole role, const std::string& user, const std::string& secret,
                  const std::string& group = "") {
  wire::Frame f = HelloFrame(role, group, user + "-client");
  f.mutable_hello()->set_user(user);
  f.mutable_hello()->set_secret(secret);
  return f;
}

class CoreAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(h_.Open());
    h_.core().SetAuthenticator(&auth_);
  }
  // A connection authenticated as `user`.
  CoreClient& As(const std::string& user, wire::ClientRole role, const std::string& group = "") {
    CoreClient& c = h_.Connect();
    const wire::Frame ok = c.Call(Hello(role, user, kSecret, group));
    EXPECT_TRUE(ok.has_hello_ok()) << user << ": " << Describe(ok);
    return c;
  }
  uint64_t StoreHalf(CoreClient& producer, const std::string& tx) {
    const wire::Frame ok = producer.Call(SendHalfFrame(kTopic, tx, "body-" + tx));
    EXPECT_TRUE(ok.has_send_half_ok()) << Describe(ok);
    return ok.send_half_ok().message_id();
  }
  static void ExpectDenied(const wire::Frame& answer, const std::string& fragment) {
    ASSERT_TRUE(answer.has_error()) << Describe(answer);
    EXPECT_EQ(answer.error().code(), wire::ERROR_PERMISSION_DENIED) << Describe(answer);
    EXPECT_TRUE(absl::StrContains(answer.error().message(), fragment))
        << answer.error().message() << " lacks " << fragment;
    EXPECT_FALSE(absl::StrContains(answer.error().message(), kSecret));
  }

  const PrincipalSet set_ = Principals();  // one hash per user: reloads keep credentials
  Authenticator auth_{set_};
  CoreHarness h_{CoreHarness::Options{}};
};

TEST_F(CoreAccessTest, EveryRequestBeforeHelloIsUnauthenticatedAndClosesTheConnection) {
  const std::vector<wire::Frame> requests = {
      SendHalfFrame(kTopic, "tx", "b"),
      SendFrame(kTopic, "b"),
      EndTxFrame(1, "tx", wire::TX_COMMIT),
      CheckAnswerFrame(1, "tx", wire::TX_COMMIT),
      SubscribeFrame(kTopic, kStock, 1),
      AckFrame(kStock, kTopic, {1}),
      NackFrame(kStock, kTopic, 1),
      ResolveFrame(1, wire::TX_COMMIT),
      ShowHalfFrame(1),
      ListHalfFrame(),
      ListGroupsFrame(),
      ListDlqFrame(kStock),
      ReplayDlqFrame(kStock),
      StatsFrame(),
      [] {
        wire::Frame ping;
        ping.mutable_ping();
        return ping;
      }(),
  };
  for (const wire::Frame& request : requests) {
    CoreClient& c = h_.Connect();
    const wire::Frame answer = c.Call(request);
    ASSERT_TRUE(answer.has_error()) << request.ShortDebugString();
    EXPECT_EQ(answer.error().code(), wire::ERROR_UNAUTHENTICATED) << Describe(answer);
    EXPECT_TRUE(c.peer().closed()) << request.ShortDebugString();
  }
}

TEST_F(CoreAccessTest, WrongSecretAndUnknownUserAreRefusedAlikeWithoutTheSecret) {
  CoreClient& wrong = h_.Connect();
  const wire::Frame a = wrong.Call(Hello(wire::ROLE_PRODUCER, "orders", "not-the-secret"));
  CoreClient& unknown = h_.Connect();
  const wire::Frame b = unknown.Call(Hello(wire::ROLE_PRODUCER, "nobody", kSecret));
  CoreClient& anonymous = h_.Connect();
  const wire::Frame c = anonymous.Call(HelloFrame(wire::ROLE_ADMIN));
  for (const wire::Frame* f : {&a, &b, &c}) {
    ASSERT_TRUE(f->has_error()) << Describe(*f);
    EXPECT_EQ(f->error().code(), wire::ERROR_UNAUTHENTICATED);
    EXPECT_FALSE(absl::StrContains(f->error().message(), kSecret));
    EXPECT_FALSE(absl::StrContains(f->error().message(), "not-the-secret"));
  }
  // The same words for a known name with a wrong secret and an unknown name.
  std::string ma = a.error().message(), mb = b.error().message();
  ma.replace(ma.find("orders"), 6, "NAME");
  mb.replace(mb.find("nobody"), 6, "NAME");
  EXPECT_EQ(ma, mb);
  EXPECT_TRUE(wrong.peer().closed());
  EXPECT_TRUE(unknown.peer().closed());
  EXPECT_TRUE(anonymous.peer().closed());
  EXPECT_EQ(h_.core().Metrics().auth_failures, 3u);
  EXPECT_TRUE(
      absl::StrContains(RenderPrometheus(h_.core().Metrics()), "\ntxmsg_auth_failures_total 3\n"));
}

TEST_F(CoreAccessTest, ConsumerCannotProduceOrEndTransactions) {
  CoreClient& orders = As("orders", wire::ROLE_PRODUCER, kOrders);
  const uint64_t id = StoreHalf(orders, "tx-1");
  CoreClient& stock = As("stock", wire::ROLE_PRODUCER);
  ExpectDenied(stock.Call(EndTxFrame(id, "tx-1", wire::TX_COMMIT)),
               "EndTx on producer group \"tx_order_group\" and topic \"topic_txmsg\" denied for "
               "user \"stock\"");
  ExpectDenied(stock.Call(CheckAnswerFrame(id, "tx-1", wire::TX_ROLLBACK)), "CheckTxAnswer");
  ExpectDenied(stock.Call(SendFrame(kTopic, "x")), "Send on topic \"topic_txmsg\"");
  CoreClient& stock_hello = h_.Connect();
  ExpectDenied(stock_hello.Call(Hello(wire::ROLE_PRODUCER, "stock", kSecret, kOrders)),
               "Hello on producer group \"tx_order_group\"");
  EXPECT_TRUE(stock_hello.peer().closed());
  // The half is still pending: nothing the consumer said applied.
  const wire::Frame shown = As("ops", wire::ROLE_ADMIN).Call(ShowHalfFrame(id));
  EXPECT_EQ(shown.show_half_ok().half().state(), wire::HALF_PENDING) << Describe(shown);
}

TEST_F(CoreAccessTest, ProducerOfOneGroupCannotEndOrAnswerForAnother) {
  CoreClient& orders = As("orders", wire::ROLE_PRODUCER, kOrders);
  const uint64_t id = StoreHalf(orders, "tx-2");
  CoreClient& other = As("other", wire::ROLE_PRODUCER, "group_b");
  ExpectDenied(other.Call(EndTxFrame(id, "tx-2", wire::TX_COMMIT)),
               "EndTx on producer group \"tx_order_group\"");
  ExpectDenied(other.Call(CheckAnswerFrame(id, "tx-2", wire::TX_COMMIT)),
               "CheckTxAnswer on producer group \"tx_order_group\"");
  wire::Frame into_orders = SendHalfFrame(kTopic, "tx-3", "b");
  into_orders.mutable_send_half()->set_producer_group(kOrders);
  ExpectDenied(other.Call(into_orders), "SendHalf on producer group \"tx_order_group\"");
  // Its own group works, and so does the right producer.
  EXPECT_TRUE(other.Call(SendHalfFrame("any_topic", "tx-4", "b")).has_send_half_ok());
  EXPECT_EQ(orders.Call(EndTxFrame(id, "tx-2", wire::TX_COMMIT)).end_tx_ok().state(),
            wire::HALF_COMMITTED);
  // orders may produce topic_txmsg only.
  ExpectDenied(orders.Call(SendHalfFrame("elsewhere", "tx-5", "b")),
               "SendHalf on producer group \"tx_order_group\" and topic \"elsewhere\"");
}

TEST_F(CoreAccessTest, ProducerAndConsumerCannotUseAdminRequests) {
  CoreClient& orders = As("orders", wire::ROLE_PRODUCER, kOrders);
  const uint64_t id = StoreHalf(orders, "tx-6");
  for (const std::string user : {"orders", "stock"}) {
    CoreClient& c = As(user, wire::ROLE_ADMIN);
    ExpectDenied(c.Call(ResolveFrame(id, wire::TX_COMMIT)),
                 "ResolveHalf denied for user \"" + user + "\" (needs admin)");
    ExpectDenied(c.Call(ListHalfFrame()), "ListHalf denied");
    ExpectDenied(c.Call(StatsFrame()), "Stats denied");
    ExpectDenied(c.Call(ReplayDlqFrame(kStock)), "ReplayDlq denied");
  }
}

TEST_F(CoreAccessTest, ReadOnlyAdminReadsButCannotCommitOrReplay) {
  CoreClient& orders = As("orders", wire::ROLE_PRODUCER, kOrders);
  const uint64_t id = StoreHalf(orders, "tx-7");
  CoreClient& viewer = As("viewer", wire::ROLE_ADMIN);
  EXPECT_TRUE(viewer.Call(ListHalfFrame()).has_list_half_ok());
  EXPECT_TRUE(viewer.Call(ShowHalfFrame(id)).has_show_half_ok());
  EXPECT_TRUE(viewer.Call(StatsFrame()).has_stats_ok());
  EXPECT_TRUE(viewer.Call(ListGroupsFrame()).has_list_groups_ok());
  ExpectDenied(viewer.Call(ResolveFrame(id, wire::TX_COMMIT)), "ResolveHalf denied");
  ExpectDenied(viewer.Call(ResolveFrame(id, wire::TX_ROLLBACK)), "ResolveHalf denied");
  ExpectDenied(viewer.Call(ReplayDlqFrame(kStock)), "ReplayDlq denied");
  EXPECT_EQ(viewer.Call(ShowHalfFrame(id)).show_half_ok().half().state(), wire::HALF_PENDING);
}

TEST_F(CoreAccessTest, ConsumerLimitedToItsGroupsAndTopics) {
  CoreClient& stock = As("stock", wire::ROLE_CONSUMER);
  ExpectDenied(stock.Call(SubscribeFrame(kTopic, "someone_else", 4)),
               "Subscribe on consumer group \"someone_else\"");
  ExpectDenied(stock.Call(SubscribeFrame("orders_topic", kStock, 4)), "topic \"orders_topic\"");
  ExpectDenied(stock.Call(AckFrame("someone_else", kTopic, {1})), "Ack on consumer group");
  ExpectDenied(stock.Call(NackFrame("someone_else", kTopic, 1)), "Nack on consumer group");
  EXPECT_TRUE(stock.Call(SubscribeFrame(kTopic, kStock, 4)).has_subscribe_ok());
  CoreClient& orders = As("orders", wire::ROLE_CONSUMER);
  ExpectDenied(orders.Call(SubscribeFrame(kTopic, kStock, 4)), "needs consume");
}

TEST_F(CoreAccessTest, CheckBackReachesOnlyAPrincipalThatMayProduceForTheGroup) {
  CoreHarness::Options o;
  o.broker.tx_timeout_ms = 100;
  o.broker.check_interval_ms = 100;
  CoreHarness h(o);
  ASSERT_OK(h.Open());
  PrincipalSet set = Principals();
  ASSERT_OK(set.Put(User("lapsed", {G(Role::kProduce, {kOrders}, {kTopic})})));
  Authenticator auth(set);
  h.core().SetAuthenticator(&auth);
  CoreClient& lapsed = h.Connect();
  ASSERT_TRUE(lapsed.Call(Hello(wire::ROLE_PRODUCER, "lapsed", kSecret, kOrders)).has_hello_ok());
  const uint64_t id = lapsed.Call(SendHalfFrame(kTopic, "tx-8", "b")).send_half_ok().message_id();
  ASSERT_GT(id, 0u);
  // Its permission goes (same secret: the connection stays); a check falls due.
  Principal& p = const_cast<Principal&>(*set.Find("lapsed"));
  p.grants = {G(Role::kProduce, {"group_b"})};
  auth.Replace(set);
  h.core().OnPrincipalsReloaded();
  ASSERT_FALSE(lapsed.peer().closed());
  h.Advance(150);
  EXPECT_TRUE(lapsed.TakePushed().empty()) << "a check-back reached a principal without produce";
  EXPECT_EQ(h.core().Metrics().checks_unanswerable, 1u);
  // A producer that may is asked.
  CoreClient& orders = h.Connect();
  ASSERT_TRUE(orders.Call(Hello(wire::ROLE_PRODUCER, "orders", kSecret, kOrders)).has_hello_ok());
  h.Advance(150);
  const std::vector<wire::Frame> pushed = orders.TakePushed();
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_EQ(pushed[0].check_tx().message_id(), id);
  EXPECT_TRUE(lapsed.TakePushed().empty());
  EXPECT_EQ(lapsed.Call(CheckAnswerFrame(id, "tx-8", wire::TX_COMMIT)).error().code(),
            wire::ERROR_PERMISSION_DENIED);
}

TEST_F(CoreAccessTest, ReloadClosesRemovedUsersAndAppliesNewPermissionsNextRequest) {
  CoreClient& orders = As("orders", wire::ROLE_PRODUCER, kOrders);
  CoreClient& viewer = As("viewer", wire::ROLE_ADMIN);
  CoreClient& stock = As("stock", wire::ROLE_CONSUMER);
  PrincipalSet set = set_;
  ASSERT_TRUE(set.Remove("orders"));
  Principal& v = const_cast<Principal&>(*set.Find("viewer"));
  v.grants = {G(Role::kAdmin)};
  auth_.Replace(set);
  h_.core().OnPrincipalsReloaded();
  EXPECT_TRUE(orders.peer().closed());
  EXPECT_FALSE(viewer.peer().closed());
  EXPECT_FALSE(stock.peer().closed());
  // viewer is an admin now, on the same connection.
  CoreClient& producer = h_.Connect();
  ASSERT_TRUE(
      producer.Call(Hello(wire::ROLE_PRODUCER, "other", kSecret, "group_b")).has_hello_ok());
  const uint64_t id = producer.Call(SendHalfFrame(kTopic, "tx-9", "b")).send_half_ok().message_id();
  EXPECT_TRUE(viewer.Call(ResolveFrame(id, wire::TX_ROLLBACK)).has_end_tx_ok());
  // The removed user cannot come back.
  CoreClient& again = h_.Connect();
  EXPECT_EQ(again.Call(Hello(wire::ROLE_PRODUCER, "orders", kSecret, kOrders)).error().code(),
            wire::ERROR_UNAUTHENTICATED);
}

TEST_F(CoreAccessTest, OperatorActionsAreAuditedAndSurviveARestart) {
  CoreClient& orders = As("orders", wire::ROLE_PRODUCER, kOrders);
  const uint64_t committed = StoreHalf(orders, "tx-10");
  const uint64_t rolled_back = StoreHalf(orders, "tx-11");
  CoreClient& ops = As("ops", wire::ROLE_ADMIN);
  ASSERT_TRUE(ops.Call(ResolveFrame(committed, wire::TX_COMMIT)).has_end_tx_ok());
  ASSERT_TRUE(ops.Call(ResolveFrame(rolled_back, wire::TX_ROLLBACK)).has_end_tx_ok());
  const std::string source = ops.peer().description();
  auto expect_audit = [&](CoreClient& admin, uint64_t id, const std::string& action) {
    const wire::Frame shown = admin.Call(ShowHalfFrame(id));
    ASSERT_TRUE(shown.has_show_half_ok()) << Describe(shown);
    const wire::HalfInfo& info = shown.show_half_ok().half();
    ASSERT_EQ(info.audit_size(), 1) << info.ShortDebugString();
    EXPECT_EQ(info.audit(0).action(), action);
    EXPECT_EQ(info.audit(0).principal(), "ops");
    EXPECT_EQ(info.audit(0).source(), source);
    EXPECT_EQ(info.audit(0).time_ms(), h_.clock().now());
  };
  expect_audit(ops, committed, "commit");
  expect_audit(ops, rolled_back, "rollback");
  h_.Close();
  ASSERT_OK(h_.Open());
  h_.core().SetAuthenticator(&auth_);
  CoreClient& viewer = As("viewer", wire::ROLE_ADMIN);
  expect_audit(viewer, committed, "commit");
  expect_audit(viewer, rolled_back, "rollback");
}

TEST_F(CoreAccessTest, DlqReplayIsAuditedWithItsGroupAndSurvivesARestart) {
  CoreClient& stock = As("stock", wire::ROLE_CONSUMER);
  ASSERT_TRUE(stock.Call(SubscribeFrame(kTopic, kStock, 4)).has_subscribe_ok());
  CoreClient& orders = As("orders", wire::ROLE_PRODUCER, kOrders);
  const uint64_t id = StoreHalf(orders, "tx-12");
  ASSERT_TRUE(orders.Call(EndTxFrame(id, "tx-12", wire::TX_COMMIT)).has_end_tx_ok());
  ASSERT_EQ(stock.TakePushed().size(), 1u);
  wire::Frame dead = NackFrame(kStock, kTopic, id);
  dead.mutable_nack()->set_dead_letter(true);
  stock.Send(dead, /*one_way=*/true);
  h_.Settle();
  CoreClient& ops = As("ops", wire::ROLE_ADMIN);
  const wire::Frame replayed = ops.Call(ReplayDlqFrame(kStock, id));
  ASSERT_EQ(replayed.replay_dlq_ok().replayed(), 1u) << Describe(replayed);
  for (int round = 0; round < 2; ++round) {
    CoreClient& viewer = As("viewer", wire::ROLE_ADMIN);
    const wire::Frame shown = viewer.Call(ShowHalfFrame(id));
    ASSERT_TRUE(shown.has_show_half_ok()) << Describe(shown);
    const wire::HalfInfo& info = shown.show_half_ok().half();
    ASSERT_EQ(info.audit_size(), 1) << info.ShortDebugString();
    EXPECT_EQ(info.audit(0).action(), "dlq_replay");
    EXPECT_EQ(info.audit(0).principal(), "ops");
    EXPECT_EQ(info.audit(0).group(), kStock);
    h_.Close();
    ASSERT_OK(h_.Open());
    h_.core().SetAuthenticator(&auth_);
  }
}

TEST(CoreNoAuthTest, WithoutAnAuthenticatorEveryoneMayDoAnythingAndAuditsSayNoAuth) {
  CoreHarness h({});
  ASSERT_OK(h.Open());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, kOrders);
  const wire::Frame stored = producer.Call(SendHalfFrame(kTopic, "tx-13", "b"));
  ASSERT_TRUE(stored.has_send_half_ok()) << Describe(stored);
  const uint64_t id = stored.send_half_ok().message_id();
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  ASSERT_TRUE(admin.Call(ResolveFrame(id, wire::TX_COMMIT)).has_end_tx_ok());
  const wire::HalfInfo info = admin.Call(ShowHalfFrame(id)).show_half_ok().half();
  ASSERT_EQ(info.audit_size(), 1);
  EXPECT_EQ(info.audit(0).principal(), "(no auth)");
}

}  // namespace
}  // namespace txmsg::broker::testing
