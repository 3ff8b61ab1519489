// The broker's connection limits, as a flood of clients meets them: a
// connection must say Hello in time, one address cannot take every slot,
// operators keep a way in when clients have taken the rest, and a low
// descriptor limit lowers the connection cap instead of starving the log.
#include <sys/wait.h>

#include <boost/asio/connect.hpp>

#include "tests/broker/broker_test_fixture.h"
#include "tests/broker/log/log_test_util.h"
#include "tests/broker/raw_connection.h"

namespace txmsg::testing_broker {
namespace {

class BrokerLimitsTest : public BrokerProcessTest {};

wire::Frame Hello(wire::ClientRole role) {
  wire::Frame f;
  f.set_correlation_id(1);
  f.mutable_hello()->set_version(wire::PROTOCOL_VERSION_1);
  f.mutable_hello()->set_role(role);
  if (role == wire::ROLE_PRODUCER) f.mutable_hello()->set_producer_group("tx_order_group");
  return f;
}

TEST_F(BrokerLimitsTest, ConnectionThatNeverSaysHelloIsClosedAtTheDeadline) {
  StartBroker({"--hello_timeout=300ms"});
  RawConnection silent(broker_->port());
  const std::vector<wire::Frame> frames = silent.ReadUntilClosed();  // returns once closed
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].error().code(), wire::ERROR_INVALID_REQUEST);
  EXPECT_NE(frames[0].error().message().find("no Hello within 300 ms"), std::string::npos)
      << frames[0].error().message();
}

TEST_F(BrokerLimitsTest, IdleConnectionsAtTheLimitDoNotLockClientsOutForLong) {
  StartBroker({"--max_connections=20", "--hello_timeout=500ms"});
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(std::make_unique<RawConnection>(broker_->port()));
  // Every slot is held by a connection that never speaks; once their Hello
  // deadline passes they are closed and a real client gets in.
  auto producer = Producer();
  ASSERT_TRUE(producer->connected());
  ASSERT_OK(producer->Send(Msg("after-the-flood")));
}

TEST_F(BrokerLimitsTest, SlotsKeptForAdminsLetAnOperatorInWhenClientsTookTheRest) {
  StartBroker({"--max_connections=6", "--admin_connections=2"});
  std::vector<std::unique_ptr<BlockingClient>> clients;
  for (int i = 0; i < 4; ++i) {
    auto c = BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "tx_order_group");
    ASSERT_OK(c.status());
    clients.push_back(std::move(*c));
  }
  auto refused = BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "tx_order_group");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  EXPECT_NE(refused.status().message().find("kept for admin"), std::string::npos)
      << refused.status();
  // An operator still gets in, and sees the refusal counted.
  auto admin = BlockingClient::Connect(broker_->address(), wire::ROLE_ADMIN);
  ASSERT_OK(admin.status());
  wire::Frame stats;
  stats.mutable_stats();
  EXPECT_OK((*admin)->Call(stats).status());
}

TEST_F(BrokerLimitsTest, OneAddressCannotTakeEverySlot) {
  StartBroker({"--max_connections_per_source=3"});
  std::vector<std::unique_ptr<BlockingClient>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(Admin());
  auto fourth = BlockingClient::Connect(broker_->address());
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.status().code(), absl::StatusCode::kResourceExhausted) << fourth.status();
  EXPECT_NE(fourth.status().message().find("from 127.0.0.1"), std::string::npos)
      << fourth.status();
  clients.pop_back();  // a slot frees up
  EXPECT_TRUE(WaitFor([&] { return BlockingClient::Connect(broker_->address()).ok(); }));
}

// With 128 descriptors the broker lowers its connection cap to keep a
// reserve for the log: a flood of connections is refused, the log still
// opens new segments, and the broker stays up and serves.
TEST_F(BrokerLimitsTest, LowDescriptorLimitLowersTheCapAndTheLogKeepsWorking) {
  broker_ = std::make_unique<BrokerProcess>(tmp_.File("data"),
                                            std::vector<std::string>{"--segment_size=4096"});
  broker_->set_wrapper("ulimit -n 128 && exec \"$@\"");
  ASSERT_TRUE(broker_->Start());
  auto producer = BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "tx_order_group");
  ASSERT_OK(producer.status());
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < 150; ++i) {
    // Each says Hello, so none is closed at the Hello deadline.
    flood.push_back(std::make_unique<RawConnection>(broker_->port()));
    flood.back()->Write(Hello(wire::ROLE_CONSUMER));
  }
  // 150 connections do not fit under 128 descriptors: the last is refused.
  const std::vector<wire::Frame> last = flood.back()->ReadUntilClosed();
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back().error().code(), wire::ERROR_RESOURCE_EXHAUSTED);

  // Segments of 4 KiB roll every few messages, and each roll opens a file.
  for (int i = 0; i < 200; ++i) {
    wire::Frame send;
    send.mutable_send()->mutable_content()->set_topic("topic_txmsg");
    send.mutable_send()->mutable_content()->set_body(std::string(100, 'x'));
    ASSERT_OK((*producer)->Call(send).status()) << i;
  }
  EXPECT_FALSE(broker_->exited());
  EXPECT_GT(log::testing::SegmentFiles(tmp_.File("data")).size(), 3u);
}

}  // namespace
}  // namespace txmsg::testing_broker
