// The byte stream under a connection: plain TCP, or TLS over TCP, chosen
// when the connection is made. Code above it (the broker's sessions, the
// SDK's connection) reads and writes through one interface either way.
// Plain TCP costs one branch per operation: no copy, no allocation, the
// socket's own asynchronous operations.
//
// Not thread-safe (like the socket it wraps). Keep the stream alive until
// every operation started on it has completed (its owners hold it in a
// shared_ptr captured by their handlers, or own it for their whole life).
#ifndef TXMSG_BASE_MAYBE_TLS_STREAM_H_
#define TXMSG_BASE_MAYBE_TLS_STREAM_H_

#include <memory>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

namespace txmsg::base {

class MaybeTlsStream {
 public:
  using Tcp = boost::asio::ip::tcp::socket;
  using Tls = boost::asio::ssl::stream<Tcp>;

  // `tls` null: plain TCP; otherwise TLS with that context, which must
  // outlive the stream. `socket` may be open (accepted) or not (to connect).
  MaybeTlsStream(Tcp socket, boost::asio::ssl::context* tls) : plain_(std::move(socket)) {
    if (tls) tls_ = std::make_unique<Tls>(std::move(plain_), *tls);
  }
  MaybeTlsStream(const MaybeTlsStream&) = delete;
  MaybeTlsStream& operator=(const MaybeTlsStream&) = delete;

  bool is_tls() const { return tls_ != nullptr; }
  // The TCP layer: connect, options, endpoints, shutdown, close.
  Tcp& tcp() { return tls_ ? tls_->next_layer() : plain_; }
  // The OpenSSL connection, or null for plain TCP.
  SSL* ssl() { return tls_ ? tls_->native_handle() : nullptr; }

  // Runs the TLS handshake (`type`: client or server); for plain TCP,
  // completes at once with success.
  template <typename Handler>
  void AsyncHandshake(boost::asio::ssl::stream_base::handshake_type type, Handler&& handler) {
    if (tls_) return tls_->async_handshake(type, std::forward<Handler>(handler));
    boost::asio::post(plain_.get_executor(),
                      [h = std::forward<Handler>(handler)]() mutable { h({}); });
  }

  template <typename Buffer, typename Handler>
  void AsyncReadSome(const Buffer& buffer, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffer, std::forward<Handler>(handler));
    plain_.async_read_some(buffer, std::forward<Handler>(handler));
  }

  // Writes all of `buffer` (many TLS records when it is large).
  template <typename Buffer, typename Handler>
  void AsyncWriteAll(const Buffer& buffer, Handler&& handler) {
    if (tls_) return boost::asio::async_write(*tls_, buffer, std::forward<Handler>(handler));
    boost::asio::async_write(plain_, buffer, std::forward<Handler>(handler));
  }

 private:
  Tcp plain_;  // moved into tls_ when TLS is on
  std::unique_ptr<Tls> tls_;
};

}  // namespace txmsg::base

#endif  // TXMSG_BASE_MAYBE_TLS_STREAM_H_
