// Conversions between the SDK's public types and the wire protocol.
#ifndef TXMSG_CLIENT_CONVERT_H_
#define TXMSG_CLIENT_CONVERT_H_

#include "txmsg/broker.pb.h"
#include "txmsg/types.h"

namespace txmsg::internal {

inline void ToWire(Message m, wire::MessageContent* out) {
  out->set_topic(std::move(m.topic));
  out->set_key(std::move(m.key));
  for (auto& [k, v] : m.properties) (*out->mutable_properties())[k] = std::move(v);
  out->set_body(std::move(m.body));
}

inline Message FromWire(wire::MessageContent* c) {
  Message m;
  m.topic = std::move(*c->mutable_topic());
  m.key = std::move(*c->mutable_key());
  for (auto& [k, v] : *c->mutable_properties()) m.properties[k] = std::move(v);
  m.body = std::move(*c->mutable_body());
  return m;
}

inline wire::TxOutcome ToWire(TxOutcome o) {
  switch (o) {
    case TxOutcome::kCommit:
      return wire::TX_COMMIT;
    case TxOutcome::kRollback:
      return wire::TX_ROLLBACK;
    default:
      return wire::TX_UNKNOWN;
  }
}

inline HalfState FromWire(wire::HalfState s) {
  switch (s) {
    case wire::HALF_COMMITTED:
      return HalfState::kCommitted;
    case wire::HALF_ROLLED_BACK:
      return HalfState::kRolledBack;
    case wire::HALF_DISCARDED:
      return HalfState::kDiscarded;
    default:
      return HalfState::kPending;
  }
}

}  // namespace txmsg::internal

#endif  // TXMSG_CLIENT_CONVERT_H_
