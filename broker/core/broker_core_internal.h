// The core's private structures (BrokerCore's state). Only broker_core.h and
// its .cc files use them.
#ifndef TXMSG_BROKER_CORE_BROKER_CORE_INTERNAL_H_
#define TXMSG_BROKER_CORE_BROKER_CORE_INTERNAL_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "broker/core/peer.h"
#include "broker/state/delivery_queue.h"
#include "txmsg/broker.pb.h"

namespace txmsg::broker::internal {

// Per live message: ~100 bytes plus its tx id while it is a half. The body
// stays in the log; `body_pos` finds it.
struct Message {
  uint64_t body_pos = 0;  // record holding the content (== id unless carried)
  uint64_t store_time_ms = 0;
  uint64_t commit_time_ms = 0;  // 0 until committed
  uint64_t next_check_ms = 0;   // PENDING: when the next check is due
  std::string tx_id;
  uint32_t topic = 0;           // index into topics_
  uint32_t producer_group = 0;  // interned name
  wire::HalfState state = wire::HALF_PENDING;
  // Decided but not yet durable (a TX_END on its way to the log): requests
  // in the meantime are judged against it and answered once it lands.
  wire::HalfState settling = wire::HALF_STATE_UNSPECIFIED;
  uint16_t checks = 0;
  uint16_t unacked_groups = 0;  // committed: groups that still owe an ack
  uint16_t pending_writes = 0;  // log records about it not yet durable
  bool plain = false;
  absl::InlinedVector<uint32_t, 2> acked_by;                    // group-topic indices
  std::unique_ptr<std::vector<std::function<void()>>> waiters;  // run when settled
  std::unique_ptr<std::deque<wire::CheckRecord>> history;       // checks sent
};

struct Topic {
  uint32_t name = 0;
  std::deque<uint64_t> commit_order;  // committed ids, oldest first (may hold dead ids)
  uint64_t committed = 0;             // live committed messages
  uint64_t pending_half = 0;
  std::vector<uint32_t> groups;  // group-topic indices
};

struct GroupTopic {
  GroupTopic(uint32_t i, uint32_t g, uint32_t t, const DeliveryOptions* o)
      : index(i), group(g), topic(t), queue(o) {}
  uint32_t index;  // in group_topics_
  uint32_t group;
  uint32_t topic;
  DeliveryQueue queue;
  std::vector<uint64_t> consumers;  // peer ids
  size_t rr = 0;
  uint64_t record_pos = 0;  // where its GROUP record is (for carrying it forward)
  uint64_t delivered = 0;
  uint64_t acked = 0;
};

struct Subscription {
  uint32_t gt;
  uint32_t max_unacked;
  uint32_t in_flight = 0;
};

struct PeerState {
  Peer* peer = nullptr;
  bool hello = false;
  wire::ClientRole role = wire::ROLE_UNSPECIFIED;
  uint32_t producer_group = 0;
  bool has_producer_group = false;
  std::string client_id;
  std::vector<Subscription> subs;
  Subscription* FindSub(uint32_t gt) {
    for (auto& s : subs) {
      if (s.gt == gt) return &s;
    }
    return nullptr;
  }
};

}  // namespace txmsg::broker::internal

#endif  // TXMSG_BROKER_CORE_BROKER_CORE_INTERNAL_H_
