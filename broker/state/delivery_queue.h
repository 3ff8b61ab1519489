// Delivery bookkeeping of one consumer group for one topic: which committed
// messages wait for their first delivery, which are in flight with which
// consumer and until when, which wait for a redelivery, and which were dead-
// lettered. Pure bookkeeping: no I/O, no clock (callers pass `now_ms`), so
// every rule is unit-tested directly. Not thread-safe (the broker's state
// thread owns it).
#ifndef TXMSG_BROKER_STATE_DELIVERY_QUEUE_H_
#define TXMSG_BROKER_STATE_DELIVERY_QUEUE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace txmsg::broker {

using ConsumerId = uint64_t;

struct DeliveryOptions {
  // A message that failed this many deliveries goes to the group's DLQ.
  uint32_t max_attempts = 16;
  // An unacked delivery is given up (and redelivered) after this long.
  uint64_t ack_timeout_ms = 30'000;
  // Delay before the redelivery after a nack without a delay of its own:
  // doubles with each attempt, capped at backoff_max_ms (1 s, 2 s, ... 512 s,
  // then 10 min: the 16 attempts span more than an hour, so a consumer that
  // fails for minutes does not dead-letter what it will process later). A
  // nack's own delay is capped at backoff_max_ms too.
  uint64_t backoff_base_ms = 1'000;
  uint64_t backoff_max_ms = 600'000;
};

class DeliveryQueue {
 public:
  // `options` must outlive the queue.
  explicit DeliveryQueue(const DeliveryOptions* options) : options_(options) {}
  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;
  DeliveryQueue(DeliveryQueue&&) = default;

  struct Dispatch {
    uint64_t id;
    uint32_t attempt;  // 1 on first delivery
  };
  struct Failure {
    std::optional<ConsumerId> holder;  // who had it in flight, if anyone
    uint32_t attempts = 0;             // deliveries made so far
    bool dead_lettered = false;        // moved to the DLQ
  };
  struct DlqEntry {
    uint32_t attempts = 0;
    uint64_t time_ms = 0;
  };

  // A committed message, to be delivered for the first time after those
  // already queued.
  void Add(uint64_t id) { fresh_.push_back(id); }

  // Takes the next message due at `now_ms` (a due redelivery first, then the
  // oldest fresh one) and records it in flight with `consumer`.
  std::optional<Dispatch> Take(ConsumerId consumer, uint64_t now_ms);

  // The group processed `id`. Returns the consumer that had it in flight
  // (for its credit), or nullopt; `known` says whether `id` was in flight or
  // waiting for a redelivery (anything else is ignored).
  struct AckResult {
    bool known = false;
    std::optional<ConsumerId> holder;
  };
  AckResult Ack(uint64_t id);

  // What a consumer's nack says (the Nack frame's flags).
  enum class NackKind {
    kFailed,       // this delivery failed: the attempt counts
    kUnavailable,  // the consumer cannot work right now: the attempt does not count
    kDeadLetter,   // the message can never be processed: to the DLQ now
  };
  static NackKind NackKindFor(bool dead_letter, bool consumer_unavailable) {
    if (dead_letter) return NackKind::kDeadLetter;
    return consumer_unavailable ? NackKind::kUnavailable : NackKind::kFailed;
  }

  // The consumer nacked `id`. kFailed: redeliver after `delay_ms` (0: the
  // backoff for the attempt), or dead-letter it when its attempts are used
  // up. kUnavailable: redeliver after the delay with the attempt given back
  // (never dead-lettered; the redelivery carries the same attempt number;
  // Failure::attempts is the count without it). kDeadLetter: into the DLQ
  // now. The delay is capped at backoff_max_ms. nullopt if `id` was not in
  // flight.
  std::optional<Failure> Nack(uint64_t id, uint64_t delay_ms, uint64_t now_ms,
                              NackKind kind = NackKind::kFailed);

  // Every in-flight delivery whose ack timeout has passed fails (and is
  // redelivered at once, or dead-lettered).
  std::vector<std::pair<uint64_t, Failure>> Expire(uint64_t now_ms);

  // `consumer` is gone: what it had in flight fails and is redelivered at
  // once (or dead-lettered). Returns the failures.
  std::vector<std::pair<uint64_t, Failure>> ConsumerGone(ConsumerId consumer, uint64_t now_ms);

  // The DLQ: messages whose attempts ran out, by id.
  const std::map<uint64_t, DlqEntry>& dlq() const { return dlq_; }
  // Puts a message straight into the DLQ (log replay).
  void AddToDlq(uint64_t id, uint32_t attempts, uint64_t time_ms);
  // Drops `id` from the DLQ without queueing it (log replay). True if it was there.
  bool RemoveFromDlq(uint64_t id) { return dlq_.erase(id) > 0; }
  // Moves `id` (or all, if nullopt) from the DLQ back to delivery, first in
  // line, with fresh attempts. Returns the ids moved.
  std::vector<uint64_t> ReplayDlq(std::optional<uint64_t> id);

  size_t in_flight() const { return inflight_.size(); }
  size_t waiting_retry() const { return waiting_.size(); }
  // Every message of the group not yet acked (dlq included).
  size_t unacked() const {
    return fresh_.size() + inflight_.size() + waiting_.size() + dlq_.size();
  }
  // Calls fn(id) for every unacked message (any order).
  template <typename Fn>
  void ForEachUnacked(Fn fn) const {
    for (uint64_t id : fresh_) fn(id);
    for (const auto& [id, f] : inflight_) fn(id);
    for (const auto& [id, w] : waiting_) fn(id);
    for (const auto& [id, d] : dlq_) fn(id);
  }

  uint64_t BackoffMs(uint32_t attempt) const;

 private:
  struct InFlight {
    uint32_t attempt;
    ConsumerId consumer;
    uint64_t deadline_ms;
  };
  struct Waiting {
    uint64_t due_ms;
    uint32_t attempts;  // deliveries made so far
  };
  // Moves an in-flight entry (already erased) to retry or the DLQ.
  Failure Fail(uint64_t id, const InFlight& f, uint64_t due_ms, uint64_t now_ms);

  const DeliveryOptions* options_;
  std::deque<uint64_t> fresh_;
  std::set<std::pair<uint64_t, uint64_t>> retry_;  // (due, id)
  absl::flat_hash_map<uint64_t, Waiting> waiting_;
  absl::flat_hash_map<uint64_t, InFlight> inflight_;
  std::deque<std::pair<uint64_t, uint64_t>> expiry_;  // (deadline, id), stale entries skipped
  std::map<uint64_t, DlqEntry> dlq_;
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_STATE_DELIVERY_QUEUE_H_
