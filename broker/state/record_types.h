// Record type bytes of the broker's log records (payloads in records.proto).
#ifndef TXMSG_BROKER_STATE_RECORD_TYPES_H_
#define TXMSG_BROKER_STATE_RECORD_TYPES_H_

#include <cstdint>

namespace txmsg::broker {

enum class RecordType : uint8_t {
  kHalf = 1,          // StoredMessage: a half message; its position is its id
  kPlain = 2,         // StoredMessage: a plain message, committed at once
  kTxEnd = 3,         // StoredTxEnd
  kDiscard = 4,       // StoredDiscard
  kAck = 5,           // StoredAck
  kDlq = 6,           // StoredDlq
  kDlqReplay = 7,     // StoredDlqReplay
  kGroup = 8,         // StoredGroup
  kCarried = 9,       // StoredMessage with its state: a live message moved forward
  kCheck = 10,        // StoredCheck: a check-back was due (sent, or nobody to ask)
  kDeleteTopic = 11,  // StoredDeleteTopic: an operator deleted a topic
  kDeleteGroup = 12,  // StoredDeleteGroup: an operator deleted a group's subscription
  kForget = 13,       // StoredForget: committed messages nobody needs any more
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_STATE_RECORD_TYPES_H_
