#include "broker/state/content_cache.h"

#include <utility>

namespace txmsg::broker {
namespace {

// What an entry costs beyond its content's bytes (map slot, strings' headers).
constexpr size_t kEntryOverhead = 128;

}  // namespace

void ContentCache::Put(uint64_t id, std::shared_ptr<const wire::MessageContent> content) {
  if (max_bytes_ == 0 || content == nullptr) return;
  const size_t bytes = content->ByteSizeLong() + kEntryOverhead;
  if (bytes > max_bytes_) return;
  auto [it, inserted] = entries_.try_emplace(id);
  if (!inserted) bytes_ -= it->second.bytes;
  it->second = Entry{std::move(content), bytes};
  bytes_ += bytes;
  if (inserted) order_.push_back(id);
  Trim();
}

const wire::MessageContent* ContentCache::Find(uint64_t id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.content.get();
}

void ContentCache::Erase(uint64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  bytes_ -= it->second.bytes;
  entries_.erase(it);
  // Its id stays in order_ until it reaches the front (see Trim).
}

void ContentCache::Trim() {
  // An erased id in order_ costs 8 bytes: drop those at the front, and cap
  // the queue so ids erased behind a long-lived entry cannot pile up.
  const size_t max_order = max_bytes_ / kEntryOverhead + 1;
  while (!order_.empty()) {
    const uint64_t front = order_.front();
    auto it = entries_.find(front);
    const bool over = bytes_ > max_bytes_ || order_.size() > max_order;
    if (it != entries_.end() && !over) break;
    if (it != entries_.end()) {
      bytes_ -= it->second.bytes;
      entries_.erase(it);
    }
    order_.pop_front();
  }
}

}  // namespace txmsg::broker
