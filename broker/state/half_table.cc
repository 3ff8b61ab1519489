#include "broker/state/half_table.h"

#include <algorithm>

namespace txmsg::broker {
namespace {

bool IsOpen(wire::HalfState s) { return s == wire::HALF_PENDING || s == wire::HALF_DISCARDED; }

}  // namespace

MessageEntry* HalfMessageTable::Find(uint64_t id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

const MessageEntry* HalfMessageTable::Find(uint64_t id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

std::optional<wire::HalfState> HalfMessageTable::SettledState(uint64_t id) const {
  auto it = settled_.find(id);
  if (it == settled_.end()) return std::nullopt;
  return it->second;
}

HalfMessageTable::TopicState& HalfMessageTable::Topic(uint32_t topic) {
  if (topic >= topics_.size()) topics_.resize(topic + 1);
  return topics_[topic];
}

uint64_t HalfMessageTable::pending_in(uint32_t topic) const {
  return topic < topics_.size() ? topics_[topic].pending : 0;
}

uint64_t HalfMessageTable::committed_in(uint32_t topic) const {
  return topic < topics_.size() ? topics_[topic].committed : 0;
}

// ------------------------------------------------------------ a message's life

MessageEntry& HalfMessageTable::AddHalf(uint64_t id, MessageEntry m, uint64_t first_check_ms) {
  m.plain = false;
  m.state_ = wire::HALF_PENDING;
  m.settling_ = wire::HALF_STATE_UNSPECIFIED;
  ++Topic(m.topic).pending;
  ++pending_;
  open_.insert(id);
  m.next_check_ms_ = first_check_ms;
  checks_.emplace(first_check_ms, id);
  return entries_.insert_or_assign(id, std::move(m)).first->second;
}

MessageEntry& HalfMessageTable::AddPlain(uint64_t id, MessageEntry m, uint64_t now_ms) {
  m.plain = true;
  m.state_ = wire::HALF_COMMITTED;
  m.settling_ = wire::HALF_STATE_UNSPECIFIED;
  MessageEntry& stored = entries_.insert_or_assign(id, std::move(m)).first->second;
  MarkCommitted(id, stored, now_ms);
  return stored;
}

bool HalfMessageTable::StartSettling(uint64_t id, wire::HalfState to) {
  MessageEntry* m = Find(id);
  if (m == nullptr || !IsOpen(m->state_) || m->is_settling()) return false;
  m->settling_ = to;
  Unschedule(*m, id);
  return true;
}

void HalfMessageTable::AbortSettling(uint64_t id, uint64_t next_check_ms) {
  MessageEntry* m = Find(id);
  if (m == nullptr || !m->is_settling()) return;
  m->settling_ = wire::HALF_STATE_UNSPECIFIED;
  ScheduleCheck(id, next_check_ms);  // no-op unless PENDING
}

std::optional<wire::HalfState> HalfMessageTable::FinishSettling(uint64_t id, uint64_t now_ms) {
  MessageEntry* m = Find(id);
  if (m == nullptr || !m->is_settling()) return std::nullopt;
  const wire::HalfState before = m->state_;
  m->state_ = m->settling_;
  m->settling_ = wire::HALF_STATE_UNSPECIFIED;
  open_.erase(id);
  if (before == wire::HALF_PENDING) {
    --Topic(m->topic).pending;
    --pending_;
  }
  if (m->state_ == wire::HALF_COMMITTED) MarkCommitted(id, *m, now_ms);
  return before;
}

bool HalfMessageTable::Discard(uint64_t id) {
  MessageEntry* m = Find(id);
  if (m == nullptr || m->state_ != wire::HALF_PENDING || m->is_settling()) return false;
  Unschedule(*m, id);
  m->state_ = wire::HALF_DISCARDED;
  --Topic(m->topic).pending;
  --pending_;
  return true;
}

void HalfMessageTable::Forget(uint64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  MessageEntry& m = it->second;
  TopicState& t = Topic(m.topic);
  if (m.state_ == wire::HALF_PENDING) {
    --t.pending;
    --pending_;
  }
  if (m.state_ == wire::HALF_COMMITTED) {
    --t.committed;
    --committed_;
  }
  if (!m.plain) RememberSettled(id, m.state_);
  Unschedule(m, id);
  open_.erase(id);
  entries_.erase(it);
  TrimCommitOrder(t);
}

std::vector<uint64_t> HalfMessageTable::IdsOfTopic(uint32_t topic) const {
  std::vector<uint64_t> ids;
  for (const auto& [id, m] : entries_) {
    if (m.topic == topic) ids.push_back(id);
  }
  return ids;
}

size_t HalfMessageTable::ForgetTopic(uint32_t topic) {
  const std::vector<uint64_t> ids = IdsOfTopic(topic);
  for (uint64_t id : ids) {
    if (restoring_) {
      DropRestored(entries_.find(id));
    } else {
      Forget(id);
    }
  }
  if (topic < topics_.size()) topics_[topic] = TopicState{};
  return ids.size();
}

void HalfMessageTable::DropRestored(Entries::iterator it) {
  if (it == entries_.end()) return;
  if (!it->second.plain && it->second.state_ != wire::HALF_PENDING) {
    RememberSettled(it->first, it->second.state_);
  }
  entries_.erase(it);
}

void HalfMessageTable::MarkCommitted(uint64_t id, MessageEntry& m, uint64_t now_ms) {
  m.commit_time_ms_ = now_ms;
  m.tx_id.clear();
  m.tx_id.shrink_to_fit();  // bookkeeping of a committed message stays small
  TopicState& t = Topic(m.topic);
  t.commit_order.push_back(id);
  ++t.committed;
  ++committed_;
}

void HalfMessageTable::RememberSettled(uint64_t id, wire::HalfState state) {
  settled_[id] = state;
  settled_order_.push_back(id);
  while (settled_order_.size() > settled_memory_) {
    settled_.erase(settled_order_.front());
    settled_order_.pop_front();
  }
}

void HalfMessageTable::TrimCommitOrder(TopicState& t) {
  if (t.commit_order.size() <= 2 * t.committed + 1024) return;
  std::deque<uint64_t> live;
  for (uint64_t id : t.commit_order) {
    if (entries_.contains(id)) live.push_back(id);
  }
  t.commit_order.swap(live);
}

// ------------------------------------------------------------ check schedule

void HalfMessageTable::Unschedule(const MessageEntry& m, uint64_t id) {
  checks_.erase({m.next_check_ms_, id});
}

bool HalfMessageTable::ScheduleCheck(uint64_t id, uint64_t due_ms) {
  MessageEntry* m = Find(id);
  if (m == nullptr || m->state_ != wire::HALF_PENDING || m->is_settling()) return false;
  Unschedule(*m, id);
  m->next_check_ms_ = due_ms;
  checks_.emplace(due_ms, id);
  return true;
}

std::optional<HalfMessageTable::DueCheck> HalfMessageTable::NextDueCheck(
    uint64_t now_ms, std::optional<DueCheck> after) const {
  auto it = after ? checks_.upper_bound({after->due_ms, after->id}) : checks_.begin();
  if (it == checks_.end() || it->first > now_ms) return std::nullopt;
  return DueCheck{it->first, it->second};
}

std::optional<uint64_t> HalfMessageTable::OldestCommitted(uint32_t topic) {
  if (topic >= topics_.size()) return std::nullopt;
  std::deque<uint64_t>& order = topics_[topic].commit_order;
  while (!order.empty()) {
    const MessageEntry* m = Find(order.front());
    if (m != nullptr && m->state_ == wire::HALF_COMMITTED) return order.front();
    order.pop_front();  // forgotten since
  }
  return std::nullopt;
}

// ------------------------------------------------------------ replay

MessageEntry& HalfMessageTable::Restore(uint64_t id, MessageEntry m, wire::HalfState state,
                                        uint64_t commit_time_ms) {
  restoring_ = true;
  m.state_ = state;
  m.settling_ = wire::HALF_STATE_UNSPECIFIED;
  m.commit_time_ms_ = commit_time_ms;
  return entries_.insert_or_assign(id, std::move(m)).first->second;
}

bool HalfMessageTable::RestoreOutcome(uint64_t id, wire::HalfState state, uint64_t time_ms) {
  MessageEntry* m = Find(id);
  if (m == nullptr) return false;
  m->state_ = state;
  if (state == wire::HALF_COMMITTED) m->commit_time_ms_ = time_ms;
  return true;
}

void HalfMessageTable::RestoreDiscard(uint64_t id) {
  MessageEntry* m = Find(id);
  if (m != nullptr && m->state_ == wire::HALF_PENDING) m->state_ = wire::HALF_DISCARDED;
}

void HalfMessageTable::RestoreForget(uint64_t id) {
  if (!restoring_) return Forget(id);
  DropRestored(entries_.find(id));
}

std::vector<uint64_t> HalfMessageTable::FinishRestore(uint64_t now_ms, uint64_t tx_timeout_ms) {
  restoring_ = false;
  std::vector<std::pair<uint64_t, uint64_t>> committed;  // (commit time, id)
  std::vector<uint64_t> dead;
  for (auto& [id, m] : entries_) {
    switch (m.state_) {
      case wire::HALF_PENDING:
        open_.insert(id);
        ++Topic(m.topic).pending;
        ++pending_;
        // Due tx_timeout after it was stored, but never further away than
        // tx_timeout from now: a wall clock set back since it was stored
        // must not postpone its check (a day behind: "next check in 24h").
        m.next_check_ms_ =
            std::clamp(m.store_time_ms + tx_timeout_ms, now_ms, now_ms + tx_timeout_ms);
        checks_.emplace(m.next_check_ms_, id);
        break;
      case wire::HALF_DISCARDED:
        open_.insert(id);
        break;
      case wire::HALF_COMMITTED:
        committed.emplace_back(m.commit_time_ms_, id);
        break;
      default:
        dead.push_back(id);
        break;
    }
  }
  for (uint64_t id : dead) Forget(id);
  std::sort(committed.begin(), committed.end());
  std::vector<uint64_t> ids;
  ids.reserve(committed.size());
  for (const auto& [time, id] : committed) {
    MessageEntry& m = entries_.at(id);
    MarkCommitted(id, m, m.commit_time_ms_);
    ids.push_back(id);
  }
  return ids;
}

}  // namespace txmsg::broker
