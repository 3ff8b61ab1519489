#include "broker/state/topic_registry.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace txmsg::broker {
namespace {

TEST(TopicRegistryTest, NamesAreInternedOnce) {
  const DeliveryOptions o;
  TopicRegistry r(&o);
  const uint32_t a = r.Intern("orders");
  EXPECT_EQ(r.Intern("stock"), a + 1);
  EXPECT_EQ(r.Intern("orders"), a);
  EXPECT_EQ(r.Name(a), "orders");
  EXPECT_EQ(r.FindName("stock"), a + 1);
  EXPECT_FALSE(r.FindName("nobody"));
}

TEST(TopicRegistryTest, TopicIsCreatedOnFirstUseAndFoundByName) {
  const DeliveryOptions o;
  TopicRegistry r(&o);
  r.Intern("a-group");  // a name is not yet a topic
  EXPECT_FALSE(r.FindTopic("a-group"));
  const uint32_t t = r.AddTopic("topic_txmsg");
  EXPECT_EQ(r.AddTopic("topic_txmsg"), t);
  EXPECT_EQ(r.FindTopic("topic_txmsg"), t);
  EXPECT_EQ(r.TopicName(t), "topic_txmsg");
  EXPECT_EQ(r.topic_count(), 1u);
  EXPECT_TRUE(r.topic(t).groups.empty());
}

TEST(TopicRegistryTest, GroupTopicIsCreatedOnceAndListedUnderItsTopic) {
  const DeliveryOptions o;
  TopicRegistry r(&o);
  const uint32_t t1 = r.AddTopic("t1");
  const uint32_t t2 = r.AddTopic("t2");
  const uint32_t g = r.Intern("g");
  TopicRegistry::Added first = r.AddGroupTopic(g, t1);
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.gt.group, g);
  EXPECT_EQ(first.gt.topic, t1);
  TopicRegistry::Added again = r.AddGroupTopic(g, t1);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(&again.gt, &first.gt);
  GroupTopic& other = r.AddGroupTopic(g, t2).gt;
  EXPECT_EQ(r.group_topic_count(), 2u);
  EXPECT_EQ(r.topic(t1).groups, std::vector<uint32_t>{first.gt.index});
  EXPECT_EQ(r.topic(t2).groups, std::vector<uint32_t>{other.index});
  EXPECT_EQ(&r.group_topic(other.index), &other);
  // Created group-topics stay where they are.
  for (int i = 0; i < 100; ++i) r.AddGroupTopic(r.Intern("g" + std::to_string(i)), t1);
  EXPECT_EQ(r.FindGroupTopic(g, t1), &first.gt);
}

TEST(TopicRegistryTest, FindingAGroupTopicNeverCreatesNames) {
  const DeliveryOptions o;
  TopicRegistry r(&o);
  const uint32_t t = r.AddTopic("t");
  GroupTopic& gt = r.AddGroupTopic(r.Intern("g"), t).gt;
  EXPECT_EQ(r.FindGroupTopic("g", "t"), &gt);
  EXPECT_EQ(r.FindGroupTopic("g", "other"), nullptr);
  EXPECT_EQ(r.FindGroupTopic("stranger", "t"), nullptr);
  EXPECT_FALSE(r.FindName("other"));
  EXPECT_FALSE(r.FindName("stranger"));
  EXPECT_EQ(r.FindGroupTopic(r.Intern("g"), r.AddTopic("t2")), nullptr);
}

TEST(TopicRegistryTest, GroupTopicsOfAGroupComeInCreationOrder) {
  const DeliveryOptions o;
  TopicRegistry r(&o);
  const uint32_t a = r.AddTopic("a");
  const uint32_t b = r.AddTopic("b");
  const uint32_t g = r.Intern("g");
  GroupTopic& gb = r.AddGroupTopic(g, b).gt;
  r.AddGroupTopic(r.Intern("h"), a);
  GroupTopic& ga = r.AddGroupTopic(g, a).gt;
  EXPECT_EQ(r.GroupTopicsOf("g"), (std::vector<GroupTopic*>{&gb, &ga}));
  EXPECT_TRUE(r.GroupTopicsOf("nobody").empty());
}

TEST(TopicRegistryTest, ProducersOfAGroupAreAskedInTurn) {
  const DeliveryOptions o;
  TopicRegistry r(&o);
  const uint32_t g = r.Intern("tx_order_group");
  EXPECT_FALSE(r.NextProducer(g));
  r.AddProducer(g, 7);
  r.AddProducer(g, 8);
  r.AddProducer(r.Intern("other"), 9);
  EXPECT_EQ(r.NextProducer(g), 7u);
  EXPECT_EQ(r.NextProducer(g), 8u);
  EXPECT_EQ(r.NextProducer(g), 7u);
  r.RemoveProducer(g, 7);
  EXPECT_EQ(r.NextProducer(g), 8u);
  EXPECT_EQ(r.NextProducer(g), 8u);
  r.RemoveProducer(g, 8);
  r.RemoveProducer(g, 8);  // twice: nothing happens
  EXPECT_FALSE(r.NextProducer(g));
  EXPECT_EQ(r.NextProducer(r.Intern("other")), 9u);
}

TEST(TopicRegistryTest, WalksStartAfterTheCursorInNameOrderAndSayWhetherMoreFollow) {
  const DeliveryOptions o;
  TopicRegistry r(&o);
  for (const char* t : {"c", "a", "b"}) r.AddTopic(t);
  std::vector<std::string> seen;
  const bool more = r.WalkTopicsAfter("a", [&](uint32_t t) {
    if (seen.size() == 1) return false;  // a page of one
    seen.push_back(r.TopicName(t));
    return true;
  });
  EXPECT_TRUE(more);
  EXPECT_EQ(seen, (std::vector<std::string>{"b"}));
  EXPECT_FALSE(r.WalkTopicsAfter("b", [](uint32_t) { return true; }));

  r.AddGroupTopic(r.Intern("g2"), *r.FindTopic("a"));
  r.AddGroupTopic(r.Intern("g1"), *r.FindTopic("c"));
  r.AddGroupTopic(r.Intern("g1"), *r.FindTopic("a"));
  std::vector<std::string> pairs;
  EXPECT_FALSE(r.WalkGroupTopicsAfter("g1", "a", [&](const GroupTopic& gt) {
    pairs.push_back(r.Name(gt.group) + "/" + r.TopicName(gt.topic));
    return true;
  }));
  EXPECT_EQ(pairs, (std::vector<std::string>{"g1/c", "g2/a"}));
  EXPECT_TRUE(r.HasGroupTopic("g2", "a"));
  EXPECT_FALSE(r.HasGroupTopic("g2", "c"));
}

TEST(TopicRegistryTest, ProducerGroupsAreCountedOnceAndApartFromOtherNames) {
  const DeliveryOptions o;
  TopicRegistry r(&o);
  r.AddTopic("orders");
  EXPECT_FALSE(r.IsProducerGroup("orders"));
  r.AddProducerGroup("tx_order_group");
  r.AddProducerGroup("tx_order_group");
  EXPECT_TRUE(r.IsProducerGroup("tx_order_group"));
  EXPECT_EQ(r.producer_group_count(), 1u);
}

TEST(TopicRegistryTest, RemovedGroupTopicFreesItsSlotForANewOneThatStartsEmpty) {
  const DeliveryOptions o;
  TopicRegistry r(&o);
  const uint32_t t = r.AddTopic("t");
  const uint32_t g = r.Intern("g");
  const uint32_t h = r.Intern("h");
  GroupTopic& first = r.AddGroupTopic(g, t).gt;
  const uint32_t slot = first.index;
  first.queue.AddToDlq(7, 3, 100);
  r.AddGroupTopic(h, t);
  r.RemoveGroupTopic(slot);
  EXPECT_EQ(r.live_group_topic_count(), 1u);
  EXPECT_EQ(r.group_topic_count(), 2u);  // the slot stays, empty and not live
  EXPECT_FALSE(r.group_topic(slot).live);
  EXPECT_TRUE(r.group_topic(slot).queue.dlq().empty());
  EXPECT_EQ(r.FindGroupTopic("g", "t"), nullptr);
  EXPECT_TRUE(r.GroupTopicsOf("g").empty());
  EXPECT_EQ(r.topic(t).groups.size(), 1u);
  bool listed = false;
  r.WalkGroupTopicsAfter("", "", [&](const GroupTopic& gt) {
    listed = listed || gt.group == g;
    return true;
  });
  EXPECT_FALSE(listed);

  const TopicRegistry::Added again = r.AddGroupTopic(g, t);
  EXPECT_TRUE(again.created);
  EXPECT_EQ(again.gt.index, slot);  // reused
  EXPECT_TRUE(again.gt.live);
  EXPECT_TRUE(again.gt.queue.dlq().empty());
  EXPECT_EQ(r.live_group_topic_count(), 2u);
}

TEST(TopicRegistryTest, RemovedTopicFreesItsNameAndSlot) {
  const DeliveryOptions o;
  TopicRegistry r(&o);
  const uint32_t a = r.AddTopic("a");
  r.AddTopic("b");
  r.topic(a).storing = 2;
  r.RemoveTopic(a);
  EXPECT_EQ(r.live_topic_count(), 1u);
  EXPECT_FALSE(r.FindTopic("a"));
  std::vector<std::string> names;
  r.WalkTopicsAfter("", [&](uint32_t t) {
    names.push_back(r.TopicName(t));
    return true;
  });
  EXPECT_EQ(names, std::vector<std::string>{"b"});
  // The next new topic, whatever its name, takes the free slot, empty.
  const uint32_t c = r.AddTopic("c");
  EXPECT_EQ(c, a);
  EXPECT_TRUE(r.topic(c).live);
  EXPECT_EQ(r.topic(c).storing, 0u);
  EXPECT_EQ(r.TopicName(c), "c");
  const uint32_t again = r.AddTopic("a");  // "a" again: a new topic, in a new slot
  EXPECT_EQ(again, r.topic_count() - 1);
  EXPECT_EQ(r.live_topic_count(), 3u);
}

}  // namespace
}  // namespace txmsg::broker
