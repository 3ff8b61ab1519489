// Integration tests: the real txmsg-broker binary on a loopback port, driven
// through the client SDK: transactions, check-backs, delivery, restarts.
#include <filesystem>
#include <set>
#include <thread>

#include "tests/broker/broker_test_fixture.h"

namespace txmsg::testing_broker {
namespace {

TEST_F(BrokerTest, CommittedHalfIsDeliveredAndRolledBackHalfNeverIs) {
  StartBroker();
  Inbox inbox;
  auto consumer = Subscribe(inbox);
  auto producer = Producer();
  ASSERT_OK_AND_ASSIGN(uint64_t a, producer->SendHalf(Msg("commit-me"), "tx-a"));
  ASSERT_OK_AND_ASSIGN(uint64_t b, producer->SendHalf(Msg("roll-me-back"), "tx-b"));
  ASSERT_OK_AND_ASSIGN(EndTxResult ra, producer->EndTx(a, "tx-a", TxOutcome::kCommit));
  EXPECT_TRUE(ra.applied);
  EXPECT_EQ(ra.state, HalfState::kCommitted);
  ASSERT_OK_AND_ASSIGN(EndTxResult rb, producer->EndTx(b, "tx-b", TxOutcome::kRollback));
  EXPECT_EQ(rb.state, HalfState::kRolledBack);
  ASSERT_TRUE(inbox.WaitFor("commit-me"));
  Barrier(*producer, inbox);
  EXPECT_EQ(inbox.Count("roll-me-back"), 0u);
  EXPECT_EQ(inbox.Count("commit-me"), 1u);
}

TEST_F(BrokerTest, HalfIsInvisibleUntilCommitted) {
  StartBroker();
  Inbox inbox;
  auto consumer = Subscribe(inbox);
  auto producer = Producer();
  ASSERT_OK_AND_ASSIGN(uint64_t id, producer->SendHalf(Msg("later"), "tx-1"));
  Barrier(*producer, inbox);
  EXPECT_EQ(inbox.Count("later"), 0u);
  ASSERT_OK(producer->EndTx(id, "tx-1", TxOutcome::kCommit));
  EXPECT_TRUE(inbox.WaitFor("later"));
}

TEST_F(BrokerTest, EveryGroupGetsEveryMessageAndConsumersOfOneGroupShareThem) {
  StartBroker();
  Inbox a1, a2, b;
  auto c1 = Subscribe(a1, "group-a", "t", 4);
  auto c2 = Subscribe(a2, "group-a", "t", 4);
  auto c3 = Subscribe(b, "group-b", "t", 4);
  auto producer = Producer();
  for (int i = 0; i < 40; ++i) ASSERT_OK(producer->Send(Msg("m" + std::to_string(i), "t")));
  ASSERT_TRUE(WaitFor([&] { return b.size() == 40 && a1.size() + a2.size() == 40; }));
  std::set<std::string> group_a;
  for (const auto& d : a1.all()) group_a.insert(d.message.body);
  for (const auto& d : a2.all()) group_a.insert(d.message.body);
  EXPECT_EQ(group_a.size(), 40u);
  EXPECT_GT(a1.size(), 0u);
  EXPECT_GT(a2.size(), 0u);
}

TEST_F(BrokerTest, RepeatedEndTxIsAnsweredAndTheOppositeOutcomeIsRefused) {
  StartBroker();
  auto producer = Producer();
  ASSERT_OK_AND_ASSIGN(uint64_t id, producer->SendHalf(Msg("x"), "tx-x"));
  ASSERT_OK_AND_ASSIGN(EndTxResult first, producer->EndTx(id, "tx-x", TxOutcome::kCommit));
  EXPECT_TRUE(first.applied);
  ASSERT_OK_AND_ASSIGN(EndTxResult again, producer->EndTx(id, "tx-x", TxOutcome::kCommit));
  EXPECT_FALSE(again.applied);
  EXPECT_EQ(again.state, HalfState::kCommitted);
  auto conflict = producer->EndTx(id, "tx-x", TxOutcome::kRollback);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAborted) << conflict.status();
  // Rolled back, then an operator tries to commit: refused too.
  ASSERT_OK_AND_ASSIGN(uint64_t id2, producer->SendHalf(Msg("y"), "tx-y"));
  ASSERT_OK(producer->EndTx(id2, "tx-y", TxOutcome::kRollback));
  wire::Frame resolve;
  resolve.mutable_resolve_half()->set_message_id(id2);
  resolve.mutable_resolve_half()->set_outcome(wire::TX_COMMIT);
  auto r = Admin()->Call(resolve);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  // Unknown ids and wrong tx ids are errors, not crashes.
  EXPECT_EQ(producer->EndTx(123456789, "tx-z", TxOutcome::kCommit).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(uint64_t id3, producer->SendHalf(Msg("z"), "tx-z"));
  EXPECT_EQ(producer->EndTx(id3, "not-tx-z", TxOutcome::kCommit).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_GE(Stats().connections(), 1u);  // still serving
}

TEST_F(BrokerTest, CheckBackResolvesAHalfWhoseProducerDiedAfterItsLocalTransaction) {
  StartBroker({"--tx_timeout=150ms", "--check_interval=150ms"});
  Inbox inbox;
  auto consumer = Subscribe(inbox);
  absl::Mutex mu;
  std::set<std::string> tx_log;  // what the local transactions committed
  std::vector<uint64_t> asked;
  auto handler = [&](const CheckRequest& req) {
    absl::MutexLock lock(&mu);
    asked.push_back(req.message_id);
    return tx_log.contains(req.tx_id) ? TxOutcome::kCommit : TxOutcome::kRollback;
  };
  uint64_t id = 0;
  {
    auto dying = Producer(handler);
    ASSERT_OK_AND_ASSIGN(id, dying->SendHalf(Msg("orphan"), "tx-orphan"));
    absl::MutexLock lock(&mu);
    tx_log.insert("tx-orphan");  // local transaction committed; EndTx never sent
  }
  auto survivor = Producer(handler);
  ASSERT_TRUE(inbox.WaitFor("orphan"));
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(std::count(asked.begin(), asked.end(), id), 1);
  }
  // Consumed by its only group, it is no longer retained, but its outcome is
  // remembered for a late EndTx and for the operator.
  // (Once the consumer's ack has reached the broker: delivery comes first.)
  wire::Frame show;
  show.mutable_show_half()->set_message_id(id);
  auto admin = Admin();
  absl::StatusOr<wire::Frame> shown = admin->Call(show);
  ASSERT_TRUE(WaitFor([&] {
    shown = admin->Call(show);
    return !shown.ok();
  }));
  EXPECT_NE(shown.status().message().find("COMMITTED"), std::string_view::npos) << shown.status();
  auto late = survivor->EndTx(id, "tx-orphan", TxOutcome::kCommit);
  ASSERT_OK(late);
  EXPECT_FALSE(late->applied);
  EXPECT_EQ(late->state, HalfState::kCommitted);
}

TEST_F(BrokerTest, HalfIsDiscardedAfterMaxChecksAndChecksDoNotGrowTheLog) {
  StartBroker({"--tx_timeout=100ms", "--check_interval=100ms", "--max_checks=4"});
  Inbox inbox;
  auto consumer = Subscribe(inbox);
  std::atomic<int> checks{0};
  auto producer = Producer([&](const CheckRequest&) {
    ++checks;
    return TxOutcome::kUnknown;
  });
  ASSERT_OK_AND_ASSIGN(uint64_t id, producer->SendHalf(Msg("undecided"), "tx-u"));
  ASSERT_TRUE(WaitFor([&] { return checks >= 1; }));
  const uint64_t bytes_after_first = Stats().log_bytes();
  ASSERT_TRUE(WaitFor([&] { return checks >= 3; }));
  EXPECT_EQ(Stats().log_bytes(), bytes_after_first) << "a check-back must not append to the log";
  ASSERT_TRUE(WaitFor([&] {
    auto h = Half(id);
    return h && h->state() == wire::HALF_DISCARDED;
  }));
  EXPECT_EQ(checks.load(), 4);
  EXPECT_EQ(Half(id)->checks(), 4u);
  EXPECT_EQ(Half(id)->check_history_size(), 4);
  Barrier(*producer, inbox);
  EXPECT_EQ(inbox.Count("undecided"), 0u);
  // An operator resolves it: delivered.
  wire::Frame resolve;
  resolve.mutable_resolve_half()->set_message_id(id);
  resolve.mutable_resolve_half()->set_outcome(wire::TX_COMMIT);
  ASSERT_OK(Admin()->Call(resolve));
  EXPECT_TRUE(inbox.WaitFor("undecided"));
}

TEST_F(BrokerTest, NoLiveProducerMeansNoCheckAndNoCountAndSettledHalvesAreNeverChecked) {
  StartBroker({"--tx_timeout=100ms", "--check_interval=100ms", "--max_checks=100"});
  uint64_t orphan = 0;
  {
    auto gone = Producer(nullptr, "group-without-producers");
    ASSERT_OK_AND_ASSIGN(orphan, gone->SendHalf(Msg("orphan"), "tx-o"));
  }
  absl::Mutex mu;
  std::vector<uint64_t> asked;
  auto producer = Producer([&](const CheckRequest& r) {
    absl::MutexLock lock(&mu);
    asked.push_back(r.message_id);
    return TxOutcome::kUnknown;
  });
  ASSERT_OK_AND_ASSIGN(uint64_t settled, producer->SendHalf(Msg("settled"), "tx-s"));
  ASSERT_OK(producer->EndTx(settled, "tx-s", TxOutcome::kCommit));
  ASSERT_OK_AND_ASSIGN(uint64_t clock, producer->SendHalf(Msg("clock"), "tx-c"));
  // The clock half being checked 3 times means 3 check intervals passed.
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&mu);
    return std::count(asked.begin(), asked.end(), clock) >= 3;
  }));
  EXPECT_EQ(Half(orphan)->checks(), 0u);
  EXPECT_EQ(Half(orphan)->state(), wire::HALF_PENDING);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(std::count(asked.begin(), asked.end(), settled), 0);
}

TEST_F(BrokerTest, MessageIsRedeliveredAfterItsConsumerDiesWithoutAcking) {
  StartBroker();
  std::atomic<int> got_first{0};
  {
    ConsumerOptions o{Client(), "topic_txmsg", "tx_stock_group", 8};
    Consumer silent(o, [&](Delivery, std::function<void(ConsumeResult)>) { ++got_first; });
    ASSERT_OK(silent.Start());
    auto producer = Producer();
    ASSERT_OK(producer->Send(Msg("unacked")));
    ASSERT_TRUE(WaitFor([&] { return got_first == 1; }));
  }  // the consumer dies holding it
  Inbox inbox;
  auto second = Subscribe(inbox);
  ASSERT_TRUE(inbox.WaitFor("unacked"));
  EXPECT_EQ(inbox.all()[0].attempt, 2u);
}

TEST_F(BrokerTest, UnackedDeliveryIsRedeliveredAfterTheAckTimeout) {
  StartBroker({"--ack_timeout=200ms"});
  absl::Mutex mu;
  std::vector<uint32_t> attempts;
  ConsumerOptions o{Client(), "topic_txmsg", "g", 8};
  Consumer slow(o, [&](Delivery d, std::function<void(ConsumeResult)> done) {
    absl::MutexLock lock(&mu);
    attempts.push_back(d.attempt);
    if (d.attempt >= 2) done(ConsumeResult::Success());  // the first one is "lost"
  });
  ASSERT_OK(slow.Start());
  auto producer = Producer();
  ASSERT_OK(producer->Send(Msg("slow")));
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&mu);
    return attempts.size() >= 2;
  }));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(attempts[0], 1u);
  EXPECT_EQ(attempts[1], 2u);
}

TEST_F(BrokerTest, CreditIsNeverExceeded) {
  StartBroker();
  absl::Mutex mu;
  std::vector<std::function<void(ConsumeResult)>> held;
  size_t max_held = 0;
  ConsumerOptions o{Client(), "topic_txmsg", "g", 3};
  Consumer consumer(o, [&](Delivery, std::function<void(ConsumeResult)> done) {
    absl::MutexLock lock(&mu);
    held.push_back(std::move(done));
    max_held = std::max(max_held, held.size());
  });
  ASSERT_OK(consumer.Start());
  auto producer = Producer();
  for (int i = 0; i < 10; ++i) ASSERT_OK(producer->Send(Msg("c" + std::to_string(i))));
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&mu);
    return held.size() == 3;
  }));
  // The broker knows all 10 and still holds 7 back.
  wire::Frame groups;
  groups.mutable_list_groups();
  auto r = Admin()->Call(groups);
  ASSERT_OK(r);
  ASSERT_EQ(r->list_groups_ok().groups_size(), 1);
  EXPECT_EQ(r->list_groups_ok().groups(0).in_flight(), 3u);
  EXPECT_EQ(r->list_groups_ok().groups(0).lag(), 10u);
  int done_count = 0;
  while (done_count < 10) {
    std::vector<std::function<void(ConsumeResult)>> batch;
    ASSERT_TRUE(WaitFor([&] {
      absl::MutexLock lock(&mu);
      return !held.empty();
    }));
    {
      absl::MutexLock lock(&mu);
      batch.swap(held);
    }
    for (auto& d : batch) d(ConsumeResult::Success());
    done_count += static_cast<int>(batch.size());
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(max_held, 3u);
}

TEST_F(BrokerTest, NackedMessageGoesToTheDlqAfterMaxAttemptsAndCanBeReplayed) {
  StartBroker({"--max_attempts=3", "--redelivery_backoff=10ms"});
  absl::Mutex mu;
  std::vector<uint32_t> attempts;
  std::atomic<bool> accept{false};
  ConsumerOptions o{Client(), "topic_txmsg", "g", 8};
  Consumer consumer(o, [&](const Delivery& d) {
    absl::MutexLock lock(&mu);
    attempts.push_back(d.attempt);
    return accept ? ConsumeResult::Success() : ConsumeResult::RetryLater();
  });
  ASSERT_OK(consumer.Start());
  auto producer = Producer();
  ASSERT_OK_AND_ASSIGN(uint64_t id, producer->Send(Msg("poison")));
  auto admin = Admin();
  wire::Frame list;
  list.mutable_list_dlq()->set_group("g");
  ASSERT_TRUE(WaitFor([&] {
    auto r = admin->Call(list);
    return r.ok() && r->list_dlq_ok().entries_size() == 1;
  }));
  EXPECT_EQ(admin->Call(list)->list_dlq_ok().entries(0).message_id(), id);
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(attempts, (std::vector<uint32_t>{1, 2, 3}));
  }
  accept = true;
  wire::Frame replay;
  replay.mutable_replay_dlq()->set_group("g");
  ASSERT_OK_AND_ASSIGN(wire::Frame replayed, admin->Call(replay));
  EXPECT_EQ(replayed.replay_dlq_ok().replayed(), 1u);
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&mu);
    return attempts.size() == 4;
  }));
  ASSERT_TRUE(WaitFor([&] {
    auto r = admin->Call(list);
    return r.ok() && r->list_dlq_ok().entries_size() == 0;
  }));
}

TEST_F(BrokerTest, Kill9LosesNothingAcknowledgedAndClientsReconnect) {
  StartBroker({"--tx_timeout=300ms", "--check_interval=300ms"});
  absl::Mutex mu;
  std::set<std::string> tx_log;
  auto producer = Producer([&](const CheckRequest& r) {
    absl::MutexLock lock(&mu);
    return tx_log.contains(r.tx_id) ? TxOutcome::kCommit : TxOutcome::kUnknown;
  });
  Inbox inbox;
  auto consumer = Subscribe(inbox);
  // Acked before the crash: must not come back.
  for (int i = 0; i < 5; ++i) {
    auto r =
        producer->ExecuteTransaction(Msg("early" + std::to_string(i)), "tx-e" + std::to_string(i),
                                     [](uint64_t) { return TxOutcome::kCommit; });
    ASSERT_OK(r);
    ASSERT_OK(r->end_tx);
  }
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(inbox.WaitFor("early" + std::to_string(i)));
  ASSERT_TRUE(WaitFor([&] { return AllAcked("tx_stock_group"); }));
  consumer.reset();
  // Committed while no consumer is there, one rolled back, one pending whose
  // local transaction did commit.
  for (int i = 0; i < 5; ++i) {
    auto r =
        producer->ExecuteTransaction(Msg("late" + std::to_string(i)), "tx-l" + std::to_string(i),
                                     [](uint64_t) { return TxOutcome::kCommit; });
    ASSERT_OK(r);
  }
  ASSERT_OK(producer->ExecuteTransaction(Msg("rolled"), "tx-r",
                                         [](uint64_t) { return TxOutcome::kRollback; }));
  ASSERT_OK(producer->SendHalf(Msg("pending"), "tx-p"));
  {
    absl::MutexLock lock(&mu);
    tx_log.insert("tx-p");
  }
  ASSERT_TRUE(broker_->Restart());
  ASSERT_TRUE(WaitFor([&] { return producer->connected(); }));
  consumer = Subscribe(inbox);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(inbox.WaitFor("late" + std::to_string(i)));
  EXPECT_TRUE(inbox.WaitFor("pending"));  // resolved by a check-back after the restart
  Barrier(*producer, inbox);
  EXPECT_EQ(inbox.Count("rolled"), 0u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(inbox.Count("early" + std::to_string(i)), 1u);
  // And again, with the consumer connected across the crash.
  ASSERT_OK(producer->Send(Msg("before-second-crash")));
  ASSERT_TRUE(inbox.WaitFor("before-second-crash"));
  ASSERT_TRUE(WaitFor([&] { return AllAcked("tx_stock_group"); }));
  ASSERT_OK(producer->SendHalf(Msg("sync-point"), "tx-sync"));  // the ack is durable behind it
  ASSERT_TRUE(broker_->Restart());
  ASSERT_TRUE(WaitFor([&] { return producer->connected() && consumer->subscribed(); }));
  Barrier(*producer, inbox);
  EXPECT_EQ(inbox.Count("before-second-crash"), 1u);
}

TEST_F(BrokerTest, LiveRecordsAreCarriedForwardSoOldSegmentsGoAndSurviveKill9) {
  StartBroker({"--segment_size=4096", "--tx_timeout=1h"});
  auto producer = Producer();
  // A half nobody settles, and a message group "slow" never consumes.
  ASSERT_OK_AND_ASSIGN(uint64_t half, producer->SendHalf(Msg("long-pending"), "tx-long"));
  Inbox fast_inbox, slow_inbox;
  auto fast = Subscribe(fast_inbox, "fast");
  {
    auto slow = Subscribe(slow_inbox, "slow", "topic_txmsg", 1);
  }  // "slow" is known to the broker but has nobody consuming
  ASSERT_OK(producer->Send(Msg("half-consumed")));
  ASSERT_TRUE(fast_inbox.WaitFor("half-consumed"));
  // Push the log through many segments while "fast" keeps up.
  for (int i = 0; i < 300; ++i)
    ASSERT_OK(producer->Send(Msg("filler-" + std::to_string(i), "other")));
  Inbox other;
  auto drain = Subscribe(other, "drain", "other");
  ASSERT_TRUE(WaitFor([&] { return other.size() == 300; }));
  // The first segments go even though they held live records.
  ASSERT_TRUE(WaitFor([&] {
    auto files = std::filesystem::directory_iterator(tmp_.File("data"));
    return std::none_of(
        std::filesystem::begin(files), std::filesystem::end(files),
        [](const auto& e) { return e.path().filename() == "00000000000000000000.log"; });
  }));
  EXPECT_LT(Stats().segments(), 10u);
  fast.reset();
  drain.reset();
  ASSERT_TRUE(broker_->Restart());
  auto h = Half(half);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->state(), wire::HALF_PENDING);
  EXPECT_EQ(h->content().body(), "long-pending");
  ASSERT_TRUE(WaitFor([&] { return producer->connected(); }));
  ASSERT_OK(producer->EndTx(half, "tx-long", TxOutcome::kCommit));
  Inbox slow_again, fast_again;
  auto slow = Subscribe(slow_again, "slow");
  auto fast2 = Subscribe(fast_again, "fast");
  EXPECT_TRUE(slow_again.WaitFor("half-consumed"));  // never acked by "slow"
  EXPECT_TRUE(slow_again.WaitFor("long-pending"));
  EXPECT_TRUE(fast_again.WaitFor("long-pending"));
  Barrier(*producer, fast_again);
  EXPECT_EQ(fast_again.Count("half-consumed"), 0u);  // "fast" acked it before the crash
}

TEST_F(BrokerTest, SigtermStopsCleanly) {
  StartBroker();
  auto producer = Producer();
  ASSERT_OK(producer->Send(Msg("x")));
  const int status = broker_->Terminate();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace txmsg::testing_broker
