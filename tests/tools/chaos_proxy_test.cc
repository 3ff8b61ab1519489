// The chaos proxy does what the fault suite relies on: relays frames whole,
// drops, duplicates, delays in order, stalls and cuts. Behind it is a small
// echo server, so every frame sent comes back through the proxy twice.
#include "tools/chaos/chaos_proxy.h"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "proto/frame_codec.h"

namespace txmsg::chaos {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// Echoes every byte back on each accepted connection, one thread each.
class EchoServer {
 public:
  EchoServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      while (true) {
        boost::system::error_code ec;
        tcp::socket s = acceptor_.accept(ec);
        if (ec) return;
        auto sock = std::make_shared<tcp::socket>(std::move(s));
        std::lock_guard<std::mutex> lock(mu_);
        sockets_.push_back(sock);
        workers_.emplace_back([sock] {
          std::array<char, 4096> buf;
          boost::system::error_code e;
          while (true) {
            const size_t n = sock->read_some(asio::buffer(buf), e);
            if (e || !asio::write(*sock, asio::buffer(buf.data(), n), e)) return;
          }
        });
      }
    });
  }
  ~EchoServer() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes the blocked accept
    thread_.join();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    // The workers use io_: end them before it goes.
    for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
    for (auto& w : workers_) w.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> workers_;
};

// A blocking client that sends and reads whole frames.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }
  void Send(uint64_t corr) {
    wire::Frame f;
    f.set_correlation_id(corr);
    std::string bytes;
    ASSERT_TRUE(proto::AppendFrame(f, UINT32_MAX, &bytes).ok());
    asio::write(socket_, asio::buffer(bytes));
  }
  // The next frame's correlation id, or nullopt on EOF / after `timeout`.
  std::optional<uint64_t> Receive(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto next = decoder_.Next();
      if (next.ok() && next->has_value()) return (*next)->correlation_id();
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      pollfd p{socket_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      std::array<char, 4096> buf;
      boost::system::error_code ec;
      const size_t n = socket_.read_some(asio::buffer(buf), ec);
      if (ec) return std::nullopt;
      decoder_.Feed(std::string_view(buf.data(), n));
    }
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  proto::FrameDecoder decoder_{proto::kDefaultMaxFrameSize};
};

TEST(ChaosProxyTest, RelaysFramesWholeAndInOrder) {
  EchoServer echo;
  ChaosProxy proxy(echo.port(), ChaosOptions{});
  ASSERT_TRUE(proxy.Start().ok());
  Client c(proxy.port());
  for (uint64_t i = 1; i <= 100; ++i) c.Send(i);
  for (uint64_t i = 1; i <= 100; ++i) ASSERT_EQ(c.Receive(), i);
  EXPECT_EQ(proxy.stats().frames, 200u);  // each frame passes twice
}

TEST(ChaosProxyTest, DropsAndDuplicatesByProbability) {
  EchoServer echo;
  ChaosOptions dropping;
  dropping.drop = 1;
  ChaosProxy black_hole(echo.port(), dropping);
  ASSERT_TRUE(black_hole.Start().ok());
  Client c(black_hole.port());
  c.Send(7);
  EXPECT_EQ(c.Receive(300ms), std::nullopt);
  EXPECT_EQ(black_hole.stats().dropped, 1u);

  ChaosOptions doubling;
  doubling.duplicate = 1;
  ChaosProxy twice(echo.port(), doubling);
  ASSERT_TRUE(twice.Start().ok());
  Client d(twice.port());
  d.Send(9);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d.Receive(), 9u);  // doubled each way
}

TEST(ChaosProxyTest, DelayKeepsOrderAndHoldLetsLaterFramesOvertake) {
  EchoServer echo;
  ChaosOptions slow;
  slow.delay_ms = 100;
  ChaosProxy proxy(echo.port(), slow);
  ASSERT_TRUE(proxy.Start().ok());
  Client c(proxy.port());
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 1; i <= 20; ++i) c.Send(i);
  for (uint64_t i = 1; i <= 20; ++i) ASSERT_EQ(c.Receive(), i);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);  // 100 ms each way, at least

  ChaosOptions holding;
  holding.hold = 0.5;
  holding.hold_ms = 50;
  ChaosProxy reorder(echo.port(), holding);
  ASSERT_TRUE(reorder.Start().ok());
  Client d(reorder.port());
  std::vector<uint64_t> got;
  for (uint64_t i = 1; i <= 50; ++i) d.Send(i);
  for (int i = 0; i < 50; ++i) got.push_back(d.Receive().value_or(0));
  EXPECT_FALSE(std::is_sorted(got.begin(), got.end()));
  std::sort(got.begin(), got.end());
  for (uint64_t i = 1; i <= 50; ++i) EXPECT_EQ(got[i - 1], i);  // all there, none twice
}

TEST(ChaosProxyTest, StallHoldsTrafficUntilReleased) {
  EchoServer echo;
  ChaosProxy proxy(echo.port(), ChaosOptions{});
  ASSERT_TRUE(proxy.Start().ok());
  Client c(proxy.port());
  proxy.SetStall(true);
  c.Send(1);
  EXPECT_EQ(c.Receive(300ms), std::nullopt);
  proxy.SetStall(false);
  EXPECT_EQ(c.Receive(), 1u);
}

TEST(ChaosProxyTest, CutClosesEveryConnectionAndNewOnesWork) {
  EchoServer echo;
  ChaosProxy proxy(echo.port(), ChaosOptions{});
  ASSERT_TRUE(proxy.Start().ok());
  Client a(proxy.port()), b(proxy.port());
  a.Send(1);
  b.Send(2);
  ASSERT_EQ(a.Receive(), 1u);
  ASSERT_EQ(b.Receive(), 2u);
  proxy.CutAll();
  EXPECT_EQ(a.Receive(), std::nullopt);  // EOF, well before the timeout
  EXPECT_EQ(b.Receive(), std::nullopt);
  Client c(proxy.port());
  c.Send(3);
  EXPECT_EQ(c.Receive(), 3u);
  EXPECT_EQ(proxy.stats().cuts, 1u);
}

}  // namespace
}  // namespace txmsg::chaos
