// A client's connection to the broker: connects (and reconnects with
// backoff), says Hello, matches answers to requests by correlation id, times
// requests out, and hands broker-initiated frames (CheckTx, Deliver) to its
// owner. Speaks TLS when ClientOptions::tls asks for it (a new TLS stream
// per connection, the handshake within request_timeout). Runs its own
// network thread; every public method is thread-safe.
#ifndef TXMSG_CLIENT_CONNECTION_H_
#define TXMSG_CLIENT_CONNECTION_H_

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/maybe_tls_stream.h"
#include "proto/frame_codec.h"
#include "txmsg/broker.pb.h"
#include "txmsg/types.h"

namespace txmsg::internal {

// The absl::Status for an Error frame from the broker.
absl::Status StatusFromError(const wire::Error& error);

class BrokerConnection {
 public:
  using Reply = std::function<void(absl::StatusOr<wire::Frame>)>;
  struct Handlers {
    // Connected and Hello accepted; `epoch` numbers the connection.
    std::function<void(uint64_t epoch)> on_ready;
    // A CheckTx or Deliver from the broker.
    std::function<void(wire::Frame frame, uint64_t epoch)> on_push;
  };

  // Handlers run on the network thread.
  BrokerConnection(ClientOptions options, wire::Hello hello, Handlers handlers);
  ~BrokerConnection();
  BrokerConnection(const BrokerConnection&) = delete;
  BrokerConnection& operator=(const BrokerConnection&) = delete;

  void Start();
  // Fails outstanding requests with CANCELLED, closes, joins the thread.
  void Stop();
  // Waits until connected (or `wait` passes, or a TLS handshake fails:
  // a certificate problem does not go away by waiting).
  absl::Status WaitReady(std::chrono::milliseconds wait);
  bool ready() const { return ready_.load(); }
  // Ready, and the broker has answered since the last request that timed
  // out: false while it holds the connection open but answers nothing (a
  // SIGSTOPped or wedged broker). Heartbeat pings keep this current when
  // the client is idle (ClientOptions::heartbeat_interval).
  bool responsive() const;
  uint64_t epoch() const { return epoch_.load(); }

  // Sends a request; `reply` runs once with the answer or an error
  // (UNAVAILABLE when not connected or the connection drops,
  // DEADLINE_EXCEEDED after the request timeout).
  void Request(wire::Frame frame, Reply reply);
  // Sends a one-way frame if connection `epoch` is still the current one.
  void Push(wire::Frame frame, uint64_t epoch);
  // Runs `fn` on the network thread.
  void Post(std::function<void()> fn);

 private:
  struct Outstanding {
    Reply reply;
    std::chrono::steady_clock::time_point deadline;
  };

  void Connect();
  // TCP is up: run the TLS handshake (if any) under its deadline.
  void Handshake(uint64_t gen);
  void OnConnected();
  void Lost(const std::string& why);
  void DoRead();
  void ReadFailed(const boost::system::error_code& ec, SSL* ssl);
  void Dispatch(wire::Frame frame);
  void Write(const wire::Frame& frame);
  void DoWrite();
  void Sweep();
  void Heartbeat(std::chrono::steady_clock::time_point now);
  void FailAll(const absl::Status& status);

  const ClientOptions options_;
  const wire::Hello hello_;
  const Handlers handlers_;
  std::string host_;
  std::string port_;
  // options_.broker is not HOST:PORT, or the TLS files cannot be used:
  // nothing to retry.
  absl::Status setup_error_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // null: plain TCP

  boost::asio::io_context io_;
  // The current connection's stream, new for each attempt; its handlers
  // hold it alive until they have run.
  std::shared_ptr<base::MaybeTlsStream> stream_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer sweep_timer_;
  std::thread thread_;

  // Network-thread state.
  proto::FrameDecoder decoder_;
  std::array<char, 64 * 1024> read_buf_;
  std::string pending_;
  std::string writing_;
  bool connected_ = false;  // socket up (Hello may still be in flight)
  uint64_t gen_ = 0;        // bumped per connection attempt; stale callbacks check it
  bool stopped_ = false;
  std::chrono::milliseconds backoff_;
  uint64_t next_corr_ = 1;
  absl::flat_hash_map<uint64_t, Outstanding> outstanding_;
  std::string last_error_;

  bool ping_outstanding_ = false;

  // Monotonic ms: when a frame last came in; when a request last timed out.
  std::atomic<int64_t> last_heard_ms_{0};
  std::atomic<int64_t> last_timeout_ms_{0};
  std::atomic<bool> ready_{false};
  std::atomic<bool> tls_refused_{false};  // the last handshake failed (WaitReady gives up)
  std::atomic<uint64_t> epoch_{0};
  absl::Mutex ready_mu_;
};

}  // namespace txmsg::internal

#endif  // TXMSG_CLIENT_CONNECTION_H_
