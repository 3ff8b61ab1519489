#include "broker/net/session.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "base/tls.h"
#include "broker/core/event_log.h"

namespace txmsg::broker {

Session::Session(boost::asio::ip::tcp::socket socket, BrokerCore& core, uint64_t id,
                 SessionLimits limits, OnEnd on_end, bool admin_only, SessionTls tls)
    : stream_(std::move(socket), tls.context),
      tls_log_(tls.log),
      core_(core),
      id_(id),
      limits_(limits),
      on_end_(std::move(on_end)),
      admin_only_(admin_only),
      hello_deadline_(stream_.tcp().get_executor()),
      decoder_(limits.max_frame_size) {
  boost::system::error_code ec;
  const auto ep = stream_.tcp().remote_endpoint(ec);
  remote_ = ec ? "unknown" : absl::StrCat(ep.address().to_string(), ":", ep.port());
  stream_.tcp().set_option(boost::asio::ip::tcp::no_delay(true), ec);
}

void Session::Start() {
  if (limits_.hello_timeout_ms > 0) {
    hello_deadline_.expires_after(std::chrono::milliseconds(limits_.hello_timeout_ms));
    hello_deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->hello_seen_ || self->ended_) return;
      if (!self->connected_) {  // still in the TLS handshake: nothing can be said
        self->LogTlsFailure(absl::StrCat("TLS handshake from ", self->remote_, " not done within ",
                                         self->limits_.hello_timeout_ms, " ms: closed"));
        return self->Stop();
      }
      self->Refuse(wire::ERROR_INVALID_REQUEST,
                   absl::StrCat("no Hello within ", self->limits_.hello_timeout_ms, " ms"));
    });
  }
  if (!stream_.is_tls()) return OnHandshake({});
  stream_.AsyncHandshake(
      boost::asio::ssl::stream_base::server,
      [self = shared_from_this()](const boost::system::error_code& ec) { self->OnHandshake(ec); });
}

void Session::LogTlsFailure(const std::string& line) {
  uint64_t suppressed = 0;
  if (!tls_log_ || !tls_log_->Allow("tls", std::chrono::steady_clock::now(), &suppressed)) return;
  LogEvent(line,
           suppressed > 0 ? absl::StrCat(" [", suppressed, " more since the last report]") : "");
}

void Session::OnHandshake(const boost::system::error_code& ec) {
  if (ended_) return;
  if (ec) {
    LogTlsFailure(absl::StrCat("TLS handshake from ", remote_,
                               " failed: ", base::TlsErrorText(ec, stream_.ssl())));
    return End();
  }
  if (stream_.is_tls()) {
    verified_peer_name_ = base::VerifiedPeerName(stream_.ssl());
    if (!verified_peer_name_.empty()) {
      LogEvent("TLS client ", remote_, " presented a verified certificate for '",
               base::EscapeForLog(verified_peer_name_), "'");
    }
  }
  connected_ = true;
  core_.OnConnect(this);
  DoRead();
}

bool Session::AdmitFrame(const wire::Frame& frame) {
  if (hello_seen_ || !frame.has_hello()) return true;  // the core judges the rest
  hello_seen_ = true;
  hello_deadline_.cancel();
  if (admin_only_ && frame.hello().role() != wire::ROLE_ADMIN) {
    Refuse(wire::ERROR_RESOURCE_EXHAUSTED,
           "too many connections: the remaining ones are kept for admin connections");
    return false;
  }
  return true;
}

void Session::Refuse(wire::ErrorCode code, const std::string& message) {
  wire::Frame err;
  err.mutable_error()->set_code(code);
  err.mutable_error()->set_message(message);
  Send(err);
  Close();
}

void Session::DoRead() {
  if (reading_ || closing_ || ended_) return;
  if (pending_.size() + writing_.size() > limits_.pause_bytes) return;  // resumed by OnWrite
  reading_ = true;
  stream_.AsyncReadSome(boost::asio::buffer(read_buf_),
                        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                          self->OnRead(ec, n);
                        });
}

void Session::OnRead(const boost::system::error_code& ec, size_t n) {
  reading_ = false;
  if (ended_) return;
  if (ec) return End();  // EOF, reset, or Stop()
  decoder_.Feed(std::string_view(read_buf_.data(), n));
  while (!closing_ && !ended_) {
    absl::StatusOr<std::optional<wire::Frame>> next = decoder_.Next();
    if (!next.ok()) {
      LogEvent("protocol error from ", remote_, ": ", next.status().message());
      Refuse(next.status().code() == absl::StatusCode::kOutOfRange ? wire::ERROR_TOO_LARGE
                                                                   : wire::ERROR_INVALID_REQUEST,
             std::string(next.status().message()));
      return;
    }
    if (!next->has_value()) break;
    if (!AdmitFrame(**next)) return;
    core_.OnFrame(this, std::move(**next));
  }
  DoRead();
}

void Session::Send(const wire::Frame& frame) {
  if (ended_) return;
  if (absl::Status s = proto::AppendFrame(frame, UINT32_MAX, &pending_); !s.ok()) {
    LogEvent("error: cannot encode a frame for ", remote_, ": ", s.ToString());
    return;
  }
  if (pending_.size() + writing_.size() > limits_.max_write_bytes) {
    LogEvent("closing ", remote_, ": it does not read what it is sent (",
             pending_.size() + writing_.size(), " bytes waiting)");
    return Stop();
  }
  if (writing_.empty()) DoWrite();
}

void Session::DoWrite() {
  if (pending_.empty() || ended_) return;
  writing_.swap(pending_);
  stream_.AsyncWriteAll(boost::asio::buffer(writing_),
                        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                          self->OnWrite(ec);
                        });
}

void Session::OnWrite(const boost::system::error_code& ec) {
  writing_.clear();
  if (ended_) return;
  if (ec) return End();
  if (!pending_.empty()) return DoWrite();
  if (closing_) {
    boost::system::error_code ignored;
    stream_.tcp().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    return End();
  }
  DoRead();  // resumes reading if it was paused
}

void Session::Close() {
  if (closing_ || ended_) return;
  closing_ = true;
  if (writing_.empty() && pending_.empty()) {
    // Not from inside the core's call stack: end on the next turn.
    boost::asio::post(stream_.tcp().get_executor(), [self = shared_from_this()] { self->End(); });
  }
}

void Session::Stop() {
  if (ended_) return;
  boost::asio::post(stream_.tcp().get_executor(), [self = shared_from_this()] { self->End(); });
  boost::system::error_code ignored;
  stream_.tcp().cancel(ignored);
}

void Session::End() {
  if (ended_) return;
  ended_ = true;
  hello_deadline_.cancel();
  boost::system::error_code ignored;
  stream_.tcp().close(ignored);
  if (connected_) core_.OnDisconnect(this);
  on_end_(shared_from_this());
}

}  // namespace txmsg::broker
