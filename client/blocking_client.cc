#include "txmsg/blocking_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "base/maybe_tls_stream.h"
#include "base/tls.h"
#include "client/connection.h"
#include "proto/frame_codec.h"
#include "txmsg/broker_address.h"

namespace txmsg {

namespace asio = boost::asio;
using asio::ip::tcp;

struct BlockingClient::Impl {
  asio::io_context io;
  std::unique_ptr<asio::ssl::context> tls;  // null: plain TCP
  std::unique_ptr<base::MaybeTlsStream> stream;
  proto::FrameDecoder decoder;
  std::string broker;
  std::chrono::milliseconds timeout{0};

  // Runs the asynchronous operation that `start` begins (it must set `ec`
  // when done) for at most `timeout`; a timed-out operation is cancelled
  // and reported as timed_out. The deadline is the whole point: a blocking
  // socket call would wait for ever on a server that never answers.
  template <typename Start>
  boost::system::error_code RunWithDeadline(Start start) {
    boost::system::error_code ec = asio::error::would_block;
    start(&ec);
    io.restart();
    io.run_for(timeout);
    if (ec == asio::error::would_block) {
      boost::system::error_code ignored;
      stream->tcp().cancel(ignored);
      io.restart();
      io.run();  // lets the cancelled operation finish
      return asio::error::timed_out;
    }
    return ec;
  }
};

BlockingClient::BlockingClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlockingClient::~BlockingClient() = default;

absl::StatusOr<std::unique_ptr<BlockingClient>> BlockingClient::Connect(
    const std::string& broker, wire::ClientRole role, const std::string& producer_group,
    std::chrono::milliseconds timeout) {
  ClientOptions options;
  options.broker = broker;
  options.request_timeout = timeout;
  return Connect(options, role, producer_group);
}

absl::StatusOr<std::unique_ptr<BlockingClient>> BlockingClient::Connect(
    const std::string& broker, wire::ClientRole role, const std::string& producer_group,
    std::chrono::milliseconds timeout, const Credentials& credentials) {
  ClientOptions options;
  options.broker = broker;
  options.request_timeout = timeout;
  options.user = credentials.user;
  options.secret = credentials.secret;
  return Connect(options, role, producer_group);
}

absl::StatusOr<std::unique_ptr<BlockingClient>> BlockingClient::Connect(
    const ClientOptions& options, wire::ClientRole role, const std::string& producer_group) {
  const std::string& broker = options.broker;
  const std::chrono::milliseconds timeout = options.request_timeout;
  absl::StatusOr<BrokerAddress> address = ParseBrokerAddress(broker);
  if (!address.ok()) return address.status();
  auto impl = std::make_unique<Impl>();
  impl->broker = broker;
  impl->timeout = timeout;
  if (!options.tls.ca_file.empty()) {
    auto ctx = base::MakeClientTlsContext(
        {options.tls.ca_file, options.tls.cert_file, options.tls.key_file});
    if (!ctx.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("TLS: ", ctx.status().message()));
    }
    impl->tls = std::move(*ctx);
  }
  impl->stream = std::make_unique<base::MaybeTlsStream>(tcp::socket(impl->io), impl->tls.get());
  if (impl->tls) {
    if (absl::Status s = base::ExpectServerName(impl->stream->ssl(), address->host); !s.ok()) {
      return s;
    }
  }
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  auto endpoints = resolver.resolve(address->host, std::to_string(address->port), ec);
  if (!ec) {
    ec = impl->RunWithDeadline([&](boost::system::error_code* out) {
      asio::async_connect(
          impl->stream->tcp(), endpoints,
          [out](const boost::system::error_code& e, const tcp::endpoint&) { *out = e; });
    });
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "cannot connect to the broker at ", broker, ": ",
        ec == asio::error::timed_out ? absl::StrCat("no connection within ", timeout.count(), " ms")
                                     : ec.message()));
  }
  if (impl->tls) {
    ec = impl->RunWithDeadline([&](boost::system::error_code* out) {
      impl->stream->AsyncHandshake(asio::ssl::stream_base::client,
                                   [out](const boost::system::error_code& e) { *out = e; });
    });
    if (ec) {
      return absl::UnavailableError(absl::StrCat(
          "TLS handshake with the broker at ", broker, " failed: ",
          ec == asio::error::timed_out ? absl::StrCat("not done within ", timeout.count(), " ms")
                                       : base::TlsErrorText(ec, impl->stream->ssl())));
    }
  }
  std::unique_ptr<BlockingClient> client(new BlockingClient(std::move(impl)));
  wire::Frame hello;
  hello.mutable_hello()->set_version(wire::PROTOCOL_VERSION_1);
  hello.mutable_hello()->set_role(role);
  hello.mutable_hello()->set_producer_group(producer_group);
  hello.mutable_hello()->set_client_id(role == wire::ROLE_ADMIN ? "txmsgctl" : "");
  hello.mutable_hello()->set_user(options.user);
  hello.mutable_hello()->set_secret(options.secret);
  absl::StatusOr<wire::Frame> ok = client->Call(std::move(hello));
  if (!ok.ok()) return ok.status();
  return client;
}

absl::Status BlockingClient::SendOnly(const wire::Frame& frame) {
  std::string bytes;
  if (absl::Status s = proto::AppendFrame(frame, UINT32_MAX, &bytes); !s.ok()) return s;
  const boost::system::error_code ec = impl_->RunWithDeadline([&](boost::system::error_code* out) {
    impl_->stream->AsyncWriteAll(asio::buffer(bytes),
                                 [out](const boost::system::error_code& e, size_t) { *out = e; });
  });
  if (ec) {
    broken_ = true;
    return absl::UnavailableError(
        absl::StrCat("write to the broker at ", impl_->broker, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<wire::Frame> BlockingClient::ReadFrame() {
  while (true) {
    absl::StatusOr<std::optional<wire::Frame>> next = impl_->decoder.Next();
    if (!next.ok()) {
      broken_ = true;
      return next.status();
    }
    if (next->has_value()) return std::move(**next);
    char buf[64 * 1024];
    size_t n = 0;
    const boost::system::error_code ec =
        impl_->RunWithDeadline([&](boost::system::error_code* out) {
          impl_->stream->AsyncReadSome(asio::buffer(buf),
                                       [out, &n](const boost::system::error_code& e, size_t k) {
                                         *out = e;
                                         n = k;
                                       });
        });
    if (ec == asio::error::timed_out) {
      broken_ = true;
      return absl::DeadlineExceededError(absl::StrCat("no answer from the broker at ",
                                                      impl_->broker, " within ",
                                                      impl_->timeout.count(), " ms"));
    }
    if (ec) {
      broken_ = true;
      return absl::UnavailableError(
          absl::StrCat("no answer from the broker at ", impl_->broker, ": ",
                       ec == asio::error::eof    ? "connection closed"
                       : impl_->stream->is_tls() ? base::TlsErrorText(ec, impl_->stream->ssl())
                                                 : ec.message()));
    }
    impl_->decoder.Feed(std::string_view(buf, n));
  }
}
absl::StatusOr<wire::Frame> BlockingClient::Call(wire::Frame request) {
  const uint64_t corr = next_corr_++;
  request.set_correlation_id(corr);
  if (absl::Status s = SendOnly(request); !s.ok()) return s;
  while (true) {
    absl::StatusOr<wire::Frame> f = ReadFrame();
    if (!f.ok()) return f.status();
    if (f->correlation_id() != corr || f->has_check_tx() || f->has_deliver()) {
      if (f->has_error() && f->correlation_id() == 0) return internal::StatusFromError(f->error());
      continue;
    }
    if (f->has_error()) return internal::StatusFromError(f->error());
    return f;
  }
}

}  // namespace txmsg
