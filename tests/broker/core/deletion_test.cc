// Deleting topics and consumer groups (txmsgctl topic delete, group
// delete), in-process: what goes with them, what refuses them, that a
// deletion survives a restart, and that a name used again starts empty.
// Also: a message every group acked stays forgotten across a restart, even
// for a group created after it was forgotten.
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/broker/core/core_frames.h"
#include "tests/broker/core/core_harness.h"
#include "tests/testutil/status_matchers.h"

namespace txmsg::broker::testing {
namespace {

constexpr char kTopic[] = "orders";
constexpr char kGroup[] = "billing";
constexpr char kOtherGroup[] = "audit";

wire::Frame DeleteTopicFrame(const std::string& topic) {
  wire::Frame f;
  f.mutable_delete_topic()->set_topic(topic);
  return f;
}

wire::Frame DeleteGroupFrame(const std::string& group, const std::string& topic) {
  wire::Frame f;
  f.mutable_delete_group()->set_group(group);
  f.mutable_delete_group()->set_topic(topic);
  return f;
}

std::vector<std::string> TopicNames(CoreHarness& h) {
  wire::Frame f;
  f.mutable_list_topics();
  const wire::Frame r = h.Connect(wire::ROLE_ADMIN).Call(f);
  EXPECT_TRUE(r.has_list_topics_ok()) << Describe(r);
  std::vector<std::string> names;
  for (const wire::TopicInfo& t : r.list_topics_ok().topics()) names.push_back(t.name());
  return names;
}

uint64_t Send(CoreHarness& h, const std::string& topic, const std::string& body) {
  const wire::Frame r = h.Connect(wire::ROLE_PRODUCER).Call(SendFrame(topic, body));
  EXPECT_TRUE(r.has_send_ok()) << Describe(r);
  return r.send_ok().message_id();
}

// Subscribes a consumer; returns the backlog the broker announced.
uint64_t Subscribe(CoreClient& consumer, const std::string& topic, const std::string& group) {
  const wire::Frame r = consumer.Call(SubscribeFrame(topic, group, 100));
  EXPECT_TRUE(r.has_subscribe_ok()) << Describe(r);
  return r.subscribe_ok().backlog();
}

std::vector<uint64_t> Delivered(CoreClient& consumer) {
  std::vector<uint64_t> ids;
  for (const wire::Frame& f : consumer.TakePushed()) {
    if (f.has_deliver()) ids.push_back(f.deliver().message_id());
  }
  return ids;
}

wire::ErrorCode ErrorOf(const wire::Frame& f) {
  return f.has_error() ? f.error().code() : wire::ERROR_CODE_UNSPECIFIED;
}

TEST(CoreDeletionTest, DeletedTopicTakesItsMessagesAndGroupsAndFreesItsPlace) {
  CoreHarness::Options o;
  o.broker.max_topics = 2;
  CoreHarness h(o);
  ASSERT_OK(h.Open());
  CoreClient& consumer = h.Connect(wire::ROLE_CONSUMER);
  Subscribe(consumer, kTopic, kGroup);
  Send(h, kTopic, "one");
  Send(h, kTopic, "two");
  Send(h, "other", "kept");
  consumer.Disconnect();
  // At the cap: a third topic is refused.
  EXPECT_EQ(ErrorOf(h.Connect(wire::ROLE_PRODUCER).Call(SendFrame("third", "x"))),
            wire::ERROR_RESOURCE_EXHAUSTED);

  const wire::Frame r = h.Connect(wire::ROLE_ADMIN).Call(DeleteTopicFrame(kTopic));
  ASSERT_TRUE(r.has_delete_topic_ok()) << Describe(r);
  EXPECT_EQ(r.delete_topic_ok().dropped_messages(), 2u);
  EXPECT_EQ(r.delete_topic_ok().dropped_groups(), 1u);
  EXPECT_EQ(TopicNames(h), std::vector<std::string>{"other"});
  EXPECT_EQ(ErrorOf(h.Connect(wire::ROLE_ADMIN).Call(ListDlqFrame(kGroup))), wire::ERROR_NOT_FOUND);
  const wire::Frame stats = h.Connect(wire::ROLE_ADMIN).Call(StatsFrame());
  EXPECT_EQ(stats.stats_ok().committed(), 1u);  // "kept" only

  // Its place is free, and the name starts empty when used again.
  Send(h, "third", "x");
  CoreClient& again = h.Connect(wire::ROLE_CONSUMER);
  EXPECT_EQ(ErrorOf(again.Call(SubscribeFrame(kTopic, kGroup, 100))),
            wire::ERROR_RESOURCE_EXHAUSTED);  // two topics again: "other", "third"
  ASSERT_TRUE(h.Connect(wire::ROLE_ADMIN).Call(DeleteTopicFrame("third")).has_delete_topic_ok());
  EXPECT_EQ(Subscribe(again, kTopic, kGroup), 0u);
  EXPECT_TRUE(Delivered(again).empty());
}

TEST(CoreDeletionTest, TopicDeletionIsRefusedWhileItWouldLoseLiveWork) {
  CoreHarness h(CoreHarness::Options{});
  ASSERT_OK(h.Open());
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  EXPECT_EQ(ErrorOf(admin.Call(DeleteTopicFrame("never-seen"))), wire::ERROR_NOT_FOUND);

  CoreClient& producer = h.Connect(wire::ROLE_PRODUCER, "shop");
  const wire::Frame half = producer.Call(SendHalfFrame(kTopic, "tx-1", "pending"));
  ASSERT_TRUE(half.has_send_half_ok()) << Describe(half);
  const wire::Frame pending = admin.Call(DeleteTopicFrame(kTopic));
  EXPECT_EQ(ErrorOf(pending), wire::ERROR_FAILED_PRECONDITION) << Describe(pending);
  EXPECT_NE(pending.error().message().find("open half"), std::string::npos) << Describe(pending);

  ASSERT_FALSE(producer.Call(EndTxFrame(half.send_half_ok().message_id(), "tx-1", wire::TX_COMMIT))
                   .has_error());
  CoreClient& consumer = h.Connect(wire::ROLE_CONSUMER);
  Subscribe(consumer, kTopic, kGroup);
  const wire::Frame busy = admin.Call(DeleteTopicFrame(kTopic));
  EXPECT_EQ(ErrorOf(busy), wire::ERROR_FAILED_PRECONDITION) << Describe(busy);
  EXPECT_NE(busy.error().message().find(kGroup), std::string::npos) << Describe(busy);
  EXPECT_EQ(TopicNames(h), std::vector<std::string>{kTopic});  // nothing changed

  consumer.Disconnect();
  EXPECT_TRUE(admin.Call(DeleteTopicFrame(kTopic)).has_delete_topic_ok());
  EXPECT_EQ(ErrorOf(admin.Call(DeleteTopicFrame(kTopic))), wire::ERROR_NOT_FOUND);
}

TEST(CoreDeletionTest, DeletedGroupTakesItsBacklogAndDlqOnly) {
  CoreHarness::Options o;
  o.broker.delivery.max_attempts = 1;
  CoreHarness h(o);
  ASSERT_OK(h.Open());
  CoreClient& billing = h.Connect(wire::ROLE_CONSUMER);
  CoreClient& audit = h.Connect(wire::ROLE_CONSUMER);
  Subscribe(billing, kTopic, kGroup);
  Subscribe(audit, kTopic, kOtherGroup);
  const uint64_t first = Send(h, kTopic, "first");
  const uint64_t second = Send(h, kTopic, "second");
  ASSERT_EQ(Delivered(billing).size(), 2u);
  ASSERT_EQ(Delivered(audit).size(), 2u);
  // audit acks the first; billing dead-letters the first and keeps the second.
  audit.Call(AckFrame(kOtherGroup, kTopic, {first}));
  billing.Call(NackFrame(kGroup, kTopic, first));
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  ASSERT_EQ(admin.Call(ListDlqFrame(kGroup)).list_dlq_ok().entries_size(), 1);

  EXPECT_EQ(ErrorOf(admin.Call(DeleteGroupFrame(kGroup, "no-such-topic"))), wire::ERROR_NOT_FOUND);
  const wire::Frame busy = admin.Call(DeleteGroupFrame(kGroup, kTopic));
  EXPECT_EQ(ErrorOf(busy), wire::ERROR_FAILED_PRECONDITION) << Describe(busy);
  billing.Disconnect();
  const wire::Frame r = admin.Call(DeleteGroupFrame(kGroup, kTopic));
  ASSERT_TRUE(r.has_delete_group_ok()) << Describe(r);
  EXPECT_EQ(r.delete_group_ok().unacked(), 2u);
  // The second too: in flight when billing left, it used its one attempt.
  EXPECT_EQ(r.delete_group_ok().dlq(), 2u);
  EXPECT_EQ(ErrorOf(admin.Call(ListDlqFrame(kGroup))), wire::ERROR_NOT_FOUND);
  // The first was needed by billing only: gone. audit still gets the second.
  EXPECT_EQ(admin.Call(StatsFrame()).stats_ok().committed(), 1u);
  EXPECT_EQ(admin.Call(ShowHalfFrame(first)).error().code(), wire::ERROR_NOT_FOUND);
  audit.Call(AckFrame(kOtherGroup, kTopic, {second}));
  EXPECT_EQ(admin.Call(StatsFrame()).stats_ok().committed(), 0u);

  // billing again: a new group, nothing of the old one's DLQ.
  CoreClient& back = h.Connect(wire::ROLE_CONSUMER);
  EXPECT_EQ(Subscribe(back, kTopic, kGroup), 0u);
  EXPECT_TRUE(admin.Call(ListDlqFrame(kGroup)).list_dlq_ok().entries().empty());
}

TEST(CoreDeletionTest, DeletionsSurviveARestartAndNamesUsedAgainStartEmpty) {
  CoreHarness::Options o;
  o.broker.max_topics = 2;
  o.broker.max_groups = 2;
  CoreHarness h(o);
  ASSERT_OK(h.Open());
  {
    CoreClient& a = h.Connect(wire::ROLE_CONSUMER);
    CoreClient& b = h.Connect(wire::ROLE_CONSUMER);
    Subscribe(a, kTopic, kGroup);
    Subscribe(b, "doomed", kGroup);
    Send(h, kTopic, "owed to billing only");
    Send(h, "doomed", "goes with its topic");
    a.Disconnect();
    b.Disconnect();
  }
  CoreClient& admin = h.Connect(wire::ROLE_ADMIN);
  ASSERT_TRUE(admin.Call(DeleteGroupFrame(kGroup, kTopic)).has_delete_group_ok());
  ASSERT_TRUE(admin.Call(DeleteTopicFrame("doomed")).has_delete_topic_ok());

  ASSERT_OK(h.PowerCut());
  ASSERT_OK(h.Open());
  EXPECT_EQ(TopicNames(h), std::vector<std::string>{kTopic});
  EXPECT_EQ(h.Connect(wire::ROLE_ADMIN).Call(StatsFrame()).stats_ok().committed(), 0u);
  EXPECT_EQ(ErrorOf(h.Connect(wire::ROLE_ADMIN).Call(ListDlqFrame(kGroup))), wire::ERROR_NOT_FOUND);
  // Both names start empty, and the caps count what is left.
  CoreClient& consumer = h.Connect(wire::ROLE_CONSUMER);
  EXPECT_EQ(Subscribe(consumer, kTopic, kGroup), 0u);
  EXPECT_EQ(Subscribe(consumer, "doomed", kGroup), 0u);
  EXPECT_TRUE(Delivered(consumer).empty());
  ASSERT_OK(h.PowerCut());
  ASSERT_OK(h.Open());
  CoreClient& later = h.Connect(wire::ROLE_CONSUMER);
  EXPECT_EQ(Subscribe(later, kTopic, kGroup), 0u);
  EXPECT_EQ(Subscribe(later, "doomed", kGroup), 0u);
  EXPECT_TRUE(Delivered(later).empty());
}

TEST(CoreDeletionTest, MessageAckedByEveryGroupIsNotHandedToALaterGroupAfterARestart) {
  CoreHarness h(CoreHarness::Options{});
  ASSERT_OK(h.Open());
  CoreClient& billing = h.Connect(wire::ROLE_CONSUMER);
  Subscribe(billing, kTopic, kGroup);
  const uint64_t id = Send(h, kTopic, "acked and forgotten");
  ASSERT_EQ(Delivered(billing), std::vector<uint64_t>{id});
  billing.Call(AckFrame(kGroup, kTopic, {id}));
  // A group created after the message was forgotten is not owed it...
  CoreClient& audit = h.Connect(wire::ROLE_CONSUMER);
  EXPECT_EQ(Subscribe(audit, kTopic, kOtherGroup), 0u);
  EXPECT_TRUE(Delivered(audit).empty());

  // ...nor after a restart, while the message's records are still in the log.
  ASSERT_OK(h.PowerCut());
  ASSERT_OK(h.Open());
  CoreClient& audit_again = h.Connect(wire::ROLE_CONSUMER);
  EXPECT_EQ(Subscribe(audit_again, kTopic, kOtherGroup), 0u);
  EXPECT_TRUE(Delivered(audit_again).empty());
  EXPECT_EQ(h.Connect(wire::ROLE_ADMIN).Call(StatsFrame()).stats_ok().committed(), 0u);
}

}  // namespace
}  // namespace txmsg::broker::testing
