// The contents of recently stored messages, kept in memory so that
// delivering a message just committed does not read it back from the log.
//
// A cache, never the truth: the log holds every content, a miss reads it
// from there. Bounded by bytes (the oldest entries go first) and by entry
// count, so neither a backlog nor many tiny messages grow it without bound.
// Pure bookkeeping, not thread-safe (the broker's state thread owns it).
#ifndef TXMSG_BROKER_STATE_CONTENT_CACHE_H_
#define TXMSG_BROKER_STATE_CONTENT_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "txmsg/broker.pb.h"

namespace txmsg::broker {

class ContentCache {
 public:
  // `max_bytes` 0 turns the cache off.
  explicit ContentCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Keeps `content` as message `id`'s (ids only grow: the oldest go first).
  void Put(uint64_t id, std::shared_ptr<const wire::MessageContent> content);
  // The content of `id`, or null when it is not (or no longer) cached.
  const wire::MessageContent* Find(uint64_t id) const;
  // The message is gone (acked by every group, rolled back, discarded).
  void Erase(uint64_t id);

  size_t bytes() const { return bytes_; }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::shared_ptr<const wire::MessageContent> content;
    size_t bytes = 0;
  };
  // Drops the oldest entries until both bounds hold.
  void Trim();

  const size_t max_bytes_;
  size_t bytes_ = 0;
  absl::flat_hash_map<uint64_t, Entry> entries_;
  std::deque<uint64_t> order_;  // ids in the order they were put; erased ones linger
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_STATE_CONTENT_CACHE_H_
