#include "broker/state/tx_rules.h"

#include "gtest/gtest.h"

namespace txmsg::broker {
namespace {

using K = TxDecision::Kind;

TEST(TxRulesTest, PendingHalfIsSettledByCommitOrRollbackFromAnySource) {
  for (TxSource src : {TxSource::kProducer, TxSource::kCheckAnswer, TxSource::kOperator}) {
    EXPECT_EQ(DecideTx(wire::HALF_PENDING, wire::TX_COMMIT, src).kind, K::kApply);
    EXPECT_EQ(DecideTx(wire::HALF_PENDING, wire::TX_COMMIT, src).state, wire::HALF_COMMITTED);
    EXPECT_EQ(DecideTx(wire::HALF_PENDING, wire::TX_ROLLBACK, src).state, wire::HALF_ROLLED_BACK);
  }
}

TEST(TxRulesTest, UnknownLeavesAPendingHalfPending) {
  const TxDecision d = DecideTx(wire::HALF_PENDING, wire::TX_UNKNOWN, TxSource::kCheckAnswer);
  EXPECT_EQ(d.kind, K::kNoChange);
  EXPECT_EQ(d.state, wire::HALF_PENDING);
}

TEST(TxRulesTest, CommitAfterRollbackAndRollbackAfterCommitAreConflictsFromEverySource) {
  for (TxSource src : {TxSource::kProducer, TxSource::kCheckAnswer, TxSource::kOperator}) {
    EXPECT_EQ(DecideTx(wire::HALF_ROLLED_BACK, wire::TX_COMMIT, src).kind, K::kConflict);
    EXPECT_EQ(DecideTx(wire::HALF_COMMITTED, wire::TX_ROLLBACK, src).kind, K::kConflict);
    EXPECT_EQ(DecideTx(wire::HALF_COMMITTED, wire::TX_ROLLBACK, src).state, wire::HALF_COMMITTED);
  }
}

TEST(TxRulesTest, RepeatedOutcomeIsAnsweredWithTheSettledStateAndChangesNothing) {
  EXPECT_EQ(DecideTx(wire::HALF_COMMITTED, wire::TX_COMMIT, TxSource::kProducer).kind,
            K::kAlreadySettled);
  EXPECT_EQ(DecideTx(wire::HALF_ROLLED_BACK, wire::TX_ROLLBACK, TxSource::kCheckAnswer).kind,
            K::kAlreadySettled);
  EXPECT_EQ(DecideTx(wire::HALF_COMMITTED, wire::TX_UNKNOWN, TxSource::kCheckAnswer).kind,
            K::kAlreadySettled);
}

TEST(TxRulesTest, DiscardedHalfCanStillBeResolved) {
  EXPECT_EQ(DecideTx(wire::HALF_DISCARDED, wire::TX_COMMIT, TxSource::kOperator).kind, K::kApply);
  EXPECT_EQ(DecideTx(wire::HALF_DISCARDED, wire::TX_ROLLBACK, TxSource::kProducer).kind, K::kApply);
  EXPECT_EQ(DecideTx(wire::HALF_DISCARDED, wire::TX_UNKNOWN, TxSource::kCheckAnswer).kind,
            K::kNoChange);
}

TEST(TxRulesTest, OperatorMustNameAFinalOutcome) {
  EXPECT_EQ(DecideTx(wire::HALF_PENDING, wire::TX_UNKNOWN, TxSource::kOperator).kind, K::kInvalid);
  EXPECT_EQ(DecideTx(wire::HALF_PENDING, wire::TX_OUTCOME_UNSPECIFIED, TxSource::kProducer).kind,
            K::kInvalid);
}

}  // namespace
}  // namespace txmsg::broker
