#include "broker/state/delivery_queue.h"

#include "gtest/gtest.h"

namespace txmsg::broker {
namespace {

DeliveryOptions Opts() {
  DeliveryOptions o;
  o.max_attempts = 3;
  o.ack_timeout_ms = 1000;
  o.backoff_base_ms = 100;
  o.backoff_max_ms = 350;
  return o;
}

TEST(DeliveryQueueTest, DeliversInOrderOnceEachUntilAcked) {
  const DeliveryOptions o = Opts();
  DeliveryQueue q(&o);
  q.Add(10);
  q.Add(20);
  auto a = q.Take(1, 0);
  auto b = q.Take(1, 0);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->id, 10u);
  EXPECT_EQ(b->id, 20u);
  EXPECT_EQ(a->attempt, 1u);
  EXPECT_FALSE(q.Take(1, 0));
  EXPECT_EQ(q.in_flight(), 2u);
  auto r = q.Ack(10);
  EXPECT_TRUE(r.known);
  EXPECT_EQ(r.holder, ConsumerId{1});
  EXPECT_FALSE(q.Ack(10).known);  // a second ack is ignored
  EXPECT_EQ(q.unacked(), 1u);
}

TEST(DeliveryQueueTest, UnackedDeliveryIsRedeliveredAfterTheAckTimeoutWithTheNextAttempt) {
  const DeliveryOptions o = Opts();
  DeliveryQueue q(&o);
  q.Add(7);
  ASSERT_TRUE(q.Take(1, 0));
  EXPECT_TRUE(q.Expire(999).empty());
  auto failed = q.Expire(1000);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].second.holder, ConsumerId{1});
  EXPECT_FALSE(failed[0].second.dead_lettered);
  auto again = q.Take(2, 1000);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, 7u);
  EXPECT_EQ(again->attempt, 2u);
}

TEST(DeliveryQueueTest, NackWaitsForItsDelayOrTheDoublingBackoff) {
  const DeliveryOptions o = Opts();
  DeliveryQueue q(&o);
  q.Add(1);
  q.Add(2);
  ASSERT_TRUE(q.Take(1, 0));
  ASSERT_TRUE(q.Take(1, 0));
  ASSERT_TRUE(q.Nack(1, /*delay_ms=*/50, 0));
  ASSERT_TRUE(q.Nack(2, /*delay_ms=*/0, 0));  // backoff for attempt 1: 100 ms
  EXPECT_FALSE(q.Take(1, 49));
  EXPECT_EQ(q.Take(1, 50)->id, 1u);
  EXPECT_FALSE(q.Take(1, 99));
  EXPECT_EQ(q.Take(1, 100)->id, 2u);
  EXPECT_EQ(q.BackoffMs(1), 100u);
  EXPECT_EQ(q.BackoffMs(2), 200u);
  EXPECT_EQ(q.BackoffMs(3), 350u);  // capped
  EXPECT_FALSE(q.Nack(99, 0, 0));   // not in flight
}

TEST(DeliveryQueueTest, MessageGoesToTheDlqAfterMaxAttemptsAndCanBeReplayed) {
  const DeliveryOptions o = Opts();
  DeliveryQueue q(&o);
  q.Add(5);
  uint64_t now = 0;
  for (uint32_t attempt = 1; attempt <= 3; ++attempt) {
    auto d = q.Take(1, now);
    ASSERT_TRUE(d) << attempt;
    EXPECT_EQ(d->attempt, attempt);
    auto f = q.Nack(5, 1, now);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->dead_lettered, attempt == 3);
    now += 10;
  }
  EXPECT_FALSE(q.Take(1, now + 10'000));
  ASSERT_EQ(q.dlq().size(), 1u);
  EXPECT_EQ(q.dlq().at(5).attempts, 3u);
  EXPECT_EQ(q.ReplayDlq(std::nullopt), std::vector<uint64_t>{5});
  auto d = q.Take(1, now);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->attempt, 1u);  // replay gives fresh attempts
}

TEST(DeliveryQueueTest, UnavailableNackIsRedeliveredAfterItsDelayWithoutSpendingAnAttempt) {
  const DeliveryOptions o = Opts();  // max_attempts 3
  DeliveryQueue q(&o);
  q.Add(4);
  uint64_t now = 0;
  // Far more "unavailable" nacks than max_attempts: never dead-lettered.
  for (int i = 0; i < 10; ++i) {
    auto d = q.Take(1, now);
    ASSERT_TRUE(d) << i;
    EXPECT_EQ(d->attempt, 1u) << "an unavailable nack is not an attempt";
    auto f = q.Nack(4, /*delay_ms=*/20, now, DeliveryQueue::NackKind::kUnavailable);
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->dead_lettered);
    EXPECT_EQ(f->attempts, 0u);
    EXPECT_FALSE(q.Take(1, now + 19)) << "redelivered before its delay";
    now += 20;
  }
  EXPECT_TRUE(q.dlq().empty());
  // Real failures still count, and only they do.
  for (uint32_t attempt = 1; attempt <= 3; ++attempt) {
    auto d = q.Take(1, now);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->attempt, attempt);
    if (attempt == 2) {
      ASSERT_TRUE(q.Nack(4, 1, now, DeliveryQueue::NackKind::kUnavailable));
      now += 1;
      d = q.Take(1, now);
      ASSERT_TRUE(d);
      EXPECT_EQ(d->attempt, 2u);
    }
    auto f = q.Nack(4, 1, now);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->dead_lettered, attempt == 3);
    now += 1;
  }
  EXPECT_EQ(q.dlq().size(), 1u);
}

TEST(DeliveryQueueTest, DeadLetterNackMovesTheMessageToTheDlqAtOnce) {
  const DeliveryOptions o = Opts();
  DeliveryQueue q(&o);
  q.Add(6);
  q.Add(7);
  ASSERT_TRUE(q.Take(1, 0));
  auto f = q.Nack(6, /*delay_ms=*/0, 5, DeliveryQueue::NackKind::kDeadLetter);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->dead_lettered);
  EXPECT_EQ(f->attempts, 1u);
  EXPECT_EQ(f->holder, ConsumerId{1});
  ASSERT_EQ(q.dlq().size(), 1u);
  EXPECT_EQ(q.dlq().at(6).attempts, 1u);
  EXPECT_EQ(q.dlq().at(6).time_ms, 5u);
  EXPECT_EQ(q.Take(1, 10'000)->id, 7u);  // 6 is not redelivered
  EXPECT_FALSE(q.Take(1, 10'000));
  EXPECT_EQ(q.ReplayDlq(6), std::vector<uint64_t>{6});  // and an operator can replay it
  EXPECT_EQ(q.Take(1, 10'000)->id, 6u);
}

TEST(DeliveryQueueTest, ANacksOwnDelayIsCappedAtTheLargestBackoff) {
  const DeliveryOptions o = Opts();  // backoff_max_ms 350
  DeliveryQueue q(&o);
  q.Add(1);
  q.Add(2);
  ASSERT_TRUE(q.Take(1, 0));
  ASSERT_TRUE(q.Take(1, 0));
  ASSERT_TRUE(q.Nack(1, /*delay_ms=*/24ull * 3600 * 1000, 0));
  ASSERT_TRUE(
      q.Nack(2, /*delay_ms=*/24ull * 3600 * 1000, 0, DeliveryQueue::NackKind::kUnavailable));
  EXPECT_FALSE(q.Take(1, 349));
  EXPECT_EQ(q.Take(1, 350)->id, 1u);
  EXPECT_EQ(q.Take(1, 350)->id, 2u);
}

TEST(DeliveryQueueTest, DefaultBackoffGrowsToMinutes) {
  const DeliveryOptions o;  // the broker's defaults
  DeliveryQueue q(&o);
  EXPECT_EQ(q.BackoffMs(1), 1'000u);
  EXPECT_EQ(q.BackoffMs(10), 512'000u);
  EXPECT_EQ(q.BackoffMs(11), 600'000u);  // 10 minutes
  EXPECT_EQ(q.BackoffMs(16), 600'000u);
  uint64_t total = 0;
  for (uint32_t a = 1; a < o.max_attempts; ++a) total += q.BackoffMs(a);
  EXPECT_GT(total, 3600'000u) << "all attempts of a failing message span more than an hour";
}

TEST(DeliveryQueueTest, NackKindFollowsTheFrameFlags) {
  EXPECT_EQ(DeliveryQueue::NackKindFor(false, false), DeliveryQueue::NackKind::kFailed);
  EXPECT_EQ(DeliveryQueue::NackKindFor(false, true), DeliveryQueue::NackKind::kUnavailable);
  EXPECT_EQ(DeliveryQueue::NackKindFor(true, true), DeliveryQueue::NackKind::kDeadLetter);
}

TEST(DeliveryQueueTest, ConsumerGoneRequeuesOnlyItsOwnDeliveries) {
  const DeliveryOptions o = Opts();
  DeliveryQueue q(&o);
  for (uint64_t id = 1; id <= 4; ++id) q.Add(id);
  ASSERT_TRUE(q.Take(/*consumer=*/1, 0));  // 1
  ASSERT_TRUE(q.Take(2, 0));               // 2
  ASSERT_TRUE(q.Take(1, 0));               // 3
  auto gone = q.ConsumerGone(1, 5);
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone[0].first, 1u);
  EXPECT_EQ(gone[1].first, 3u);
  EXPECT_EQ(q.in_flight(), 1u);
  // Redeliveries come before fresh messages.
  EXPECT_EQ(q.Take(2, 5)->id, 1u);
  EXPECT_EQ(q.Take(2, 5)->id, 3u);
  EXPECT_EQ(q.Take(2, 5)->id, 4u);
}

TEST(DeliveryQueueTest, LateAckForATimedOutDeliveryStillCounts) {
  const DeliveryOptions o = Opts();
  DeliveryQueue q(&o);
  q.Add(9);
  ASSERT_TRUE(q.Take(1, 0));
  ASSERT_EQ(q.Expire(2000).size(), 1u);
  EXPECT_TRUE(q.Ack(9).known);
  EXPECT_FALSE(q.Take(1, 5000));
  EXPECT_EQ(q.unacked(), 0u);
}

TEST(DeliveryQueueTest, TwoGroupsAreIndependent) {
  const DeliveryOptions o = Opts();
  DeliveryQueue a(&o), b(&o);
  a.Add(1);
  b.Add(1);
  ASSERT_TRUE(a.Take(1, 0));
  EXPECT_TRUE(a.Ack(1).known);
  auto d = b.Take(2, 0);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->id, 1u);
}

}  // namespace
}  // namespace txmsg::broker
