#include "broker/state/half_table.h"

#include <vector>

#include "gtest/gtest.h"

namespace txmsg::broker {
namespace {

using DueCheck = HalfMessageTable::DueCheck;

MessageEntry Half(uint32_t topic, std::string tx_id = "tx", uint64_t store_time_ms = 0) {
  MessageEntry m;
  m.topic = topic;
  m.tx_id = std::move(tx_id);
  m.store_time_ms = store_time_ms;
  return m;
}

std::vector<uint64_t> OpenHalves(const HalfMessageTable& t) {
  std::vector<uint64_t> ids;
  t.ForEachOpenHalf([&](uint64_t id, const MessageEntry&) { ids.push_back(id); });
  return ids;
}

std::vector<uint64_t> Committed(HalfMessageTable& t, uint32_t topic) {
  std::vector<uint64_t> ids;
  t.ForEachCommitted(topic, [&](uint64_t id, const MessageEntry&) { ids.push_back(id); });
  return ids;
}

TEST(HalfMessageTableTest, NewHalfIsPendingOpenAndScheduledForItsFirstCheck) {
  HalfMessageTable t(10);
  MessageEntry& m = t.AddHalf(100, Half(0, "tx-a"), /*first_check_ms=*/6000);
  EXPECT_EQ(m.state(), wire::HALF_PENDING);
  EXPECT_EQ(m.next_check_ms(), 6000u);
  EXPECT_EQ(m.tx_id, "tx-a");
  EXPECT_EQ(t.pending(), 1u);
  EXPECT_EQ(t.pending_in(0), 1u);
  EXPECT_EQ(t.discarded(), 0u);
  EXPECT_EQ(OpenHalves(t), std::vector<uint64_t>{100});
  EXPECT_FALSE(t.NextDueCheck(5999));
  EXPECT_EQ(t.NextDueCheck(6000), (DueCheck{6000, 100}));
}

TEST(HalfMessageTableTest, DueChecksComeInDueThenIdOrderAndTheCursorWalksPastOnesLeftInPlace) {
  HalfMessageTable t(10);
  t.AddHalf(30, Half(0), 100);
  t.AddHalf(10, Half(0), 200);
  t.AddHalf(20, Half(0), 100);
  t.AddHalf(40, Half(0), 900);
  std::vector<uint64_t> due;
  for (auto c = t.NextDueCheck(500); c; c = t.NextDueCheck(500, c)) due.push_back(c->id);
  EXPECT_EQ(due, (std::vector<uint64_t>{20, 30, 10}));
  // Nothing was taken: the same checks are still due.
  EXPECT_EQ(t.NextDueCheck(500), (DueCheck{100, 20}));
}

TEST(HalfMessageTableTest, ScheduleCheckMovesTheOneCheckOfAHalf) {
  HalfMessageTable t(10);
  t.AddHalf(1, Half(0), 100);
  EXPECT_TRUE(t.ScheduleCheck(1, 700));
  EXPECT_EQ(t.scheduled_checks(), 1u);
  EXPECT_FALSE(t.NextDueCheck(699));
  EXPECT_EQ(t.NextDueCheck(700), (DueCheck{700, 1}));
  EXPECT_EQ(t.Find(1)->next_check_ms(), 700u);
  EXPECT_FALSE(t.ScheduleCheck(2, 700));  // unknown id
}

TEST(HalfMessageTableTest, CommitIsNotCheckedWhileOnItsWayAndCountsOnceDurable) {
  HalfMessageTable t(10);
  t.AddHalf(5, Half(2, "tx-5"), 100);
  ASSERT_TRUE(t.StartSettling(5, wire::HALF_COMMITTED));
  const MessageEntry& m = *t.Find(5);
  EXPECT_EQ(m.settling(), wire::HALF_COMMITTED);
  EXPECT_EQ(m.state(), wire::HALF_PENDING);  // not durable yet
  EXPECT_FALSE(t.NextDueCheck(1'000'000));
  EXPECT_FALSE(t.ScheduleCheck(5, 200));                     // settling: no checks
  EXPECT_FALSE(t.StartSettling(5, wire::HALF_ROLLED_BACK));  // one decision at a time

  EXPECT_EQ(t.FinishSettling(5, /*now_ms=*/1234), wire::HALF_PENDING);
  EXPECT_EQ(m.state(), wire::HALF_COMMITTED);
  EXPECT_FALSE(m.is_settling());
  EXPECT_EQ(m.commit_time_ms(), 1234u);
  EXPECT_TRUE(m.tx_id.empty());  // no longer needed
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_EQ(t.pending_in(2), 0u);
  EXPECT_EQ(t.committed(), 1u);
  EXPECT_EQ(t.committed_in(2), 1u);
  EXPECT_TRUE(OpenHalves(t).empty());
  EXPECT_EQ(Committed(t, 2), std::vector<uint64_t>{5});
  EXPECT_FALSE(t.FinishSettling(5, 2000));                   // nothing on its way any more
  EXPECT_FALSE(t.StartSettling(5, wire::HALF_ROLLED_BACK));  // settled
}

TEST(HalfMessageTableTest, AnOutcomeNotStoredLeavesTheHalfAsItWasAndChecksItAgain) {
  HalfMessageTable t(10);
  t.AddHalf(1, Half(0), 100);
  t.AddHalf(2, Half(0), 100);
  ASSERT_TRUE(t.Discard(2));
  ASSERT_TRUE(t.StartSettling(1, wire::HALF_ROLLED_BACK));
  ASSERT_TRUE(t.StartSettling(2, wire::HALF_COMMITTED));
  t.AbortSettling(1, 5000);
  t.AbortSettling(2, 5000);
  EXPECT_EQ(t.Find(1)->state(), wire::HALF_PENDING);
  EXPECT_FALSE(t.Find(1)->is_settling());
  EXPECT_EQ(t.NextDueCheck(5000), (DueCheck{5000, 1}));
  EXPECT_EQ(t.Find(2)->state(), wire::HALF_DISCARDED);
  EXPECT_FALSE(t.Find(2)->is_settling());
  EXPECT_EQ(t.scheduled_checks(), 1u);  // a discarded half is never checked
  EXPECT_EQ(OpenHalves(t), (std::vector<uint64_t>{1, 2}));
}

TEST(HalfMessageTableTest, DiscardedHalfIsNotCheckedButStaysOpenUntilResolved) {
  HalfMessageTable t(10);
  t.AddHalf(1, Half(3), 100);
  ASSERT_TRUE(t.Discard(1));
  EXPECT_FALSE(t.Discard(1));  // only a pending half
  EXPECT_EQ(t.Find(1)->state(), wire::HALF_DISCARDED);
  EXPECT_FALSE(t.NextDueCheck(1'000'000));
  EXPECT_FALSE(t.ScheduleCheck(1, 200));
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_EQ(t.pending_in(3), 0u);
  EXPECT_EQ(t.discarded(), 1u);
  EXPECT_EQ(OpenHalves(t), std::vector<uint64_t>{1});
  // A late answer or an operator still settles it.
  ASSERT_TRUE(t.StartSettling(1, wire::HALF_ROLLED_BACK));
  EXPECT_EQ(t.FinishSettling(1, 300), wire::HALF_DISCARDED);
  EXPECT_EQ(t.discarded(), 0u);
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_TRUE(OpenHalves(t).empty());
}

TEST(HalfMessageTableTest, DiscardIsRefusedWhileAnOutcomeIsOnItsWay) {
  HalfMessageTable t(10);
  t.AddHalf(1, Half(0), 100);
  ASSERT_TRUE(t.StartSettling(1, wire::HALF_COMMITTED));
  EXPECT_FALSE(t.Discard(1));
  EXPECT_EQ(t.pending(), 1u);
}

TEST(HalfMessageTableTest, ForgottenHalfIsRememberedAsSettledButAPlainMessageIsNot) {
  HalfMessageTable t(10);
  t.AddHalf(1, Half(0), 100);
  ASSERT_TRUE(t.StartSettling(1, wire::HALF_ROLLED_BACK));
  t.FinishSettling(1, 200);
  t.AddPlain(2, Half(0, ""), 300);
  EXPECT_FALSE(t.SettledState(1));  // live: not a memory yet
  t.Forget(1);
  t.Forget(2);
  EXPECT_FALSE(t.contains(1));
  EXPECT_FALSE(t.contains(2));
  EXPECT_EQ(t.SettledState(1), wire::HALF_ROLLED_BACK);
  EXPECT_FALSE(t.SettledState(2));
  EXPECT_FALSE(t.SettledState(3));  // never stored
  EXPECT_EQ(t.size(), 0u);
  t.Forget(1);  // twice: nothing happens
  EXPECT_EQ(t.settled_remembered(), 1u);
}

TEST(HalfMessageTableTest, SettledMemoryKeepsTheMostRecentlyForgotten) {
  HalfMessageTable t(/*settled_memory=*/2);
  for (uint64_t id = 1; id <= 3; ++id) {
    t.AddHalf(id, Half(0), 100);
    ASSERT_TRUE(t.StartSettling(id, wire::HALF_COMMITTED));
    t.FinishSettling(id, 100 + id);
    t.Forget(id);
  }
  EXPECT_FALSE(t.SettledState(1));
  EXPECT_EQ(t.SettledState(2), wire::HALF_COMMITTED);
  EXPECT_EQ(t.SettledState(3), wire::HALF_COMMITTED);
  EXPECT_EQ(t.settled_remembered(), 2u);
  EXPECT_EQ(t.committed(), 0u);
}

TEST(HalfMessageTableTest, PlainMessageIsCommittedAtOnceAndNeverOpen) {
  HalfMessageTable t(10);
  const MessageEntry& m = t.AddPlain(9, Half(1, ""), 4242);
  EXPECT_TRUE(m.plain);
  EXPECT_EQ(m.state(), wire::HALF_COMMITTED);
  EXPECT_EQ(m.commit_time_ms(), 4242u);
  EXPECT_EQ(t.committed_in(1), 1u);
  EXPECT_TRUE(OpenHalves(t).empty());
  EXPECT_EQ(t.scheduled_checks(), 0u);
  EXPECT_FALSE(t.StartSettling(9, wire::HALF_ROLLED_BACK));
}

TEST(HalfMessageTableTest, CommitOrderIsPerTopicOldestFirstAndSkipsForgottenMessages) {
  HalfMessageTable t(10);
  t.AddPlain(1, Half(0, ""), 10);
  t.AddPlain(2, Half(1, ""), 11);
  t.AddHalf(3, Half(0), 100);
  t.AddPlain(4, Half(0, ""), 12);
  ASSERT_TRUE(t.StartSettling(3, wire::HALF_COMMITTED));
  t.FinishSettling(3, 13);
  EXPECT_EQ(Committed(t, 0), (std::vector<uint64_t>{1, 4, 3}));
  EXPECT_EQ(Committed(t, 1), std::vector<uint64_t>{2});
  EXPECT_TRUE(Committed(t, 7).empty());  // a topic without messages
  EXPECT_EQ(t.OldestCommitted(0), 1u);
  t.Forget(1);
  t.Forget(4);
  EXPECT_EQ(t.OldestCommitted(0), 3u);
  EXPECT_EQ(Committed(t, 0), std::vector<uint64_t>{3});
  t.Forget(3);
  EXPECT_FALSE(t.OldestCommitted(0));
  EXPECT_FALSE(t.OldestCommitted(7));
  EXPECT_EQ(t.committed_in(0), 0u);
  EXPECT_EQ(t.committed(), 1u);
}

TEST(HalfMessageTableTest, CommitOrderStaysRightWhileForgottenIdsAreSqueezedOut) {
  HalfMessageTable t(10);
  t.AddPlain(1, Half(0, ""), 1);  // stays: pins the front of the commit order
  for (uint64_t id = 2; id < 5000; ++id) {
    t.AddPlain(id, Half(0, ""), id);
    t.Forget(id);
  }
  EXPECT_EQ(t.OldestCommitted(0), 1u);
  EXPECT_EQ(Committed(t, 0), std::vector<uint64_t>{1});
  EXPECT_EQ(t.committed(), 1u);
}

TEST(HalfMessageTableTest, RestoreRebuildsStatesScheduleAndCommitOrderFromTheLog) {
  HalfMessageTable t(10);
  // In log order: two halves, a plain message, outcomes, a discard, and a
  // carried copy of half 10 that replaces it.
  t.Restore(10, Half(0, "tx-10", 1000), wire::HALF_PENDING, 0);
  t.Restore(20, Half(0, "tx-20", 1100), wire::HALF_PENDING, 0);
  t.Restore(30, Half(0, "", 1200), wire::HALF_COMMITTED, 1200);
  t.Restore(40, Half(1, "tx-40", 1300), wire::HALF_PENDING, 0);
  t.Restore(50, Half(1, "tx-50", 1400), wire::HALF_PENDING, 0);
  EXPECT_TRUE(t.RestoreOutcome(20, wire::HALF_COMMITTED, 1150));
  EXPECT_TRUE(t.RestoreOutcome(40, wire::HALF_ROLLED_BACK, 1500));
  EXPECT_FALSE(t.RestoreOutcome(99, wire::HALF_COMMITTED, 1500));  // record gone
  t.RestoreDiscard(50);
  t.RestoreDiscard(20);  // only a pending half is discarded
  MessageEntry carried = Half(0, "tx-10", 1000);
  carried.body_pos = 60;
  t.Restore(10, std::move(carried), wire::HALF_PENDING, 0);

  const std::vector<uint64_t> committed = t.FinishRestore(/*now_ms=*/1200, /*tx_timeout_ms=*/500);
  EXPECT_EQ(committed, (std::vector<uint64_t>{20, 30}));  // by commit time
  EXPECT_EQ(Committed(t, 0), (std::vector<uint64_t>{20, 30}));
  EXPECT_TRUE(t.Find(20)->tx_id.empty());
  EXPECT_EQ(t.Find(10)->body_pos, 60u);
  EXPECT_EQ(t.NextDueCheck(1500), (DueCheck{1500, 10}));
  EXPECT_EQ(t.scheduled_checks(), 1u);
  EXPECT_EQ(OpenHalves(t), (std::vector<uint64_t>{10, 50}));
  EXPECT_EQ(t.pending(), 1u);
  EXPECT_EQ(t.discarded(), 1u);
  EXPECT_EQ(t.committed(), 2u);
  EXPECT_FALSE(t.contains(40));  // rolled back: forgotten, but remembered
  EXPECT_EQ(t.SettledState(40), wire::HALF_ROLLED_BACK);
}

TEST(HalfMessageTableTest, ForgetTopicDropsItsMessagesAndCountsLiveAndWhileRestoring) {
  HalfMessageTable live(10);
  live.AddPlain(10, Half(0, ""), 100);
  live.AddHalf(20, Half(1), 500);
  live.AddPlain(30, Half(0, ""), 200);
  EXPECT_EQ(live.ForgetTopic(0), 2u);
  EXPECT_EQ(live.committed(), 0u);
  EXPECT_EQ(live.committed_in(0), 0u);
  EXPECT_TRUE(Committed(live, 0).empty());
  EXPECT_FALSE(live.OldestCommitted(0));
  EXPECT_EQ(live.pending_in(1), 1u);  // another topic's half stays
  // Its index serves a new topic, from an empty start.
  live.AddPlain(40, Half(0, ""), 300);
  EXPECT_EQ(Committed(live, 0), std::vector<uint64_t>{40});

  HalfMessageTable restored(10);
  restored.Restore(10, Half(0, "tx-10"), wire::HALF_PENDING, 0);
  restored.RestoreOutcome(10, wire::HALF_COMMITTED, 150);
  restored.Restore(20, Half(0, ""), wire::HALF_COMMITTED, 160);
  restored.Restore(30, Half(1, ""), wire::HALF_COMMITTED, 170);
  restored.Restore(50, Half(1, ""), wire::HALF_COMMITTED, 180);
  EXPECT_EQ(restored.ForgetTopic(0), 2u);
  restored.RestoreForget(50);  // a FORGET record
  EXPECT_EQ(restored.FinishRestore(1000, 500), std::vector<uint64_t>{30});
  EXPECT_EQ(restored.committed(), 1u);
  EXPECT_EQ(restored.committed_in(0), 0u);
  EXPECT_EQ(restored.SettledState(10), wire::HALF_COMMITTED);  // a late EndTx is answered
}

TEST(HalfMessageTableTest, AClockSetBackSinceTheStoreDoesNotPostponeTheFirstCheck) {
  HalfMessageTable t(10);
  constexpr uint64_t kDay = 24ull * 3600 * 1000;
  t.Restore(10, Half(0, "tx-10", 10 * kDay), wire::HALF_PENDING, 0);  // stored at day 10
  t.Restore(20, Half(0, "tx-20", 10 * kDay - 6'000), wire::HALF_PENDING, 0);
  t.FinishRestore(/*now_ms=*/9 * kDay, /*tx_timeout_ms=*/6'000);  // the clock is a day behind
  EXPECT_EQ(t.NextDueCheck(9 * kDay + 6'000), (DueCheck{9 * kDay + 6'000, 10}));
  // A half long overdue by the clock it was stored with is checked at once.
  HalfMessageTable late(10);
  late.Restore(30, Half(0, "tx-30", 1'000), wire::HALF_PENDING, 0);
  late.FinishRestore(/*now_ms=*/50'000, /*tx_timeout_ms=*/6'000);
  EXPECT_EQ(late.NextDueCheck(50'000), (DueCheck{50'000, 30}));
}

}  // namespace
}  // namespace txmsg::broker
