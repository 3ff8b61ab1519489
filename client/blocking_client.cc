#include "txmsg/blocking_client.h"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "client/connection.h"
#include "proto/frame_codec.h"

namespace txmsg {

namespace asio = boost::asio;
using asio::ip::tcp;

struct BlockingClient::Impl {
  asio::io_context io;
  tcp::socket socket{io};
  proto::FrameDecoder decoder;
  std::string broker;
};

BlockingClient::BlockingClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlockingClient::~BlockingClient() = default;

absl::StatusOr<std::unique_ptr<BlockingClient>> BlockingClient::Connect(
    const std::string& broker, wire::ClientRole role, const std::string& producer_group,
    std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->broker = broker;
  const size_t colon = broker.rfind(':');
  if (colon == std::string::npos || colon + 1 == broker.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("broker address '", broker, "' is not HOST:PORT"));
  }
  std::string host = broker.substr(0, colon);
  if (host.empty()) host = "127.0.0.1";
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  auto endpoints = resolver.resolve(host, broker.substr(colon + 1), ec);
  if (!ec) asio::connect(impl->socket, endpoints, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to the broker at ", broker, ": ", ec.message()));
  }
  // Bound every blocking read and write.
  const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                   static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(impl->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(impl->socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::unique_ptr<BlockingClient> client(new BlockingClient(std::move(impl)));
  wire::Frame hello;
  hello.mutable_hello()->set_version(wire::PROTOCOL_VERSION_1);
  hello.mutable_hello()->set_role(role);
  hello.mutable_hello()->set_producer_group(producer_group);
  hello.mutable_hello()->set_client_id(role == wire::ROLE_ADMIN ? "txmsgctl" : "");
  absl::StatusOr<wire::Frame> ok = client->Call(std::move(hello));
  if (!ok.ok()) return ok.status();
  return client;
}

absl::Status BlockingClient::SendOnly(const wire::Frame& frame) {
  std::string bytes;
  if (absl::Status s = proto::AppendFrame(frame, UINT32_MAX, &bytes); !s.ok()) return s;
  boost::system::error_code ec;
  asio::write(impl_->socket, asio::buffer(bytes), ec);
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
    boost::system::error_code ec;
    const size_t n = impl_->socket.read_some(asio::buffer(buf), ec);
    if (ec) {
      broken_ = true;
      return absl::UnavailableError(
          absl::StrCat("no answer from the broker at ", impl_->broker, ": ",
                       ec == asio::error::eof ? "connection closed" : ec.message()));
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
