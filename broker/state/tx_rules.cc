#include "broker/state/tx_rules.h"

namespace txmsg::broker {

TxDecision DecideTx(wire::HalfState current, wire::TxOutcome requested, TxSource source) {
  using K = TxDecision::Kind;
  const bool open = current == wire::HALF_PENDING || current == wire::HALF_DISCARDED;
  if (requested == wire::TX_UNKNOWN) {
    if (source == TxSource::kOperator) return {K::kInvalid, current};
    return {open ? K::kNoChange : K::kAlreadySettled, current};
  }
  if (requested != wire::TX_COMMIT && requested != wire::TX_ROLLBACK) {
    return {K::kInvalid, current};
  }
  const wire::HalfState target =
      requested == wire::TX_COMMIT ? wire::HALF_COMMITTED : wire::HALF_ROLLED_BACK;
  if (open) return {K::kApply, target};
  if (current == target) return {K::kAlreadySettled, current};
  return {K::kConflict, current};
}

}  // namespace txmsg::broker
