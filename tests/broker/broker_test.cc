// Integration tests: the real txmsg-broker binary on a loopback port, driven
// through the client SDK: the wiring of transactions and delivery, the flags,
// kill -9 and restarts. The broker's rules themselves are tested in-process,
// on a manual clock, in tests/broker/core/.
#include <atomic>
#include <chrono>
#include <set>

#include "tests/broker/broker_test_fixture.h"

namespace txmsg::testing_broker {
namespace {

// The real broker process: transactions, delivery, flags and restarts.
class BrokerTest : public BrokerProcessTest {};

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
  // The broker's answers reach the SDK as statuses (the rules themselves are
  // tested in-process, tests/broker/core/transactions_test.cc).
  ASSERT_OK_AND_ASSIGN(EndTxResult again, producer->EndTx(a, "tx-a", TxOutcome::kCommit));
  EXPECT_FALSE(again.applied);
  EXPECT_EQ(producer->EndTx(a, "tx-a", TxOutcome::kRollback).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(producer->EndTx(123456789, "tx-z", TxOutcome::kCommit).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(uint64_t c, producer->SendHalf(Msg("z"), "tx-z"));
  EXPECT_EQ(producer->EndTx(c, "not-tx-z", TxOutcome::kCommit).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The rules behind these flags are tested in-process on a manual clock
// (tests/broker/core); this checks that the binary hands each flag on.
TEST_F(BrokerTest, TimeoutAndRetryFlagsReachTheCore) {
  StartBroker({"--tx_timeout=100ms", "--check_interval=100ms", "--max_checks=2",
               "--ack_timeout=200ms", "--max_attempts=2", "--redelivery_backoff=10ms"});
  std::atomic<int> checks{0};
  auto producer = Producer([&](const CheckRequest&) {
    ++checks;
    return TxOutcome::kUnknown;
  });
  ASSERT_OK_AND_ASSIGN(uint64_t half, producer->SendHalf(Msg("undecided"), "tx-u"));
  // Never completes a delivery: redelivered after the ack timeout, then dead-lettered.
  std::atomic<int> silent_got{0};
  Consumer silent(ConsumerOptions{Client(), "topic_txmsg", "silent", 8},
                  [&](Delivery, std::function<void(ConsumeResult)>) { ++silent_got; });
  // Refuses every delivery: redelivered after the backoff, then dead-lettered.
  absl::Mutex mu;
  std::vector<std::chrono::steady_clock::time_point> refused;
  Consumer refusing(ConsumerOptions{Client(), "topic_txmsg", "refusing", 8}, [&](const Delivery&) {
    absl::MutexLock lock(&mu);
    refused.push_back(std::chrono::steady_clock::now());
    return ConsumeResult::RetryLater();
  });
  ASSERT_OK(silent.Start());
  ASSERT_OK(refusing.Start());
  ASSERT_OK(producer->Send(Msg("never-acked")));
  auto admin = Admin();
  auto dlq_size = [&](const std::string& group) {
    wire::Frame f;
    f.mutable_list_dlq()->set_group(group);
    absl::StatusOr<wire::Frame> r = admin->Call(f);
    return r.ok() ? r->list_dlq_ok().entries_size() : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return dlq_size("silent") == 1 && dlq_size("refusing") == 1; }));
  EXPECT_EQ(silent_got.load(), 2);  // --max_attempts=2, the second after --ack_timeout
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(refused.size(), 2u);
    EXPECT_LT(refused[1] - refused[0], 900ms)
        << "the default backoff (1 s), not --redelivery_backoff";
  }
  ASSERT_TRUE(WaitFor([&] {
    std::optional<wire::HalfInfo> h = Half(half);
    return h && h->state() == wire::HALF_DISCARDED;
  }));
  EXPECT_EQ(checks.load(), 2);  // --max_checks=2
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

TEST_F(BrokerTest, SigtermStopsCleanly) {
  StartBroker();
  auto producer = Producer();
  ASSERT_OK(producer->Send(Msg("x")));
  const int status = broker_->Terminate();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace txmsg::testing_broker
