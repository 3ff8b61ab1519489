// The rules of a half message's life, in one pure function: what a COMMIT,
// ROLLBACK or UNKNOWN does to a message in a given state, whoever sends it
// (the producer's EndTx, its answer to a check-back, or an operator).
//
//   PENDING   + COMMIT/ROLLBACK -> settled that way
//   DISCARDED + COMMIT/ROLLBACK -> settled that way (a late answer is still
//                                  the truth; an operator may resolve it)
//   settled   + the same outcome -> answered with the settled state, no change
//   settled   + the other outcome -> refused as a conflict, no change
//   any       + UNKNOWN          -> no change (stays pending)
#ifndef TXMSG_BROKER_STATE_TX_RULES_H_
#define TXMSG_BROKER_STATE_TX_RULES_H_

#include "txmsg/broker.pb.h"

namespace txmsg::broker {

enum class TxSource { kProducer, kCheckAnswer, kOperator };

struct TxDecision {
  enum class Kind {
    kApply,           // write the new state
    kAlreadySettled,  // repeated request: answer the settled state
    kConflict,        // settled the other way: refuse
    kNoChange,        // UNKNOWN: leave as it is
    kInvalid,         // not an outcome this source may send
  };
  Kind kind;
  wire::HalfState state;  // the state after the request
};

TxDecision DecideTx(wire::HalfState current, wire::TxOutcome requested, TxSource source);

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_STATE_TX_RULES_H_
