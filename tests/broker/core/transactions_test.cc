// The transactional path of the broker core, in-process: half messages,
// EndTx (repeated, contrary, late), check-backs and discards, on a manual
// clock, so every timeout is exact and nothing sleeps.
#include <vector>

#include "gtest/gtest.h"
#include "tests/broker/core/core_harness.h"
#include "tests/testutil/status_matchers.h"

namespace txmsg::broker::testing {
namespace {

constexpr char kTopic[] = "topic_txmsg";
constexpr char kProducers[] = "tx_order_group";
constexpr char kConsumers[] = "tx_stock_group";

CoreHarness::Options Timeouts(uint64_t tx_timeout_ms, uint64_t check_interval_ms,
                              uint32_t max_checks = 15) {
  CoreHarness::Options o;
  o.broker.tx_timeout_ms = tx_timeout_ms;
  o.broker.check_interval_ms = check_interval_ms;
  o.broker.max_checks = max_checks;
  return o;
}

uint64_t SendHalf(CoreClient& producer, const std::string& body, const std::string& tx_id) {
  const wire::Frame ok = producer.Call(SendHalfFrame(kTopic, tx_id, body));
  EXPECT_TRUE(ok.has_send_half_ok()) << Describe(ok);
  return ok.send_half_ok().message_id();
}

// Bodies of the messages delivered to `consumer` (acked at once).
std::vector<std::string> Drain(CoreClient& consumer) {
  std::vector<std::string> bodies;
  std::vector<uint64_t> ids;
  for (const wire::Frame& f : consumer.TakePushed()) {
    if (!f.has_deliver()) continue;
    bodies.push_back(f.deliver().content().body());
    ids.push_back(f.deliver().message_id());
  }
  if (!ids.empty()) consumer.Send(AckFrame(kConsumers, kTopic, ids), /*one_way=*/true);
  return bodies;
}

std::vector<wire::CheckTx> Checks(CoreClient& producer) {
  std::vector<wire::CheckTx> checks;
  for (const wire::Frame& f : producer.TakePushed()) {
    if (f.has_check_tx()) checks.push_back(f.check_tx());
  }
  return checks;
}

TEST(CoreTransactionsTest, HalfIsInvisibleUntilCommittedAndARolledBackOneNeverShows) {
  CoreHarness h({});
  ASSERT_OK(h.Open());
  CoreClient& consumer = h.Connect(wire::ROLE_CONSUMER);
  ASSERT_TRUE(consumer.Call(SubscribeFrame(kTopic, kConsumers, 64)).has_subscribe_ok());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, kProducers);
  const uint64_t a = SendHalf(producer, "commit-me", "tx-a");
  const uint64_t b = SendHalf(producer, "roll-me-back", "tx-b");
  EXPECT_GT(b, a);
  EXPECT_TRUE(Drain(consumer).empty());
  const wire::Frame ra = producer.Call(EndTxFrame(a, "tx-a", wire::TX_COMMIT));
  EXPECT_TRUE(ra.end_tx_ok().applied()) << Describe(ra);
  EXPECT_EQ(ra.end_tx_ok().state(), wire::HALF_COMMITTED);
  const wire::Frame rb = producer.Call(EndTxFrame(b, "tx-b", wire::TX_ROLLBACK));
  EXPECT_EQ(rb.end_tx_ok().state(), wire::HALF_ROLLED_BACK) << Describe(rb);
  EXPECT_EQ(Drain(consumer), std::vector<std::string>{"commit-me"});
  h.Advance(60'000);
  EXPECT_TRUE(Drain(consumer).empty());
}

TEST(CoreTransactionsTest, RepeatedEndTxIsAnsweredAndTheOppositeOutcomeIsRefused) {
  CoreHarness h({});
  ASSERT_OK(h.Open());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, kProducers);
  const uint64_t id = SendHalf(producer, "x", "tx-x");
  EXPECT_TRUE(producer.Call(EndTxFrame(id, "tx-x", wire::TX_COMMIT)).end_tx_ok().applied());
  const wire::Frame again = producer.Call(EndTxFrame(id, "tx-x", wire::TX_COMMIT));
  EXPECT_FALSE(again.end_tx_ok().applied()) << Describe(again);
  EXPECT_EQ(again.end_tx_ok().state(), wire::HALF_COMMITTED);
  const wire::Frame unknown = producer.Call(EndTxFrame(id, "tx-x", wire::TX_UNKNOWN));
  EXPECT_EQ(unknown.end_tx_ok().state(), wire::HALF_COMMITTED) << Describe(unknown);
  const wire::Frame conflict = producer.Call(EndTxFrame(id, "tx-x", wire::TX_ROLLBACK));
  EXPECT_EQ(conflict.error().code(), wire::ERROR_CONFLICT) << Describe(conflict);
  EXPECT_EQ(h.core().Metrics().conflicts, 1u);
  // Rolled back, then an operator tries to commit: refused too.
  const uint64_t id2 = SendHalf(producer, "y", "tx-y");
  ASSERT_TRUE(producer.Call(EndTxFrame(id2, "tx-y", wire::TX_ROLLBACK)).has_end_tx_ok());
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  EXPECT_EQ(admin.Call(ResolveFrame(id2, wire::TX_COMMIT)).error().code(), wire::ERROR_CONFLICT);
  const wire::Frame same = admin.Call(ResolveFrame(id2, wire::TX_ROLLBACK));
  EXPECT_FALSE(same.end_tx_ok().applied()) << Describe(same);
  // Unknown ids and wrong tx ids are errors, not crashes.
  EXPECT_EQ(producer.Call(EndTxFrame(123456789, "tx-z", wire::TX_COMMIT)).error().code(),
            wire::ERROR_NOT_FOUND);
  const uint64_t id3 = SendHalf(producer, "z", "tx-z");
  EXPECT_EQ(producer.Call(EndTxFrame(id3, "not-tx-z", wire::TX_COMMIT)).error().code(),
            wire::ERROR_INVALID_REQUEST);
  EXPECT_EQ(h.core().Metrics().commits, 1u);
  EXPECT_EQ(h.core().Metrics().rollbacks, 1u);
}

TEST(CoreTransactionsTest, CheckBackResolvesAHalfWhoseProducerDiedAfterItsLocalTransaction) {
  CoreHarness h(Timeouts(150, 150));
  ASSERT_OK(h.Open());
  CoreClient& consumer = h.Connect(wire::ROLE_CONSUMER);
  ASSERT_TRUE(consumer.Call(SubscribeFrame(kTopic, kConsumers, 64)).has_subscribe_ok());
  CoreClient& dying = h.Connect(wire::ROLE_PRODUCER, kProducers);
  const uint64_t id = SendHalf(dying, "orphan", "tx-orphan");
  dying.Disconnect();  // its local transaction committed; EndTx never sent
  CoreClient& survivor = h.Connect(wire::ROLE_PRODUCER, kProducers);
  h.Advance(149);
  EXPECT_TRUE(Checks(survivor).empty()) << "checked before tx_timeout";
  h.Advance(1);
  const std::vector<wire::CheckTx> checks = Checks(survivor);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].message_id(), id);
  EXPECT_EQ(checks[0].tx_id(), "tx-orphan");
  EXPECT_EQ(checks[0].check_number(), 1u);
  EXPECT_EQ(checks[0].content().body(), "orphan");
  const wire::Frame answered = survivor.Call(CheckAnswerFrame(id, "tx-orphan", wire::TX_COMMIT));
  EXPECT_TRUE(answered.end_tx_ok().applied()) << Describe(answered);
  EXPECT_EQ(Drain(consumer), std::vector<std::string>{"orphan"});
  h.Settle();  // the ack is in: consumed by its only group, it is no longer retained...
  h.Advance(1'000);
  EXPECT_TRUE(Checks(survivor).empty()) << "a settled half is checked again";
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  const wire::Frame shown = admin.Call(ShowHalfFrame(id));
  EXPECT_EQ(shown.error().code(), wire::ERROR_NOT_FOUND) << Describe(shown);
  EXPECT_NE(shown.error().message().find("COMMITTED"), std::string::npos) << Describe(shown);
  // ...but its outcome is remembered for a late EndTx.
  const wire::Frame late = survivor.Call(EndTxFrame(id, "tx-orphan", wire::TX_COMMIT));
  EXPECT_FALSE(late.end_tx_ok().applied()) << Describe(late);
  EXPECT_EQ(late.end_tx_ok().state(), wire::HALF_COMMITTED);
  EXPECT_EQ(survivor.Call(EndTxFrame(id, "tx-orphan", wire::TX_ROLLBACK)).error().code(),
            wire::ERROR_CONFLICT);
}

// Each check appends one small CHECK record (so a restart keeps the count);
// the log grows by that and nothing more.
constexpr uint64_t kMaxCheckRecordBytes = 64;  // header + id, number, time, client id

TEST(CoreTransactionsTest, HalfIsDiscardedAfterMaxChecksAndEachCheckAppendsOneSmallRecord) {
  CoreHarness h(Timeouts(100, 100, /*max_checks=*/4));
  ASSERT_OK(h.Open());
  CoreClient& consumer = h.Connect(wire::ROLE_CONSUMER);
  ASSERT_TRUE(consumer.Call(SubscribeFrame(kTopic, kConsumers, 64)).has_subscribe_ok());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, kProducers);
  const uint64_t id = SendHalf(producer, "undecided", "tx-u");
  uint64_t log_bytes = 0;
  for (uint32_t n = 1; n <= 4; ++n) {
    h.Advance(100);
    const std::vector<wire::CheckTx> checks = Checks(producer);
    ASSERT_EQ(checks.size(), 1u) << "check " << n;
    EXPECT_EQ(checks[0].check_number(), n);
    const wire::Frame unknown = producer.Call(CheckAnswerFrame(id, "tx-u", wire::TX_UNKNOWN));
    EXPECT_EQ(unknown.end_tx_ok().state(), wire::HALF_PENDING) << Describe(unknown);
    const uint64_t now_bytes = h.core().Metrics().log.disk_bytes;
    if (n > 1) {
      EXPECT_GT(now_bytes, log_bytes) << "a check is recorded";
      EXPECT_LE(now_bytes - log_bytes, kMaxCheckRecordBytes) << "a check record stays small";
    }
    log_bytes = now_bytes;
  }
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  EXPECT_EQ(admin.Call(ShowHalfFrame(id)).show_half_ok().half().state(), wire::HALF_PENDING);
  h.Advance(100);
  EXPECT_TRUE(Checks(producer).empty());
  const wire::HalfInfo half = admin.Call(ShowHalfFrame(id)).show_half_ok().half();
  EXPECT_EQ(half.state(), wire::HALF_DISCARDED);
  EXPECT_EQ(half.checks(), 4u);
  EXPECT_EQ(half.check_history_size(), 4);
  EXPECT_EQ(half.check_history(0).answer(), wire::TX_UNKNOWN);
  const wire::Frame listed = admin.Call(ListHalfFrame(wire::HALF_DISCARDED));
  ASSERT_EQ(listed.list_half_ok().messages_size(), 1);
  EXPECT_EQ(listed.list_half_ok().messages(0).message_id(), id);
  EXPECT_EQ(h.core().Metrics().discarded, 1u);
  h.Advance(10'000);
  EXPECT_TRUE(Checks(producer).empty()) << "a discarded half is checked again";
  EXPECT_TRUE(Drain(consumer).empty());
  // An operator resolves it: delivered.
  const wire::Frame resolved = admin.Call(ResolveFrame(id, wire::TX_COMMIT));
  EXPECT_TRUE(resolved.end_tx_ok().applied()) << Describe(resolved);
  EXPECT_EQ(Drain(consumer), std::vector<std::string>{"undecided"});
}

// A half whose producer group has nobody connected is not sent anywhere, but
// each due check counts as unanswered (so it is DISCARDED in time instead of
// pinning its segment for ever); settled halves are never checked.
TEST(CoreTransactionsTest, NoLiveProducerCountsUnansweredChecksAndSettledHalvesAreNeverChecked) {
  CoreHarness h(Timeouts(100, 100, /*max_checks=*/100));
  ASSERT_OK(h.Open());
  CoreClient& gone = h.Connect(wire::ROLE_PRODUCER, "group-without-producers");
  const uint64_t orphan = SendHalf(gone, "orphan", "tx-o");
  gone.Disconnect();
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, kProducers);
  const uint64_t settled = SendHalf(producer, "settled", "tx-s");
  ASSERT_TRUE(producer.Call(EndTxFrame(settled, "tx-s", wire::TX_COMMIT)).has_end_tx_ok());
  const uint64_t clock = SendHalf(producer, "clock", "tx-c");
  std::vector<uint64_t> asked;
  for (int i = 0; i < 3; ++i) {
    h.Advance(100);
    for (const wire::CheckTx& c : Checks(producer)) asked.push_back(c.message_id());
  }
  EXPECT_EQ(asked, (std::vector<uint64_t>{clock, clock, clock}));
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  const wire::HalfInfo half = admin.Call(ShowHalfFrame(orphan)).show_half_ok().half();
  EXPECT_EQ(half.checks(), 3u);
  EXPECT_EQ(half.state(), wire::HALF_PENDING);
  ASSERT_GT(half.check_history_size(), 0);
  EXPECT_EQ(half.check_history(0).asked_client(), "(no producer connected)");
  // A producer of its group turns up: asked at the next due check.
  CoreClient& late = h.Connect(wire::ROLE_PRODUCER, "group-without-producers");
  h.Advance(100);
  const std::vector<wire::CheckTx> checks = Checks(late);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].message_id(), orphan);
  EXPECT_EQ(checks[0].check_number(), 4u);
}

TEST(CoreTransactionsTest, AcknowledgedHalfSurvivesAPowerCutAndUnsyncedWorkIsLost) {
  CoreHarness h(Timeouts(1'000, 1'000));
  ASSERT_OK(h.Open());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, kProducers);
  const uint64_t kept = SendHalf(producer, "kept", "tx-kept");
  h.HoldSyncs();
  const uint64_t lost = producer.Send(SendHalfFrame(kTopic, "tx-lost", "lost"));
  const uint64_t commit = producer.Send(EndTxFrame(kept, "tx-kept", wire::TX_COMMIT));
  h.Settle();
  EXPECT_FALSE(producer.TakeAnswer(lost).has_value()) << "acknowledged before it was durable";
  EXPECT_FALSE(producer.TakeAnswer(commit).has_value()) << "acknowledged before it was durable";
  ASSERT_OK(h.PowerCut());
  ASSERT_OK(h.Open());
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  const wire::Frame listed = admin.Call(ListHalfFrame());
  ASSERT_EQ(listed.list_half_ok().messages_size(), 1) << Describe(listed);
  EXPECT_EQ(listed.list_half_ok().messages(0).message_id(), kept);
  EXPECT_EQ(listed.list_half_ok().messages(0).state(), wire::HALF_PENDING);
}

}  // namespace
}  // namespace txmsg::broker::testing
