// The SDK's connection against a scripted broker: answers it cannot get from
// the real one on demand.
#include "client/connection.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <thread>

#include "gtest/gtest.h"
#include "proto/frame_codec.h"
#include "tests/testutil/status_matchers.h"

namespace txmsg {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// Reads one whole frame from a blocking socket.
std::optional<wire::Frame> ReadFrame(tcp::socket& s, proto::FrameDecoder& decoder) {
  while (true) {
    auto next = decoder.Next();
    if (!next.ok()) return std::nullopt;
    if (next->has_value()) return std::move(**next);
    std::array<char, 4096> buf;
    boost::system::error_code ec;
    const size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) return std::nullopt;
    decoder.Feed(std::string_view(buf.data(), n));
  }
}

void WriteFrame(tcp::socket& s, const wire::Frame& f) {
  std::string bytes;
  ASSERT_TRUE(proto::AppendFrame(f, UINT32_MAX, &bytes).ok());
  asio::write(s, asio::buffer(bytes));
}

// A Hello answered with an error while the connection stays open (as when a
// duplicated Hello's "already sent" overtakes a lost HelloOk) must not leave
// the client connected but never ready: it starts over on a new connection.
TEST(BrokerConnectionTest, HelloAnsweredWithAnErrorStartsOverOnANewConnection) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::atomic<int> connections{0};
  std::thread broker([&] {
    tcp::socket first = acceptor.accept();
    ++connections;
    proto::FrameDecoder d1(proto::kDefaultMaxFrameSize);
    std::optional<wire::Frame> hello = ReadFrame(first, d1);
    ASSERT_TRUE(hello && hello->has_hello());
    wire::Frame refused;
    refused.set_correlation_id(hello->correlation_id());
    refused.mutable_error()->set_code(wire::ERROR_OUT_OF_ORDER);
    refused.mutable_error()->set_message("Hello was already sent");
    WriteFrame(first, refused);  // and keep the connection open

    boost::system::error_code ec;
    tcp::socket second = acceptor.accept(ec);
    if (ec) return;  // the client never came back (the test fails on WaitReady)
    ++connections;
    proto::FrameDecoder d2(proto::kDefaultMaxFrameSize);
    hello = ReadFrame(second, d2);
    ASSERT_TRUE(hello && hello->has_hello());
    wire::Frame ok;
    ok.set_correlation_id(hello->correlation_id());
    ok.mutable_hello_ok()->set_version(wire::PROTOCOL_VERSION_1);
    WriteFrame(second, ok);
    // Hold both until the client is done.
    proto::FrameDecoder rest(proto::kDefaultMaxFrameSize);
    (void)ReadFrame(second, rest);
  });

  ClientOptions options;
  options.broker = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  options.reconnect_min = 10ms;
  options.request_timeout = 30s;  // the error, not a timeout, must trigger the new start
  wire::Hello hello;
  hello.set_version(wire::PROTOCOL_VERSION_1);
  hello.set_role(wire::ROLE_CONSUMER);
  {
    internal::BrokerConnection conn(options, hello, {});
    conn.Start();
    EXPECT_OK(conn.WaitReady(10s));
    EXPECT_EQ(connections.load(), 2);
    conn.Stop();
  }
  ::shutdown(acceptor.native_handle(), SHUT_RDWR);  // wakes an accept still waiting
  broker.join();
}

bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

// A broker that keeps the connection open but stops answering (SIGSTOP,
// a wedged thread) is noticed by the heartbeat even when the client has
// nothing to ask, and the client is responsive again once it answers.
TEST(BrokerConnectionTest, ABrokerThatStopsAnsweringIsUnresponsiveUntilItAnswersAgain) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::atomic<bool> answer{false};
  std::atomic<int> pings{0};
  std::thread broker([&] {
    boost::system::error_code ec;
    tcp::socket s = acceptor.accept(ec);
    if (ec) return;
    proto::FrameDecoder d(proto::kDefaultMaxFrameSize);
    std::optional<wire::Frame> hello = ReadFrame(s, d);
    ASSERT_TRUE(hello && hello->has_hello());
    wire::Frame ok;
    ok.set_correlation_id(hello->correlation_id());
    ok.mutable_hello_ok()->set_version(wire::PROTOCOL_VERSION_1);
    WriteFrame(s, ok);
    while (std::optional<wire::Frame> f = ReadFrame(s, d)) {
      if (!f->has_ping()) continue;
      ++pings;
      if (!answer) continue;  // frozen
      wire::Frame pong;
      pong.set_correlation_id(f->correlation_id());
      pong.mutable_pong();
      WriteFrame(s, pong);
    }
  });

  ClientOptions options;
  options.broker = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  options.heartbeat_interval = 50ms;
  options.request_timeout = 300ms;
  wire::Hello hello;
  hello.set_version(wire::PROTOCOL_VERSION_1);
  hello.set_role(wire::ROLE_CONSUMER);
  {
    internal::BrokerConnection conn(options, hello, {});
    conn.Start();
    ASSERT_OK(conn.WaitReady(10s));
    EXPECT_TRUE(conn.responsive());
    ASSERT_TRUE(Eventually([&] { return !conn.responsive(); })) << "a silent broker looks fine";
    EXPECT_TRUE(conn.ready()) << "the connection itself is still up";
    EXPECT_GE(pings.load(), 1);
    answer = true;
    ASSERT_TRUE(Eventually([&] { return conn.responsive(); }));
    conn.Stop();
  }
  ::shutdown(acceptor.native_handle(), SHUT_RDWR);
  broker.join();
}

}  // namespace
}  // namespace txmsg
