// How the broker core sees a connection.
#ifndef TXMSG_BROKER_CORE_PEER_H_
#define TXMSG_BROKER_CORE_PEER_H_

#include <cstdint>
#include <string>

#include "txmsg/broker.pb.h"

namespace txmsg::broker {

// A connection, as the core sees it. Implemented by net/session and by tests.
class Peer {
 public:
  virtual ~Peer() = default;
  // Queues a frame for sending; never blocks.
  virtual void Send(const wire::Frame& frame) = 0;
  // Closes the connection after what is queued was sent; the core will get
  // OnDisconnect.
  virtual void Close() = 0;
  // Stable id, unique for the broker's life.
  virtual uint64_t id() const = 0;
  virtual std::string description() const = 0;  // e.g. "127.0.0.1:53412"
  // The name in the client certificate the transport verified (mutual TLS),
  // or "" when there is none. With --auth_file, a principal marked `cert` is
  // authenticated by this name instead of a secret (docs/security.md).
  virtual std::string verified_peer_name() const { return {}; }
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_CORE_PEER_H_
