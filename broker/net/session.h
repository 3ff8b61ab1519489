// One client connection: reads frames and hands them to the core; queues the
// core's frames and writes them in batches (many frames per write). Owns
// itself through shared_from_this while asynchronous operations run; the
// server keeps it in its set until it ends.
//
// Transport: plain TCP, or TLS when the server has a TLS context; the TLS
// handshake comes first, within the same deadline as Hello, and the core
// sees the connection only once it succeeded.
//
// Limits: a connection must say Hello within `hello_timeout_ms`; the
// decoder rejects oversized frames before buffering them; when
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
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/log_limiter.h"
#include "base/maybe_tls_stream.h"
#include "broker/core/broker_core.h"
#include "proto/frame_codec.h"

namespace txmsg::broker {

struct SessionLimits {
  uint32_t max_frame_size = proto::kDefaultMaxFrameSize;
  size_t pause_bytes = 4u << 20;
  size_t max_write_bytes = 64u << 20;
  // A connection that has not said Hello this long after it was accepted
  // is closed, so idle sockets cannot hold the broker's slots (0: no limit).
  // With TLS the handshake must also be done by then.
  uint64_t hello_timeout_ms = 10'000;
};

// How sessions speak TLS: `context` null is plain TCP. Both must outlive
// every session; `log` rate-limits the lines about failed handshakes (a
// port scanner or a plaintext client must not flood the log).
struct SessionTls {
  boost::asio::ssl::context* context = nullptr;
  base::LogLimiter* log = nullptr;
};

class Session final : public std::enable_shared_from_this<Session>, public Peer {
 public:
  using OnEnd = std::function<void(const std::shared_ptr<Session>&)>;
  // `core` must outlive the session; `on_end` runs once when it ends. An
  // `admin_only` session took one of the slots kept for operators: its
  // Hello must ask for ROLE_ADMIN, or it is refused and closed.
  Session(boost::asio::ip::tcp::socket socket, BrokerCore& core, uint64_t id, SessionLimits limits,
          OnEnd on_end, bool admin_only = false, SessionTls tls = {});
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
  std::string verified_peer_name() const override { return verified_peer_name_; }

 private:
  // The TLS handshake is over (or there is none): the core meets the peer.
  void OnHandshake(const boost::system::error_code& ec);
  // A failed or stalled handshake, logged at most every few seconds.
  void LogTlsFailure(const std::string& line);
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t n);
  // Sends an error frame and closes after it.
  void Refuse(wire::ErrorCode code, const std::string& message);
  // Checks a frame against the Hello rules of the net layer (the deadline,
  // the admin-only slot); false if the session is being closed.
  bool AdmitFrame(const wire::Frame& frame);
  void DoWrite();
  void OnWrite(const boost::system::error_code& ec);
  void End();

  base::MaybeTlsStream stream_;
  base::LogLimiter* const tls_log_;
  BrokerCore& core_;
  const uint64_t id_;
  const SessionLimits limits_;
  const OnEnd on_end_;
  std::string remote_;
  std::string verified_peer_name_;
  const bool admin_only_;
  bool connected_ = false;  // the core knows this session (OnConnect ran)
  bool hello_seen_ = false;
  boost::asio::steady_timer hello_deadline_;
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
