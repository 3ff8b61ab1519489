// One client connection: reads frames and hands them to the core; queues the
// core's frames and writes them in batches (many frames per write). Owns
// itself through shared_from_this while asynchronous operations run; the
// server keeps it in its set until it ends.
//
// Limits: the decoder rejects oversized frames before buffering them; when
// more than `pause_bytes` wait to be written, reading stops until the peer
// drains them (backpressure instead of buffering), and a peer that lets more
// than `max_write_bytes` pile up is disconnected.
#ifndef TXMSG_BROKER_NET_SESSION_H_
#define TXMSG_BROKER_NET_SESSION_H_

#include <array>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "broker/core/broker_core.h"
#include "proto/frame_codec.h"

namespace txmsg::broker {

struct SessionLimits {
  uint32_t max_frame_size = proto::kDefaultMaxFrameSize;
  size_t pause_bytes = 4u << 20;
  size_t max_write_bytes = 64u << 20;
};

class Session final : public std::enable_shared_from_this<Session>, public Peer {
 public:
  using OnEnd = std::function<void(const std::shared_ptr<Session>&)>;
  // `core` must outlive the session; `on_end` runs once when it ends.
  Session(boost::asio::ip::tcp::socket socket, BrokerCore& core, uint64_t id, SessionLimits limits,
          OnEnd on_end);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start();
  // Ends the session now, without flushing.
  void Stop();

  // Peer:
  void Send(const wire::Frame& frame) override;
  void Close() override;
  uint64_t id() const override { return id_; }
  std::string description() const override { return remote_; }

 private:
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void DoWrite();
  void OnWrite(const boost::system::error_code& ec);
  void End();

  boost::asio::ip::tcp::socket socket_;
  BrokerCore& core_;
  const uint64_t id_;
  const SessionLimits limits_;
  const OnEnd on_end_;
  std::string remote_;
  proto::FrameDecoder decoder_;
  std::array<char, 64 * 1024> read_buf_;
  std::string pending_;  // frames waiting for the next write
  std::string writing_;  // frames of the write in progress
  bool reading_ = false;
  bool closing_ = false;  // close once everything queued is written
  bool ended_ = false;
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_NET_SESSION_H_
