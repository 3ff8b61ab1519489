// The broker's names and who uses them: interned names (topics, groups),
// topics and the consumer groups subscribed to each, one delivery queue per
// (group, topic), and the live producer connections of each producer group.
// Entries are created on first use and live until an operator deletes them:
// a group that subscribed once keeps its place (and its DLQ) across
// reconnects. A deleted topic or group-topic frees its slot (the caps count
// live ones only), and the slot is reused by the next new one, which starts
// empty. Interned names stay (a few bytes each).
//
// Pure bookkeeping: no I/O, no clock. Not thread-safe (the broker's state
// thread owns it).
#ifndef TXMSG_BROKER_STATE_TOPIC_REGISTRY_H_
#define TXMSG_BROKER_STATE_TOPIC_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "broker/state/delivery_queue.h"

namespace txmsg::broker {

struct Topic {
  uint32_t name = 0;             // interned
  std::vector<uint32_t> groups;  // group-topic indices, in creation order
  uint32_t storing = 0;          // messages for it on their way to the log
  bool live = true;              // false: deleted, its slot free for reuse
};

// One consumer group's view of one topic.
struct GroupTopic {
  GroupTopic(uint32_t i, uint32_t g, uint32_t t, const DeliveryOptions* o)
      : index(i), group(g), topic(t), queue(o) {}
  const uint32_t index;  // in the registry
  const uint32_t group;  // interned name
  const uint32_t topic;  // topic index
  DeliveryQueue queue;
  std::vector<uint64_t> consumers;  // peer ids of the subscribed connections
  size_t rr = 0;                    // next consumer to offer a message
  uint64_t record_pos = 0;          // where its GROUP record is (for carrying it forward)
  uint64_t delivered = 0;
  uint64_t acked = 0;
  bool live = true;  // false: deleted, its slot free for reuse
};

class TopicRegistry {
 public:
  // Every group-topic's delivery queue follows `delivery`, which must
  // outlive the registry.
  explicit TopicRegistry(const DeliveryOptions* delivery) : delivery_(delivery) {}
  TopicRegistry(const TopicRegistry&) = delete;
  TopicRegistry& operator=(const TopicRegistry&) = delete;

  // ---- names

  // The index of `name`, interned on first use.
  uint32_t Intern(const std::string& name);
  // The index of `name` if it was interned.
  std::optional<uint32_t> FindName(const std::string& name) const;
  const std::string& Name(uint32_t name) const { return names_[name]; }

  // ---- topics

  // The index of topic `name`, created on first use.
  uint32_t AddTopic(const std::string& name);
  std::optional<uint32_t> FindTopic(const std::string& name) const;
  const Topic& topic(uint32_t t) const { return topics_[t]; }
  Topic& topic(uint32_t t) { return topics_[t]; }
  const std::string& TopicName(uint32_t t) const { return names_[topics_[t].name]; }
  // Slots, deleted ones included (loops over topic indices).
  size_t topic_count() const { return topics_.size(); }
  // Topics that exist (the cap's count).
  size_t live_topic_count() const { return topics_.size() - free_topics_.size(); }
  // Deletes topic `t`, which must have no group-topics left: its name is
  // free for a new topic, its slot for reuse.
  void RemoveTopic(uint32_t t);
  // Calls fn(t) for each topic named after `after`, by name, until fn
  // returns false (it did not take that topic). Returns whether it stopped
  // so (more topics follow); a page walks only what it shows.
  template <typename Fn>
  bool WalkTopicsAfter(const std::string& after, Fn fn) const {
    for (auto it = topic_order_.upper_bound(after); it != topic_order_.end(); ++it) {
      if (!fn(it->second)) return true;
    }
    return false;
  }

  // ---- consumer groups, one entry per (group, topic)

  // The group-topic of (group, topic), created on first use (`created`
  // says so). `topic` must exist.
  struct Added {
    GroupTopic& gt;
    bool created;
  };
  Added AddGroupTopic(uint32_t group, uint32_t topic);
  // nullptr if there is none; never creates names or topics.
  GroupTopic* FindGroupTopic(uint32_t group, uint32_t topic);
  bool HasGroupTopic(const std::string& group, const std::string& topic) const;
  GroupTopic* FindGroupTopic(const std::string& group, const std::string& topic);
  // The group-topics of `group`, in creation order (empty if none).
  std::vector<GroupTopic*> GroupTopicsOf(const std::string& group);
  GroupTopic& group_topic(uint32_t gt) { return *group_topics_[gt]; }
  const GroupTopic& group_topic(uint32_t gt) const { return *group_topics_[gt]; }
  // Slots, deleted ones included (loops over group-topic indices; a deleted
  // one has live == false and an empty queue).
  size_t group_topic_count() const { return group_topics_.size(); }
  // Group-topics that exist (the cap's count).
  size_t live_group_topic_count() const { return group_topics_.size() - free_group_topics_.size(); }
  // Deletes group-topic `gt` (its queue and DLQ with it); its slot is
  // reused by the next new group-topic.
  void RemoveGroupTopic(uint32_t gt);
  // As WalkTopicsAfter, for group-topics in (group name, topic name) order.
  template <typename Fn>
  bool WalkGroupTopicsAfter(const std::string& group, const std::string& topic, Fn fn) const {
    for (auto it = gt_order_.upper_bound({group, topic}); it != gt_order_.end(); ++it) {
      if (!fn(*group_topics_[it->second])) return true;
    }
    return false;
  }

  // ---- producer groups (names that stored a half or said Hello as one)

  // Records `name` as a producer group; returns its interned index.
  uint32_t AddProducerGroup(const std::string& name);
  bool IsProducerGroup(const std::string& name) const;
  size_t producer_group_count() const { return producer_groups_.size(); }

  // ---- producers (live connections that answer check-backs)

  void AddProducer(uint32_t group, uint64_t peer);
  void RemoveProducer(uint32_t group, uint64_t peer);
  // One live producer of `group`, each in turn; nullopt if none.
  std::optional<uint64_t> NextProducer(uint32_t group);
  // How many live producers `group` has.
  size_t producer_count(uint32_t group) const {
    auto it = producers_.find(group);
    return it == producers_.end() ? 0 : it->second.size();
  }

 private:
  const DeliveryOptions* const delivery_;
  std::vector<std::string> names_;
  absl::flat_hash_map<std::string, uint32_t> name_index_;
  std::vector<Topic> topics_;
  absl::flat_hash_map<uint32_t, uint32_t> topic_by_name_;  // name -> topic index
  // unique_ptr: a GroupTopic stays where it is while others are added.
  std::vector<std::unique_ptr<GroupTopic>> group_topics_;
  absl::flat_hash_map<std::pair<uint32_t, uint32_t>, uint32_t> gt_index_;  // (group, topic)
  // Name order, for listing a page at a time.
  absl::btree_map<std::string, uint32_t> topic_order_;  // name -> topic index
  absl::btree_map<std::pair<std::string, std::string>, uint32_t> gt_order_;
  absl::flat_hash_set<uint32_t> producer_groups_;                   // interned names
  absl::flat_hash_map<uint32_t, std::vector<uint64_t>> producers_;  // group -> peer ids
  absl::flat_hash_map<uint32_t, size_t> producer_rr_;
  std::vector<uint32_t> free_topics_;        // deleted topic slots
  std::vector<uint32_t> free_group_topics_;  // deleted group-topic slots
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_STATE_TOPIC_REGISTRY_H_
