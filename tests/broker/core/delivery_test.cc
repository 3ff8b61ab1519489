// Delivery in the broker core, in-process: groups and their consumers,
// credit, redelivery after a lost consumer or an ack timeout, nacks and the
// DLQ, on a manual clock.
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/broker/core/core_harness.h"
#include "tests/testutil/status_matchers.h"

namespace txmsg::broker::testing {
namespace {

constexpr char kTopic[] = "topic_txmsg";

std::vector<wire::Deliver> Deliveries(CoreClient& consumer) {
  std::vector<wire::Deliver> out;
  for (const wire::Frame& f : consumer.TakePushed()) {
    if (f.has_deliver()) out.push_back(f.deliver());
  }
  return out;
}

CoreClient& Subscribe(CoreHarness& h, const std::string& group, uint32_t max_unacked,
                      const std::string& topic = kTopic) {
  CoreClient& c = h.Connect(wire::ROLE_CONSUMER);
  const wire::Frame ok = c.Call(SubscribeFrame(topic, group, max_unacked));
  EXPECT_TRUE(ok.has_subscribe_ok()) << Describe(ok);
  return c;
}

uint64_t Send(CoreClient& producer, const std::string& body, const std::string& topic = kTopic) {
  const wire::Frame ok = producer.Call(SendFrame(topic, body));
  EXPECT_TRUE(ok.has_send_ok()) << Describe(ok);
  return ok.send_ok().message_id();
}

wire::GroupInfo Group(CoreHarness& h, const std::string& group) {
  const wire::Frame groups = h.Connect(wire::ROLE_ADMIN).Call(ListGroupsFrame());
  for (const wire::GroupInfo& g : groups.list_groups_ok().groups()) {
    if (g.group() == group) return g;
  }
  ADD_FAILURE() << "no group " << group << " in " << Describe(groups);
  return {};
}

TEST(CoreDeliveryTest, EveryGroupGetsEveryMessageAndConsumersOfOneGroupShareThem) {
  CoreHarness h({});
  ASSERT_OK(h.Open());
  CoreClient& a1 = Subscribe(h, "group-a", 4, "t");
  CoreClient& a2 = Subscribe(h, "group-a", 4, "t");
  CoreClient& b = Subscribe(h, "group-b", 4, "t");
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "p");
  for (int i = 0; i < 40; ++i) Send(producer, "m" + std::to_string(i), "t");
  std::multiset<std::string> got_a, got_b;
  size_t from_a1 = 0, from_a2 = 0;
  for (int round = 0; round < 40; ++round) {
    for (CoreClient* c : {&a1, &a2, &b}) {
      std::vector<uint64_t> ids;
      for (const wire::Deliver& d : Deliveries(*c)) {
        ids.push_back(d.message_id());
        (d.group() == "group-b" ? got_b : got_a).insert(d.content().body());
        if (c == &a1) ++from_a1;
        if (c == &a2) ++from_a2;
      }
      if (!ids.empty()) c->Send(AckFrame(c == &b ? "group-b" : "group-a", "t", ids), true);
    }
    h.Settle();
  }
  EXPECT_EQ(got_b.size(), 40u);
  EXPECT_EQ(std::set<std::string>(got_b.begin(), got_b.end()).size(), 40u);
  EXPECT_EQ(got_a.size(), 40u);
  EXPECT_EQ(std::set<std::string>(got_a.begin(), got_a.end()).size(), 40u);
  EXPECT_GT(from_a1, 0u);
  EXPECT_GT(from_a2, 0u);
}

TEST(CoreDeliveryTest, MessageIsRedeliveredAfterItsConsumerDiesWithoutAcking) {
  CoreHarness h({});
  ASSERT_OK(h.Open());
  CoreClient& silent = Subscribe(h, "tx_stock_group", 8);
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "p");
  const uint64_t id = Send(producer, "unacked");
  ASSERT_EQ(Deliveries(silent).size(), 1u);
  silent.Disconnect();  // dies holding it
  CoreClient& second = Subscribe(h, "tx_stock_group", 8);
  const std::vector<wire::Deliver> got = Deliveries(second);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id(), id);
  EXPECT_EQ(got[0].attempt(), 2u);
}

TEST(CoreDeliveryTest, UnackedDeliveryIsRedeliveredExactlyAtTheAckTimeout) {
  CoreHarness::Options o;
  o.broker.delivery.ack_timeout_ms = 200;
  CoreHarness h(o);
  ASSERT_OK(h.Open());
  CoreClient& slow = Subscribe(h, "g", 8);
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "p");
  const uint64_t id = Send(producer, "slow");
  std::vector<wire::Deliver> got = Deliveries(slow);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].attempt(), 1u);
  h.Advance(199);
  EXPECT_TRUE(Deliveries(slow).empty());
  h.Advance(1);
  got = Deliveries(slow);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id(), id);
  EXPECT_EQ(got[0].attempt(), 2u);
  // A late ack of the first attempt still counts.
  EXPECT_EQ(slow.Call(AckFrame("g", kTopic, {id})).ack_ok().acked(), 1u);
  h.Advance(10'000);
  EXPECT_TRUE(Deliveries(slow).empty());
}

TEST(CoreDeliveryTest, CreditIsNeverExceeded) {
  CoreHarness h({});
  ASSERT_OK(h.Open());
  CoreClient& consumer = Subscribe(h, "g", 3);
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "p");
  for (int i = 0; i < 10; ++i) Send(producer, "c" + std::to_string(i));
  std::vector<uint64_t> held;
  for (const wire::Deliver& d : Deliveries(consumer)) held.push_back(d.message_id());
  ASSERT_EQ(held.size(), 3u);
  // The broker knows all 10 and still holds 7 back.
  const wire::GroupInfo g = Group(h, "g");
  EXPECT_EQ(g.in_flight(), 3u);
  EXPECT_EQ(g.lag(), 10u);
  size_t done = 0;
  while (!held.empty()) {
    EXPECT_LE(held.size(), 3u);
    const uint64_t id = held.front();
    held.erase(held.begin());
    EXPECT_EQ(consumer.Call(AckFrame("g", kTopic, {id})).ack_ok().acked(), 1u);
    ++done;
    for (const wire::Deliver& d : Deliveries(consumer)) held.push_back(d.message_id());
  }
  EXPECT_EQ(done, 10u);
  // A repeated Subscribe changes the credit.
  ASSERT_TRUE(consumer.Call(SubscribeFrame(kTopic, "g", 1)).has_subscribe_ok());
  for (int i = 0; i < 3; ++i) Send(producer, "d" + std::to_string(i));
  EXPECT_EQ(Deliveries(consumer).size(), 1u);
}

TEST(CoreDeliveryTest, NackedMessageGoesToTheDlqAfterMaxAttemptsAndCanBeReplayed) {
  CoreHarness::Options o;
  o.broker.delivery.max_attempts = 3;
  o.broker.delivery.backoff_base_ms = 10;
  CoreHarness h(o);
  ASSERT_OK(h.Open());
  CoreClient& consumer = Subscribe(h, "g", 8);
  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "p");
  const uint64_t id = Send(producer, "poison");
  std::vector<uint32_t> attempts;
  for (int i = 0; i < 3; ++i) {
    const std::vector<wire::Deliver> got = Deliveries(consumer);
    ASSERT_EQ(got.size(), 1u) << "attempt " << i + 1;
    attempts.push_back(got[0].attempt());
    EXPECT_EQ(consumer.Call(NackFrame("g", kTopic, id)).ack_ok().acked(), 1u);
    h.Advance(10 << i);  // the backoff doubles
  }
  EXPECT_EQ(attempts, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_TRUE(Deliveries(consumer).empty());
  // The DLQ survives a power cut.
  ASSERT_OK(h.PowerCut());
  ASSERT_OK(h.Open());
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  const wire::Frame dlq = admin.Call(ListDlqFrame("g"));
  ASSERT_EQ(dlq.list_dlq_ok().entries_size(), 1) << Describe(dlq);
  EXPECT_EQ(dlq.list_dlq_ok().entries(0).message_id(), id);
  EXPECT_EQ(dlq.list_dlq_ok().entries(0).attempts(), 3u);
  CoreClient& again = Subscribe(h, "g", 8);
  EXPECT_TRUE(Deliveries(again).empty());
  EXPECT_EQ(admin.Call(ReplayDlqFrame("g")).replay_dlq_ok().replayed(), 1u);
  const std::vector<wire::Deliver> replayed = Deliveries(again);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(replayed[0].attempt(), 1u);
  EXPECT_EQ(again.Call(AckFrame("g", kTopic, {id})).ack_ok().acked(), 1u);
  EXPECT_EQ(admin.Call(ListDlqFrame("g")).list_dlq_ok().entries_size(), 0);
}

}  // namespace
}  // namespace txmsg::broker::testing
