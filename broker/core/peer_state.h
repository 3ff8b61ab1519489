// What the core keeps per connection: its Hello (role, producer group) and
// its subscriptions with their credit. Only broker_core.h and its .cc files
// use it.
#ifndef TXMSG_BROKER_CORE_PEER_STATE_H_
#define TXMSG_BROKER_CORE_PEER_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "broker/core/peer.h"
#include "txmsg/broker.pb.h"

namespace txmsg::broker::internal {

struct Subscription {
  uint32_t gt;  // group-topic index (TopicRegistry)
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
  // With --auth_file: the principal authenticated in Hello, and its
  // credential then (a reload that changes it closes the connection).
  std::string principal;
  std::string principal_credential;
  std::vector<Subscription> subs;
  Subscription* FindSub(uint32_t gt) {
    for (auto& s : subs) {
      if (s.gt == gt) return &s;
    }
    return nullptr;
  }
};

}  // namespace txmsg::broker::internal

#endif  // TXMSG_BROKER_CORE_PEER_STATE_H_
