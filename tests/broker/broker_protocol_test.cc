// The broker under hostile and careless clients: malformed, oversized, out
// of order and random frames, too many connections; and its /metrics.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <random>

#include "proto/frame_codec.h"
#include "tests/broker/broker_test_fixture.h"
#include "tests/broker/raw_connection.h"

namespace txmsg::testing_broker {
namespace {

// The real broker process: hostile clients and /metrics.
class BrokerProtocolTest : public BrokerProcessTest {};

TEST_F(BrokerProtocolTest, MalformedFramesGetAnErrorAndTheConnectionClosedWhileOthersAreServed) {
  StartBroker({"--max_frame_size=65536"});
  auto bystander = Admin();
  {
    RawConnection garbage(broker_->port());
    garbage.Write(std::string("\x00\x00\x00\x05\xff\xff\xff\xff\xff", 9));
    auto frames = garbage.ReadUntilClosed();
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].error().code(), wire::ERROR_INVALID_REQUEST);
  }
  {
    RawConnection huge(broker_->port());
    huge.Write(std::string("\x7f\xff\xff\xff", 4));
    auto frames = huge.ReadUntilClosed();
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].error().code(), wire::ERROR_TOO_LARGE);
  }
  {
    RawConnection no_hello(broker_->port());
    wire::Frame f;
    f.set_correlation_id(1);
    f.mutable_stats();
    no_hello.Write(f);
    auto frames = no_hello.ReadUntilClosed();
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].error().code(), wire::ERROR_OUT_OF_ORDER);
  }
  {
    auto consumer = Admin(wire::ROLE_CONSUMER);
    wire::Frame ack;
    ack.mutable_ack()->set_group("g");
    ack.mutable_ack()->set_topic("t");
    ack.mutable_ack()->add_message_ids(1);
    EXPECT_EQ(consumer->Call(ack).status().code(), absl::StatusCode::kFailedPrecondition);
    wire::Frame empty;  // no body: an unknown request
    EXPECT_EQ(consumer->Call(empty).status().code(), absl::StatusCode::kUnimplemented);
  }
  {
    auto producer = Admin(wire::ROLE_PRODUCER);
    wire::Frame half;
    half.mutable_send_half()->mutable_content()->set_topic("t");
    half.mutable_send_half()->set_tx_id("tx");
    half.mutable_send_half()->mutable_content()->set_body(std::string(70'000, 'x'));
    EXPECT_FALSE(producer->Call(half).ok());  // over the frame limit: refused
  }
  wire::Frame stats;
  stats.mutable_stats();
  EXPECT_OK(bystander->Call(stats));
}

TEST_F(BrokerProtocolTest, RandomBytesNeverCrashTheBroker) {
  StartBroker();
  std::mt19937 rng(99);
  for (int i = 0; i < 50; ++i) {
    RawConnection c(broker_->port());
    std::string bytes(1 + rng() % 2000, '\0');
    for (char& ch : bytes) ch = static_cast<char>(rng());
    if (i % 2 == 0) bytes[0] = bytes[1] = 0;  // plausible lengths too
    c.Write(bytes);
  }
  wire::Frame stats;
  stats.mutable_stats();
  EXPECT_OK(Admin()->Call(stats));
}

TEST_F(BrokerProtocolTest, ConnectionsAboveTheMaximumAreRefused) {
  StartBroker({"--max_connections=2"});
  auto a = Admin();
  auto b = Admin();
  ASSERT_TRUE(a && b);
  auto c = BlockingClient::Connect(broker_->address());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted) << c.status();
  a.reset();
  EXPECT_TRUE(WaitFor([&] { return BlockingClient::Connect(broker_->address()).ok(); }));
}

uint16_t FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

TEST_F(BrokerProtocolTest, MetricsEndpointServesPrometheusText) {
  const uint16_t port = FreePort();
  StartBroker({"--metrics_port=" + std::to_string(port)});
  auto producer = Producer();
  ASSERT_OK_AND_ASSIGN(uint64_t id, producer->SendHalf(Msg("m"), "tx-m"));
  ASSERT_OK(producer->EndTx(id, "tx-m", TxOutcome::kCommit));
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket sock(io);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  boost::asio::write(sock, boost::asio::buffer(req));
  std::string body;
  boost::system::error_code ec;
  char buf[4096];
  while (size_t n = sock.read_some(boost::asio::buffer(buf), ec)) {
    body.append(buf, n);
    if (ec) break;
  }
  EXPECT_NE(body.find("200 OK"), std::string::npos);
  for (const char* name :
       {"txmsg_connections ", "txmsg_messages{state=\"pending_half\"}", "txmsg_commits_total 1",
        "txmsg_log_fsync_seconds_bucket", "txmsg_checks_sent_total", "txmsg_log_segments"}) {
    EXPECT_NE(body.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace txmsg::testing_broker
