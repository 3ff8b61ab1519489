// What a careless or unlucky world does to the broker core, in-process:
// halves whose producer never comes back, check counts across a restart,
// messages too large to be delivered, and outcomes with no name.
#include <string>

#include "gtest/gtest.h"
#include "tests/broker/core/core_frames.h"
#include "tests/broker/core/core_harness.h"
#include "tests/testutil/status_matchers.h"

namespace txmsg::broker::testing {
namespace {

constexpr char kTopic[] = "topic_txmsg";
constexpr uint64_t kTxTimeoutMs = 1'000;
constexpr uint64_t kCheckIntervalMs = 2'000;
constexpr uint32_t kMaxChecks = 3;

CoreHarness::Options Options() {
  CoreHarness::Options o;
  o.broker.tx_timeout_ms = kTxTimeoutMs;
  o.broker.check_interval_ms = kCheckIntervalMs;
  o.broker.max_checks = kMaxChecks;
  return o;
}

wire::HalfInfo Show(CoreHarness& h, uint64_t id) {
  const wire::Frame r = h.Connect(wire::ROLE_ADMIN).Call(ShowHalfFrame(id));
  EXPECT_TRUE(r.has_show_half_ok()) << Describe(r);
  return r.show_half_ok().half();
}

TEST(CoreHardeningTest, HalfWhoseProducerNeverComesBackIsDiscardedAfterMaxChecks) {
  CoreHarness h(Options());
  ASSERT_OK(h.Open());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "gone-group");
  const wire::Frame ok = producer.Call(SendHalfFrame(kTopic, "tx-orphan", "orphan"));
  ASSERT_TRUE(ok.has_send_half_ok()) << Describe(ok);
  const uint64_t id = ok.send_half_ok().message_id();
  producer.Disconnect();  // and never comes back

  h.Advance(kTxTimeoutMs);
  EXPECT_EQ(Show(h, id).checks(), 1u);  // counted, though nobody could be asked
  for (uint32_t i = 1; i < kMaxChecks; ++i) h.Advance(kCheckIntervalMs);
  EXPECT_EQ(Show(h, id).state(), wire::HALF_PENDING);
  h.Advance(kCheckIntervalMs);  // max_checks x check_interval after the first
  const wire::HalfInfo info = Show(h, id);
  EXPECT_EQ(info.state(), wire::HALF_DISCARDED);
  EXPECT_EQ(info.checks(), kMaxChecks);
  ASSERT_GT(info.check_history_size(), 0);
  EXPECT_EQ(info.check_history(0).asked_client(), "(no producer connected)");
  // Discarded and visible: an operator can still resolve it.
  const wire::Frame resolved =
      h.Connect(wire::ROLE_ADMIN).Call(ResolveFrame(id, wire::TX_ROLLBACK));
  EXPECT_FALSE(resolved.has_error()) << Describe(resolved);
}

TEST(CoreHardeningTest, CheckCountsAndHistorySurviveARestart) {
  CoreHarness h(Options());
  ASSERT_OK(h.Open());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "slow-group", "slow-producer");
  const wire::Frame ok = producer.Call(SendHalfFrame(kTopic, "tx-slow", "slow"));
  const uint64_t id = ok.send_half_ok().message_id();
  h.Advance(kTxTimeoutMs);
  h.Advance(kCheckIntervalMs);  // two checks, never answered
  ASSERT_EQ(Show(h, id).checks(), 2u);

  ASSERT_OK(h.PowerCut());
  ASSERT_OK(h.Open());
  const wire::HalfInfo after = Show(h, id);
  EXPECT_EQ(after.checks(), 2u);  // not a fresh set of checks
  ASSERT_EQ(after.check_history_size(), 2);
  EXPECT_EQ(after.check_history(1).asked_client(), "slow-producer");
  // One more unanswered interval after the restart uses up the last check,
  // and the next discards it.
  h.Advance(kTxTimeoutMs);
  h.Advance(kCheckIntervalMs);
  EXPECT_EQ(Show(h, id).state(), wire::HALF_DISCARDED);
  ASSERT_OK(h.PowerCut());
  ASSERT_OK(h.Open());
  EXPECT_EQ(Show(h, id).checks(), kMaxChecks);  // a discarded half keeps its count
}

TEST(CoreHardeningTest, AMessageThatCouldNotBeDeliveredIsRefusedWhenSent) {
  CoreHarness::Options o = Options();
  o.broker.max_frame_size = 64 * 1024;
  CoreHarness h(o);
  ASSERT_OK(h.Open());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "p");
  // A body that fits the frame limit, but not once wrapped in a Deliver.
  auto plain = [](size_t bytes) {
    wire::Frame f;
    f.mutable_send()->mutable_content()->set_topic(kTopic);
    f.mutable_send()->mutable_content()->set_body(std::string(bytes, 'x'));
    return f;
  };
  const wire::Frame too_big = producer.Call(plain(o.broker.max_frame_size - 100));
  ASSERT_TRUE(too_big.has_error()) << Describe(too_big);
  EXPECT_EQ(too_big.error().code(), wire::ERROR_INVALID_REQUEST);
  EXPECT_NE(too_big.error().message().find("delivery envelope"), std::string::npos)
      << too_big.error().message();
  // What fits is delivered.
  CoreClient& consumer = h.Connect(wire::ROLE_CONSUMER);
  ASSERT_TRUE(consumer.Call(SubscribeFrame(kTopic, "g", 8)).has_subscribe_ok());
  ASSERT_TRUE(producer.Call(plain(60 * 1024)).has_send_ok());
  bool delivered = false;
  for (const wire::Frame& f : consumer.TakePushed()) delivered |= f.has_deliver();
  EXPECT_TRUE(delivered);
}

TEST(CoreHardeningTest, KeysAndPropertiesAreBounded) {
  CoreHarness h(Options());
  ASSERT_OK(h.Open());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "p");
  wire::Frame long_key = SendHalfFrame(kTopic, "tx-k", "body");
  long_key.mutable_send_half()->mutable_content()->set_key(std::string(5'000, 'k'));
  const wire::Frame r1 = producer.Call(long_key);
  ASSERT_TRUE(r1.has_error()) << Describe(r1);
  EXPECT_NE(r1.error().message().find("the key has 5000 bytes"), std::string::npos);
  wire::Frame many = SendFrame(kTopic, "body");
  for (int i = 0; i < 100; ++i) {
    (*many.mutable_send()->mutable_content()->mutable_properties())["p" + std::to_string(i)] = "v";
  }
  const wire::Frame r2 = producer.Call(many);
  ASSERT_TRUE(r2.has_error()) << Describe(r2);
  EXPECT_NE(r2.error().message().find("100 properties; at most 64"), std::string::npos);
}

TEST(CoreHardeningTest, AnOutcomeWithNoNameIsNamedByItsNumber) {
  CoreHarness h(Options());
  ASSERT_OK(h.Open());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "p");
  const uint64_t id = producer.Call(SendHalfFrame(kTopic, "tx-n", "n")).send_half_ok().message_id();
  const wire::Frame r = producer.Call(EndTxFrame(id, "tx-n", static_cast<wire::TxOutcome>(99)));
  ASSERT_TRUE(r.has_error()) << Describe(r);
  EXPECT_NE(r.error().message().find("outcome (unknown value 99) is not valid"), std::string::npos)
      << r.error().message();
}

}  // namespace
}  // namespace txmsg::broker::testing
