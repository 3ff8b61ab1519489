// A chaos proxy for the fault suite: relays TCP connections to a target
// (the broker) and, frame by frame (it parses the txmsg framing), drops,
// duplicates, holds back (reorders) or delays frames in both directions; it
// can also cut every connection at once or stall all traffic. Runs its own
// network thread; the controls are thread-safe. Listens on 127.0.0.1.
#ifndef TXMSG_TOOLS_CHAOS_CHAOS_PROXY_H_
#define TXMSG_TOOLS_CHAOS_CHAOS_PROXY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/status/status.h"

namespace txmsg::chaos {

struct ChaosOptions {
  double drop = 0;       // probability a frame is dropped
  double duplicate = 0;  // probability a frame is sent twice
  double hold = 0;       // probability a frame is held back hold_ms (and overtaken)
  int hold_ms = 100;
  int delay_ms = 0;  // every frame waits this long (order kept): a slow link
  uint64_t seed = 1;
  uint16_t port = 0;  // port to listen on; 0 picks a free one
};

class ChaosProxy {
 public:
  ChaosProxy(uint16_t target_port, ChaosOptions options);
  ~ChaosProxy();
  ChaosProxy(const ChaosProxy&) = delete;
  ChaosProxy& operator=(const ChaosProxy&) = delete;

  [[nodiscard]] absl::Status Start();
  uint16_t port() const { return port_; }
  // Closes every relayed connection now (clients reconnect through it).
  void CutAll();
  // While stalled, nothing is forwarded (frames wait, in order).
  void SetStall(bool stall);

  struct Stats {
    uint64_t frames = 0, dropped = 0, duplicated = 0, held = 0, cuts = 0;
  };
  Stats stats() const;

  class Link;  // one relayed connection

 private:
  void DoAccept();

  friend class Link;
  const uint16_t target_port_;
  const ChaosOptions options_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  uint16_t port_ = 0;
  bool stalled_ = false;                   // network thread only
  std::set<std::shared_ptr<Link>> links_;  // network thread only
  std::atomic<uint64_t> frames_{0}, dropped_{0}, duplicated_{0}, held_{0}, cuts_{0};
  uint64_t rng_state_;
};

}  // namespace txmsg::chaos

#endif  // TXMSG_TOOLS_CHAOS_CHAOS_PROXY_H_
