#include "broker/state/topic_registry.h"

#include <algorithm>

namespace txmsg::broker {

uint32_t TopicRegistry::Intern(const std::string& name) {
  auto [it, inserted] = name_index_.try_emplace(name, static_cast<uint32_t>(names_.size()));
  if (inserted) names_.push_back(name);
  return it->second;
}

std::optional<uint32_t> TopicRegistry::FindName(const std::string& name) const {
  auto it = name_index_.find(name);
  if (it == name_index_.end()) return std::nullopt;
  return it->second;
}

uint32_t TopicRegistry::AddTopic(const std::string& name) {
  const uint32_t n = Intern(name);
  const uint32_t slot =
      free_topics_.empty() ? static_cast<uint32_t>(topics_.size()) : free_topics_.back();
  auto [it, inserted] = topic_by_name_.try_emplace(n, slot);
  if (inserted) {
    if (slot == topics_.size()) {
      topics_.emplace_back();
    } else {
      free_topics_.pop_back();
      topics_[slot] = Topic{};
    }
    topics_[slot].name = n;
    topic_order_.emplace(name, slot);
  }
  return it->second;
}

void TopicRegistry::RemoveTopic(uint32_t t) {
  Topic& topic = topics_[t];
  if (!topic.live) return;
  topic_order_.erase(names_[topic.name]);
  topic_by_name_.erase(topic.name);
  topic.live = false;
  topic.groups.clear();
  topic.storing = 0;
  free_topics_.push_back(t);
}

std::optional<uint32_t> TopicRegistry::FindTopic(const std::string& name) const {
  std::optional<uint32_t> n = FindName(name);
  if (!n) return std::nullopt;
  auto it = topic_by_name_.find(*n);
  if (it == topic_by_name_.end()) return std::nullopt;
  return it->second;
}

TopicRegistry::Added TopicRegistry::AddGroupTopic(uint32_t group, uint32_t topic) {
  const uint32_t slot = free_group_topics_.empty() ? static_cast<uint32_t>(group_topics_.size())
                                                   : free_group_topics_.back();
  auto [it, inserted] = gt_index_.try_emplace(std::make_pair(group, topic), slot);
  if (!inserted) return {*group_topics_[it->second], false};
  auto gt = std::make_unique<GroupTopic>(slot, group, topic, delivery_);
  if (slot == group_topics_.size()) {
    group_topics_.push_back(std::move(gt));
  } else {
    free_group_topics_.pop_back();
    group_topics_[slot] = std::move(gt);
  }
  topics_[topic].groups.push_back(slot);
  gt_order_.emplace(std::make_pair(names_[group], TopicName(topic)), slot);
  return {*group_topics_[slot], true};
}

void TopicRegistry::RemoveGroupTopic(uint32_t gt) {
  const GroupTopic& old = *group_topics_[gt];
  if (!old.live) return;
  const uint32_t group = old.group;
  const uint32_t topic = old.topic;
  gt_index_.erase(std::make_pair(group, topic));
  gt_order_.erase(std::make_pair(names_[group], TopicName(topic)));
  std::vector<uint32_t>& groups = topics_[topic].groups;
  groups.erase(std::remove(groups.begin(), groups.end(), gt), groups.end());
  // A fresh, empty entry in the slot: loops over every slot find nothing in it.
  group_topics_[gt] = std::make_unique<GroupTopic>(gt, group, topic, delivery_);
  group_topics_[gt]->live = false;
  free_group_topics_.push_back(gt);
}

GroupTopic* TopicRegistry::FindGroupTopic(uint32_t group, uint32_t topic) {
  auto it = gt_index_.find({group, topic});
  return it == gt_index_.end() ? nullptr : group_topics_[it->second].get();
}

GroupTopic* TopicRegistry::FindGroupTopic(const std::string& group, const std::string& topic) {
  std::optional<uint32_t> g = FindName(group);
  std::optional<uint32_t> t = FindTopic(topic);
  if (!g || !t) return nullptr;
  return FindGroupTopic(*g, *t);
}

bool TopicRegistry::HasGroupTopic(const std::string& group, const std::string& topic) const {
  std::optional<uint32_t> g = FindName(group);
  std::optional<uint32_t> t = FindTopic(topic);
  return g && t && gt_index_.contains(std::make_pair(*g, *t));
}

std::vector<GroupTopic*> TopicRegistry::GroupTopicsOf(const std::string& group) {
  std::vector<GroupTopic*> out;
  std::optional<uint32_t> g = FindName(group);
  if (!g) return out;
  for (const auto& gt : group_topics_) {
    if (gt->live && gt->group == *g) out.push_back(gt.get());
  }
  return out;
}

uint32_t TopicRegistry::AddProducerGroup(const std::string& name) {
  const uint32_t n = Intern(name);
  producer_groups_.insert(n);
  return n;
}

bool TopicRegistry::IsProducerGroup(const std::string& name) const {
  std::optional<uint32_t> n = FindName(name);
  return n && producer_groups_.contains(*n);
}

void TopicRegistry::AddProducer(uint32_t group, uint64_t peer) {
  producers_[group].push_back(peer);
}

void TopicRegistry::RemoveProducer(uint32_t group, uint64_t peer) {
  auto it = producers_.find(group);
  if (it == producers_.end()) return;
  std::vector<uint64_t>& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), peer), list.end());
}

std::optional<uint64_t> TopicRegistry::NextProducer(uint32_t group) {
  auto it = producers_.find(group);
  if (it == producers_.end() || it->second.empty()) return std::nullopt;
  const size_t turn = producer_rr_[group]++ % it->second.size();
  return it->second[turn];
}

}  // namespace txmsg::broker
