// The broker core's log upkeep, in-process: live records of old segments are
// carried forward so the segments can go, and what was carried survives a
// power cut.
#include <algorithm>
#include <string>
#include <vector>

#include "broker/log/recovery.h"
#include "gtest/gtest.h"
#include "tests/broker/core/core_harness.h"
#include "tests/testutil/status_matchers.h"

namespace txmsg::broker::testing {
namespace {

constexpr char kTopic[] = "topic_txmsg";
constexpr uint64_t kSegmentSize = 4096;
constexpr uint64_t kCompactionEveryMs = 500;  // BrokerCore's interval between compactions

// Acks whatever `consumer` got for `group`; returns the bodies.
std::vector<std::string> Consume(CoreClient& consumer, const std::string& group,
                                 const std::string& topic = kTopic) {
  std::vector<std::string> bodies;
  std::vector<uint64_t> ids;
  for (const wire::Frame& f : consumer.TakePushed()) {
    if (!f.has_deliver()) continue;
    bodies.push_back(f.deliver().content().body());
    ids.push_back(f.deliver().message_id());
  }
  if (!ids.empty()) consumer.Call(AckFrame(group, topic, ids));
  return bodies;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(CoreUpkeepTest, LiveRecordsAreCarriedForwardSoOldSegmentsGoAndSurviveAPowerCut) {
  CoreHarness::Options o;
  o.segment_size = kSegmentSize;
  o.broker.tx_timeout_ms = 3'600'000;
  CoreHarness h(o);
  ASSERT_OK(h.Open());
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "p");
  // A half nobody settles, and a message group "slow" never consumes.
  const wire::Frame half_ok = producer.Call(SendHalfFrame(kTopic, "tx-long", "long-pending"));
  ASSERT_TRUE(half_ok.has_send_half_ok()) << Describe(half_ok);
  const uint64_t half = half_ok.send_half_ok().message_id();
  CoreClient& fast = h.Connect(wire::ROLE_CONSUMER);
  ASSERT_TRUE(fast.Call(SubscribeFrame(kTopic, "fast", 64)).has_subscribe_ok());
  CoreClient& slow = h.Connect(wire::ROLE_CONSUMER);
  ASSERT_TRUE(slow.Call(SubscribeFrame(kTopic, "slow", 1)).has_subscribe_ok());
  slow.Disconnect();  // "slow" is known to the broker but has nobody consuming
  ASSERT_TRUE(producer.Call(SendFrame(kTopic, "half-consumed")).has_send_ok());
  EXPECT_EQ(Consume(fast, "fast"), std::vector<std::string>{"half-consumed"});
  // Push the log through many segments while a consumer keeps up.
  CoreClient& drain = h.Connect(wire::ROLE_CONSUMER);
  ASSERT_TRUE(drain.Call(SubscribeFrame("other", "drain", 1'000)).has_subscribe_ok());
  size_t drained = 0;
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(producer.Call(SendFrame("other", "filler-" + std::to_string(i))).has_send_ok());
    drained += Consume(drain, "drain", "other").size();
  }
  EXPECT_EQ(drained, 300u);
  const uint64_t segments_before = h.core().Metrics().log.segments;
  EXPECT_GE(segments_before, 5u);
  // Upkeep carries the live records forward, then deletes what they pinned.
  for (int i = 0; i < 20; ++i) h.Advance(kCompactionEveryMs);
  const std::string first = std::string(CoreHarness::kDir) + "/" + log::SegmentFileName(0);
  EXPECT_FALSE(h.fs().FileSize(first).ok()) << first << " is still there";
  EXPECT_LE(h.core().Metrics().log.segments, 2u);
  EXPECT_GT(h.core().Metrics().carried, 0u);
  EXPECT_GT(h.core().Metrics().segments_deleted, 0u);

  ASSERT_OK(h.PowerCut());
  ASSERT_OK(h.Open());
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  const wire::Frame shown = admin.Call(ShowHalfFrame(half));
  EXPECT_EQ(shown.show_half_ok().half().state(), wire::HALF_PENDING) << Describe(shown);
  EXPECT_EQ(shown.show_half_ok().half().content().body(), "long-pending");
  CoreClient& producer2 = h.Connect(wire::ROLE_PRODUCER, "p");
  ASSERT_TRUE(producer2.Call(EndTxFrame(half, "tx-long", wire::TX_COMMIT)).end_tx_ok().applied());
  CoreClient& slow_again = h.Connect(wire::ROLE_CONSUMER);
  ASSERT_TRUE(slow_again.Call(SubscribeFrame(kTopic, "slow", 64)).has_subscribe_ok());
  CoreClient& fast_again = h.Connect(wire::ROLE_CONSUMER);
  ASSERT_TRUE(fast_again.Call(SubscribeFrame(kTopic, "fast", 64)).has_subscribe_ok());
  const std::vector<std::string> slow_got = Consume(slow_again, "slow");
  EXPECT_TRUE(Contains(slow_got, "half-consumed"));  // never acked by "slow"
  EXPECT_TRUE(Contains(slow_got, "long-pending"));
  const std::vector<std::string> fast_got = Consume(fast_again, "fast");
  EXPECT_EQ(fast_got, std::vector<std::string>{"long-pending"});  // acked the other before
}

}  // namespace
}  // namespace txmsg::broker::testing
