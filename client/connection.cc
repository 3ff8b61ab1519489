#include "client/connection.h"

#include "txmsg/broker_address.h"

#include <cstdio>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "base/tls.h"

namespace txmsg::internal {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

int64_t NowMs(std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now()) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The Hello with the options' principal (empty fields on a broker without
// auth: old brokers ignore them).
wire::Hello WithCredentials(wire::Hello hello, const ClientOptions& options) {
  hello.set_user(options.user);
  hello.set_secret(options.secret);
  return hello;
}

}  // namespace

absl::Status StatusFromError(const wire::Error& error) {
  const std::string msg = error.message().empty() ? "broker error" : error.message();
  switch (error.code()) {
    case wire::ERROR_INVALID_REQUEST:
      return absl::InvalidArgumentError(msg);
    case wire::ERROR_UNKNOWN_REQUEST:
      return absl::UnimplementedError(msg);
    case wire::ERROR_OUT_OF_ORDER:
      return absl::FailedPreconditionError(msg);
    case wire::ERROR_NOT_FOUND:
      return absl::NotFoundError(msg);
    case wire::ERROR_CONFLICT:
      return absl::AbortedError(msg);
    case wire::ERROR_TOO_LARGE:
      return absl::OutOfRangeError(msg);
    case wire::ERROR_UNAVAILABLE:
      return absl::UnavailableError(msg);
    case wire::ERROR_RESOURCE_EXHAUSTED:
      return absl::ResourceExhaustedError(msg);
    case wire::ERROR_UNAUTHENTICATED:
      return absl::UnauthenticatedError(msg);
    case wire::ERROR_PERMISSION_DENIED:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

BrokerConnection::BrokerConnection(ClientOptions options, wire::Hello hello, Handlers handlers)
    : options_(std::move(options)),
      hello_(WithCredentials(std::move(hello), options_)),
      handlers_(std::move(handlers)),
      resolver_(io_),
      handshake_timer_(io_),
      reconnect_timer_(io_),
      sweep_timer_(io_),
      decoder_(options_.max_frame_size),
      backoff_(options_.reconnect_min) {
  absl::StatusOr<BrokerAddress> address = ParseBrokerAddress(options_.broker);
  if (address.ok()) {
    host_ = address->host;
    port_ = std::to_string(address->port);
  } else {
    setup_error_ = address.status();  // reported by WaitReady; nothing to retry
  }
  if (setup_error_.ok() && !options_.tls.ca_file.empty()) {
    auto ctx = base::MakeClientTlsContext(
        {options_.tls.ca_file, options_.tls.cert_file, options_.tls.key_file});
    if (ctx.ok()) {
      tls_ = std::move(*ctx);
    } else {
      setup_error_ = absl::InvalidArgumentError(absl::StrCat("TLS: ", ctx.status().message()));
    }
  }
}

BrokerConnection::~BrokerConnection() { Stop(); }

void BrokerConnection::Start() {
  asio::post(io_, [this] {
    Connect();
    Sweep();
  });
  thread_ = std::thread([this] { io_.run(); });
}

void BrokerConnection::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    stopped_ = true;
    FailAll(absl::CancelledError("client stopped"));
    boost::system::error_code ignored;
    if (stream_) stream_->tcp().close(ignored);
    handshake_timer_.cancel();
    reconnect_timer_.cancel();
    sweep_timer_.cancel();
    resolver_.cancel();
    io_.stop();
  });
  thread_.join();
}

absl::Status BrokerConnection::WaitReady(std::chrono::milliseconds wait) {
  if (!setup_error_.ok()) return setup_error_;
  absl::MutexLock lock(&ready_mu_);
  const bool ok = ready_mu_.AwaitWithTimeout(
      absl::Condition(
          +[](BrokerConnection* c) { return c->ready_.load() || c->tls_refused_.load(); }, this),
      absl::FromChrono(wait));
  if (ok && ready_.load()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("cannot reach the broker at ", options_.broker,
                                             last_error_.empty() ? "" : ": ", last_error_));
}

void BrokerConnection::Post(std::function<void()> fn) { asio::post(io_, std::move(fn)); }

void BrokerConnection::Connect() {
  if (stopped_ || !setup_error_.ok()) return;
  const uint64_t gen = ++gen_;
  stream_ = std::make_shared<base::MaybeTlsStream>(tcp::socket(io_), tls_.get());
  if (tls_) {
    if (absl::Status s = base::ExpectServerName(stream_->ssl(), host_); !s.ok()) {
      return Lost(std::string(s.message()));
    }
  }
  resolver_.async_resolve(
      host_, port_,
      [this, gen](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
        if (stopped_ || gen != gen_) return;
        if (ec) return Lost(absl::StrCat("resolve ", host_, ": ", ec.message()));
        asio::async_connect(
            stream_->tcp(), results,
            [this, gen, s = stream_](const boost::system::error_code& ec, const tcp::endpoint&) {
              if (stopped_ || gen != gen_) return;
              if (ec) return Lost(absl::StrCat("connect: ", ec.message()));
              Handshake(gen);
            });
      });
}

void BrokerConnection::Handshake(uint64_t gen) {
  boost::system::error_code ignored;
  stream_->tcp().set_option(tcp::no_delay(true), ignored);
  if (!tls_) return OnConnected();
  handshake_timer_.expires_after(options_.request_timeout);
  handshake_timer_.async_wait([this, gen](const boost::system::error_code& ec) {
    if (ec || stopped_ || gen != gen_) return;
    Lost(absl::StrCat("TLS handshake with ", options_.broker, " not done within ",
                      options_.request_timeout.count(), " ms"));
  });
  stream_->AsyncHandshake(asio::ssl::stream_base::client, [this, gen, s = stream_](
                                                              const boost::system::error_code& ec) {
    if (stopped_ || gen != gen_) return;
    handshake_timer_.cancel();
    if (ec) {
      const std::string why = absl::StrCat("TLS handshake with ", options_.broker,
                                           " failed: ", base::TlsErrorText(ec, s->ssl()));
      Lost(why);
      absl::MutexLock lock(&ready_mu_);
      tls_refused_ = true;  // after Lost() has set last_error_ for WaitReady
      return;
    }
    tls_refused_ = false;
    OnConnected();
  });
}

bool BrokerConnection::responsive() const {
  return ready_.load() && last_timeout_ms_.load() <= last_heard_ms_.load();
}

void BrokerConnection::OnConnected() {
  connected_ = true;
  ping_outstanding_ = false;
  last_heard_ms_ = NowMs();
  DoRead();
  wire::Frame hello;
  *hello.mutable_hello() = hello_;
  const uint64_t corr = next_corr_++;
  hello.set_correlation_id(corr);
  outstanding_[corr] =
      Outstanding{[this, gen = gen_](absl::StatusOr<wire::Frame> r) {
                    if (!r.ok()) {
                      last_error_ = r.status().ToString();
                      // Unanswered, or answered with an error (say, a
                      // duplicate of our Hello answered before the lost
                      // HelloOk): this connection will never be ready, so
                      // start over on a new one, with backoff. Unless
                      // Lost() is what failed it.
                      if (gen == gen_ && !stopped_)
                        Lost(absl::StrCat("Hello not accepted: ", r.status().message()));
                      return;
                    }
                    last_error_.clear();
                    backoff_ = options_.reconnect_min;
                    {
                      absl::MutexLock lock(&ready_mu_);
                      epoch_.fetch_add(1);
                      ready_ = true;
                    }
                    if (handlers_.on_ready) handlers_.on_ready(epoch_.load());
                  },
                  std::chrono::steady_clock::now() + options_.request_timeout};
  Write(hello);
}

void BrokerConnection::Lost(const std::string& why) {
  if (stopped_) return;
  if (!why.empty()) last_error_ = why;
  {
    absl::MutexLock lock(&ready_mu_);
    ready_ = false;
  }
  connected_ = false;
  boost::system::error_code ignored;
  if (stream_) stream_->tcp().close(ignored);
  handshake_timer_.cancel();
  pending_.clear();
  decoder_.Reset();
  ++gen_;  // callbacks of this connection are stale from now on
  FailAll(absl::UnavailableError(
      absl::StrCat("lost the connection to the broker at ", options_.broker, ": ", last_error_)));
  reconnect_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
  reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Connect();
  });
}

void BrokerConnection::FailAll(const absl::Status& status) {
  auto outstanding = std::move(outstanding_);
  outstanding_.clear();
  for (auto& [corr, o] : outstanding) o.reply(status);
}

void BrokerConnection::DoRead() {
  stream_->AsyncReadSome(
      asio::buffer(read_buf_),
      [this, gen = gen_, s = stream_](const boost::system::error_code& ec, size_t n) {
        if (stopped_ || gen != gen_) return;
        if (ec) return ReadFailed(ec, s->ssl());
        last_heard_ms_ = NowMs();
        decoder_.Feed(std::string_view(read_buf_.data(), n));
        while (true) {
          absl::StatusOr<std::optional<wire::Frame>> next = decoder_.Next();
          if (!next.ok())
            return Lost(absl::StrCat("bad frame from broker: ", next.status().message()));
          if (!next->has_value()) break;
          Dispatch(std::move(**next));
          if (gen != gen_) return;
        }
        DoRead();
      });
}

void BrokerConnection::ReadFailed(const boost::system::error_code& ec, SSL* ssl) {
  if (ec == asio::error::eof) return Lost("broker closed the connection");
  if (!ssl || ec.category() != asio::error::get_ssl_category()) return Lost(ec.message());
  // With TLS 1.3 the broker judges our certificate after our handshake is
  // done: its refusal arrives as the first read's error.
  const bool was_ready = ready_.load();
  Lost(absl::StrCat("TLS with ", options_.broker, " failed: ", base::TlsErrorText(ec, ssl)));
  if (!was_ready) {
    absl::MutexLock lock(&ready_mu_);
    tls_refused_ = true;
  }
}

void BrokerConnection::Dispatch(wire::Frame frame) {
  if (frame.has_check_tx() || frame.has_deliver()) {
    if (handlers_.on_push) handlers_.on_push(std::move(frame), epoch_.load());
    return;
  }
  auto it = outstanding_.find(frame.correlation_id());
  if (it == outstanding_.end()) {
    if (frame.has_error()) {
      last_error_ = frame.error().message();
      std::fprintf(stderr, "txmsg client: broker says: %s\n", frame.error().message().c_str());
    }
    return;  // a late answer to a request that timed out
  }
  Reply reply = std::move(it->second.reply);
  outstanding_.erase(it);
  if (frame.has_error()) {
    reply(StatusFromError(frame.error()));
  } else {
    reply(std::move(frame));
  }
}

void BrokerConnection::Request(wire::Frame frame, Reply reply) {
  asio::post(io_, [this, frame = std::move(frame), reply = std::move(reply)]() mutable {
    if (stopped_) return reply(absl::CancelledError("client stopped"));
    if (!ready_) {
      return reply(absl::UnavailableError(absl::StrCat(
          "not connected to the broker at ", options_.broker, last_error_.empty() ? "" : " (",
          last_error_, last_error_.empty() ? "" : ")")));
    }
    const uint64_t corr = next_corr_++;
    frame.set_correlation_id(corr);
    outstanding_[corr] =
        Outstanding{std::move(reply), std::chrono::steady_clock::now() + options_.request_timeout};
    Write(frame);
  });
}

void BrokerConnection::Push(wire::Frame frame, uint64_t epoch) {
  asio::post(io_, [this, frame = std::move(frame), epoch] {
    if (!stopped_ && ready_ && epoch == epoch_.load()) Write(frame);
  });
}

void BrokerConnection::Write(const wire::Frame& frame) {
  if (absl::Status s = proto::AppendFrame(frame, options_.max_frame_size, &pending_); !s.ok()) {
    // Too large: answer the request now instead of sending it.
    auto it = outstanding_.find(frame.correlation_id());
    if (it != outstanding_.end()) {
      Reply reply = std::move(it->second.reply);
      outstanding_.erase(it);
      reply(s);
    }
    return;
  }
  if (writing_.empty()) DoWrite();
}

void BrokerConnection::DoWrite() {
  if (pending_.empty() || !connected_) return;
  writing_.swap(pending_);
  stream_->AsyncWriteAll(asio::buffer(writing_), [this, gen = gen_, s = stream_](
                                                     const boost::system::error_code& ec, size_t) {
    writing_.clear();
    if (stopped_) return;
    if (gen != gen_) return DoWrite();  // a new connection may be waiting
    if (ec) return Lost(ec.message());
    DoWrite();
  });
}

void BrokerConnection::Sweep() {
  if (stopped_) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<Reply> expired;
  for (auto it = outstanding_.begin(); it != outstanding_.end();) {
    if (it->second.deadline <= now) {
      expired.push_back(std::move(it->second.reply));
      outstanding_.erase(it++);
    } else {
      ++it;
    }
  }
  if (!expired.empty()) last_timeout_ms_ = NowMs(now);
  for (auto& reply : expired) {
    reply(absl::DeadlineExceededError(absl::StrCat("no answer from the broker within ",
                                                   options_.request_timeout.count(), " ms")));
  }
  Heartbeat(now);
  sweep_timer_.expires_after(std::chrono::milliseconds(50));
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Sweep();
  });
}

}  // namespace txmsg::internal

namespace txmsg::internal {

void BrokerConnection::Heartbeat(std::chrono::steady_clock::time_point now) {
  if (options_.heartbeat_interval.count() <= 0 || !ready_ || ping_outstanding_ || stopped_) return;
  if (NowMs(now) - last_heard_ms_.load() < options_.heartbeat_interval.count()) return;
  ping_outstanding_ = true;
  wire::Frame ping;
  ping.mutable_ping();
  const uint64_t corr = next_corr_++;
  ping.set_correlation_id(corr);
  outstanding_[corr] = Outstanding{[this, gen = gen_](absl::StatusOr<wire::Frame>) {
                                     // Answered, timed out (then unresponsive until the
                                     // broker says anything), or the connection is gone.
                                     if (gen == gen_) ping_outstanding_ = false;
                                   },
                                   now + options_.request_timeout};
  Write(ping);
}

}  // namespace txmsg::internal
