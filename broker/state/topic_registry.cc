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
  auto [it, inserted] = topic_by_name_.try_emplace(n, static_cast<uint32_t>(topics_.size()));
  if (inserted) {
    topics_.emplace_back();
    topics_.back().name = n;
    topic_order_.emplace(name, it->second);
  }
  return it->second;
}

std::optional<uint32_t> TopicRegistry::FindTopic(const std::string& name) const {
  std::optional<uint32_t> n = FindName(name);
  if (!n) return std::nullopt;
  auto it = topic_by_name_.find(*n);
  if (it == topic_by_name_.end()) return std::nullopt;
  return it->second;
}

TopicRegistry::Added TopicRegistry::AddGroupTopic(uint32_t group, uint32_t topic) {
  auto [it, inserted] = gt_index_.try_emplace(std::make_pair(group, topic),
                                              static_cast<uint32_t>(group_topics_.size()));
  if (!inserted) return {*group_topics_[it->second], false};
  group_topics_.push_back(std::make_unique<GroupTopic>(it->second, group, topic, delivery_));
  topics_[topic].groups.push_back(it->second);
  gt_order_.emplace(std::make_pair(names_[group], TopicName(topic)), it->second);
  return {*group_topics_.back(), true};
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
    if (gt->group == *g) out.push_back(gt.get());
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
