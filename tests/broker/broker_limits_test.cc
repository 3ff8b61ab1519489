// The broker's connection limits, as a flood of clients meets them: a
// connection must say Hello in time, one address cannot take every slot,
// operators keep a way in when clients have taken the rest, and a low
// descriptor limit lowers the connection cap instead of starving the log.
#include <sys/wait.h>

#include <boost/asio/connect.hpp>

#include <functional>

#include "absl/strings/str_cat.h"
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
  EXPECT_NE(fourth.status().message().find("from 127.0.0.1"), std::string::npos) << fourth.status();
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
  auto producer =
      BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "tx_order_group");
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

namespace caps {

wire::Frame SendTo(const std::string& topic) {
  wire::Frame f;
  f.mutable_send()->mutable_content()->set_topic(topic);
  f.mutable_send()->mutable_content()->set_body("b");
  return f;
}

wire::Frame SubscribeTo(const std::string& group, const std::string& topic) {
  wire::Frame f;
  f.mutable_subscribe()->set_group(group);
  f.mutable_subscribe()->set_topic(topic);
  f.mutable_subscribe()->set_max_unacked(1);
  return f;
}

void ExpectRefusedByCap(const absl::StatusOr<wire::Frame>& r, const std::string& flag) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_NE(r.status().message().find(flag), std::string::npos) << r.status();
}

}  // namespace caps

TEST_F(BrokerLimitsTest, NewTopicsBeyondTheCapAreRefusedAndExistingOnesKeepWorking) {
  StartBroker({"--max_topics=2"});
  auto producer = BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "pg");
  ASSERT_OK(producer.status());
  ASSERT_OK((*producer)->Call(caps::SendTo("t1")).status());
  ASSERT_OK((*producer)->Call(caps::SendTo("t2")).status());
  caps::ExpectRefusedByCap((*producer)->Call(caps::SendTo("t3")), "--max_topics");
  EXPECT_OK((*producer)->Call(caps::SendTo("t1")).status());

  auto consumer = Admin(wire::ROLE_CONSUMER);
  caps::ExpectRefusedByCap(consumer->Call(caps::SubscribeTo("g", "t3")), "--max_topics");
  EXPECT_OK(consumer->Call(caps::SubscribeTo("g", "t2")).status());
}

TEST_F(BrokerLimitsTest, ALogWithMoreTopicsThanTheCapStillStarts) {
  StartBroker();
  {
    auto producer = BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "pg");
    ASSERT_OK(producer.status());
    for (const char* t : {"t1", "t2", "t3"}) ASSERT_OK((*producer)->Call(caps::SendTo(t)).status());
  }
  StartBroker({"--max_topics=1"});
  auto producer = BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "pg");
  ASSERT_OK(producer.status());
  EXPECT_OK((*producer)->Call(caps::SendTo("t3")).status());
  caps::ExpectRefusedByCap((*producer)->Call(caps::SendTo("t4")), "--max_topics");
}

TEST_F(BrokerLimitsTest, NewGroupsBeyondTheCapAreRefusedAndExistingOnesKeepWorking) {
  // Producer group "pg" is one group; each (consumer group, topic) another.
  StartBroker({"--max_groups=3"});
  auto producer = BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "pg");
  ASSERT_OK(producer.status());
  auto consumer = Admin(wire::ROLE_CONSUMER);
  ASSERT_OK(consumer->Call(caps::SubscribeTo("g1", "t")).status());
  ASSERT_OK(consumer->Call(caps::SubscribeTo("g2", "t")).status());
  caps::ExpectRefusedByCap(consumer->Call(caps::SubscribeTo("g1", "u")), "--max_groups");
  EXPECT_OK(consumer->Call(caps::SubscribeTo("g1", "t")).status());

  auto refused = BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "pg2");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  EXPECT_NE(refused.status().message().find("--max_groups"), std::string::npos) << refused.status();
  EXPECT_OK(BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "pg").status());
}

TEST_F(BrokerLimitsTest, KeysAndPropertiesPastTheirBoundsAreRefusedNamingTheLimit) {
  StartBroker();
  auto producer = BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "pg");
  ASSERT_OK(producer.status());
  auto refused = [&](const std::function<void(wire::MessageContent&)>& fill,
                     const std::string& limit) {
    for (bool half : {false, true}) {
      wire::Frame f;
      if (half) f.mutable_send_half()->set_tx_id("tx");
      wire::MessageContent& c =
          half ? *f.mutable_send_half()->mutable_content() : *f.mutable_send()->mutable_content();
      c.set_topic("t");
      fill(c);
      auto r = (*producer)->Call(f);
      ASSERT_FALSE(r.ok()) << limit;
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
      EXPECT_NE(r.status().message().find(limit), std::string::npos) << r.status();
    }
  };
  refused([](wire::MessageContent& c) { c.set_key(std::string(4097, 'k')); }, "at most 4096");
  refused(
      [](wire::MessageContent& c) {
        for (int i = 0; i < 65; ++i) (*c.mutable_properties())[absl::StrCat("p", i)] = "v";
      },
      "at most 64");
  refused([](wire::MessageContent& c) { (*c.mutable_properties())[std::string(256, 'n')] = "v"; },
          "at most 255");
  refused([](wire::MessageContent& c) { (*c.mutable_properties())["p"] = std::string(4097, 'v'); },
          "at most 4096");
  wire::Frame fits = caps::SendTo("t");
  fits.mutable_send()->mutable_content()->set_key(std::string(4096, 'k'));
  EXPECT_OK((*producer)->Call(fits).status());
}

TEST_F(BrokerLimitsTest, ListingsAnswerOnePageAtATimeAndTheCursorWalksThemAll) {
  StartBroker();
  auto producer = BlockingClient::Connect(broker_->address(), wire::ROLE_PRODUCER, "pg");
  ASSERT_OK(producer.status());
  auto consumer = Admin(wire::ROLE_CONSUMER);
  std::vector<uint64_t> halves;
  for (const char* t : {"c", "a", "e", "b", "d"}) {
    ASSERT_OK(consumer->Call(caps::SubscribeTo("g", t)).status());
    wire::Frame half;
    half.mutable_send_half()->set_tx_id(std::string("tx-") + t);
    half.mutable_send_half()->mutable_content()->set_topic(t);
    auto r = (*producer)->Call(half);
    ASSERT_OK(r.status());
    halves.push_back(r->send_half_ok().message_id());
  }
  auto admin = Admin();
  std::vector<std::string> topics, groups;
  std::vector<uint64_t> listed;
  wire::Frame req;
  req.mutable_list_topics()->set_limit(2);
  for (bool more = true; more;) {
    auto r = admin->Call(req);
    ASSERT_OK(r.status());
    ASSERT_LE(r->list_topics_ok().topics_size(), 2);
    for (const auto& t : r->list_topics_ok().topics()) topics.push_back(t.name());
    more = r->list_topics_ok().more();
    req.mutable_list_topics()->set_after(topics.back());
  }
  EXPECT_EQ(topics, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  req.mutable_list_groups()->set_limit(3);
  for (bool more = true; more;) {
    auto r = admin->Call(req);
    ASSERT_OK(r.status());
    ASSERT_LE(r->list_groups_ok().groups_size(), 3);
    for (const auto& g : r->list_groups_ok().groups()) groups.push_back(g.topic());
    more = r->list_groups_ok().more();
    req.mutable_list_groups()->set_after_group("g");
    req.mutable_list_groups()->set_after_topic(groups.back());
  }
  EXPECT_EQ(groups, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  req.mutable_list_half()->set_limit(2);
  for (bool more = true; more;) {
    auto r = admin->Call(req);
    ASSERT_OK(r.status());
    ASSERT_LE(r->list_half_ok().messages_size(), 2);
    EXPECT_EQ(r->list_half_ok().total(), 5u);
    for (const auto& h : r->list_half_ok().messages()) listed.push_back(h.message_id());
    more = r->list_half_ok().more();
    req.mutable_list_half()->set_after_id(listed.back());
  }
  EXPECT_EQ(listed, halves);
}

TEST_F(BrokerLimitsTest, TheDlqIsListedOnePageAtATimeOldestFirst) {
  StartBroker();
  Consumer::Handler dead = [](const Delivery&) { return ConsumeResult::DeadLetter(); };
  ConsumerOptions o{Client(), "topic_txmsg", "g", 64};
  Consumer consumer(o, dead);
  ASSERT_OK(consumer.Start());
  auto producer = Producer();
  for (int i = 0; i < 5; ++i) ASSERT_OK(producer->Send(Msg(absl::StrCat("m", i))));
  auto admin = Admin();
  wire::Frame req;
  req.mutable_list_dlq()->set_group("g");
  ASSERT_TRUE(WaitFor([&] {
    auto r = admin->Call(req);
    return r.ok() && r->list_dlq_ok().entries_size() == 5;
  }));
  req.mutable_list_dlq()->set_limit(2);
  std::vector<std::pair<uint64_t, uint64_t>> listed;
  for (bool more = true; more;) {
    auto r = admin->Call(req);
    ASSERT_OK(r.status());
    ASSERT_LE(r->list_dlq_ok().entries_size(), 2);
    for (const auto& e : r->list_dlq_ok().entries()) {
      listed.emplace_back(e.moved_time_ms(), e.message_id());
    }
    more = r->list_dlq_ok().more();
    req.mutable_list_dlq()->set_after_moved_time_ms(listed.back().first);
    req.mutable_list_dlq()->set_after_id(listed.back().second);
  }
  ASSERT_EQ(listed.size(), 5u);
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
}

}  // namespace
}  // namespace txmsg::testing_broker
