// How a half message's state (wire::HalfState) is written for people: the
// one spelling used by the broker's event log and error messages and by
// txmsgctl's tables and --json output.
#ifndef TXMSG_PROTO_HALF_STATE_H_
#define TXMSG_PROTO_HALF_STATE_H_

#include "txmsg/broker.pb.h"

namespace txmsg::proto {

// "pending", "committed", "rolled_back" or "discarded"; "unknown" for any
// other value (HALF_STATE_UNSPECIFIED, or one from a newer protocol).
const char* HalfStateLabel(wire::HalfState state);

}  // namespace txmsg::proto

#endif  // TXMSG_PROTO_HALF_STATE_H_
