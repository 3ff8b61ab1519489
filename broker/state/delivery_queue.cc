#include "broker/state/delivery_queue.h"

#include <algorithm>

namespace txmsg::broker {

uint64_t DeliveryQueue::BackoffMs(uint32_t attempt) const {
  uint64_t delay = options_->backoff_base_ms;
  for (uint32_t i = 1; i < attempt && delay < options_->backoff_max_ms; ++i) delay *= 2;
  return std::min(delay, options_->backoff_max_ms);
}

std::optional<DeliveryQueue::Dispatch> DeliveryQueue::Take(ConsumerId consumer, uint64_t now_ms) {
  Dispatch d;
  if (!retry_.empty() && retry_.begin()->first <= now_ms) {
    d.id = retry_.begin()->second;
    retry_.erase(retry_.begin());
    auto w = waiting_.find(d.id);
    d.attempt = w->second.attempts + 1;
    waiting_.erase(w);
  } else if (!fresh_.empty()) {
    d.id = fresh_.front();
    fresh_.pop_front();
    d.attempt = 1;
  } else {
    return std::nullopt;
  }
  const uint64_t deadline = now_ms + options_->ack_timeout_ms;
  inflight_[d.id] = InFlight{d.attempt, consumer, deadline};
  expiry_.emplace_back(deadline, d.id);
  return d;
}

DeliveryQueue::AckResult DeliveryQueue::Ack(uint64_t id) {
  AckResult r;
  if (auto it = inflight_.find(id); it != inflight_.end()) {
    r.known = true;
    r.holder = it->second.consumer;
    inflight_.erase(it);
  } else if (auto w = waiting_.find(id); w != waiting_.end()) {
    // A late ack for a delivery that timed out: it was processed after all.
    r.known = true;
    retry_.erase({w->second.due_ms, id});
    waiting_.erase(w);
  }
  return r;
}

DeliveryQueue::Failure DeliveryQueue::Fail(uint64_t id, const InFlight& f, uint64_t due_ms,
                                           uint64_t now_ms) {
  Failure r;
  r.holder = f.consumer;
  r.attempts = f.attempt;
  if (f.attempt >= options_->max_attempts) {
    r.dead_lettered = true;
    dlq_[id] = DlqEntry{f.attempt, now_ms};
  } else {
    retry_.emplace(due_ms, id);
    waiting_[id] = Waiting{due_ms, f.attempt};
  }
  return r;
}

std::optional<DeliveryQueue::Failure> DeliveryQueue::Nack(uint64_t id, uint64_t delay_ms,
                                                          uint64_t now_ms, NackKind kind) {
  auto it = inflight_.find(id);
  if (it == inflight_.end()) return std::nullopt;
  const InFlight f = it->second;
  inflight_.erase(it);
  if (kind == NackKind::kDeadLetter) {
    dlq_[id] = DlqEntry{f.attempt, now_ms};
    return Failure{f.consumer, f.attempt, /*dead_lettered=*/true};
  }
  const uint64_t delay =
      std::min(delay_ms > 0 ? delay_ms : BackoffMs(f.attempt), options_->backoff_max_ms);
  if (kind == NackKind::kUnavailable) {
    // Not an attempt: the next delivery is made as if this one never was.
    const uint32_t counted = f.attempt - 1;
    retry_.emplace(now_ms + delay, id);
    waiting_[id] = Waiting{now_ms + delay, counted};
    return Failure{f.consumer, counted, /*dead_lettered=*/false};
  }
  return Fail(id, f, now_ms + delay, now_ms);
}

std::vector<std::pair<uint64_t, DeliveryQueue::Failure>> DeliveryQueue::Expire(uint64_t now_ms) {
  std::vector<std::pair<uint64_t, Failure>> out;
  while (!expiry_.empty() && expiry_.front().first <= now_ms) {
    const auto [deadline, id] = expiry_.front();
    expiry_.pop_front();
    auto it = inflight_.find(id);
    if (it == inflight_.end() || it->second.deadline_ms != deadline) continue;  // stale
    const InFlight f = it->second;
    inflight_.erase(it);
    out.emplace_back(id, Fail(id, f, now_ms, now_ms));
  }
  return out;
}

std::vector<std::pair<uint64_t, DeliveryQueue::Failure>> DeliveryQueue::ConsumerGone(
    ConsumerId consumer, uint64_t now_ms) {
  std::vector<std::pair<uint64_t, InFlight>> held;
  for (const auto& [id, f] : inflight_) {
    if (f.consumer == consumer) held.emplace_back(id, f);
  }
  std::sort(held.begin(), held.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<uint64_t, Failure>> out;
  for (const auto& [id, f] : held) {
    inflight_.erase(id);
    out.emplace_back(id, Fail(id, f, now_ms, now_ms));
  }
  return out;
}

void DeliveryQueue::AddToDlq(uint64_t id, uint32_t attempts, uint64_t time_ms) {
  dlq_[id] = DlqEntry{attempts, time_ms};
}

std::vector<uint64_t> DeliveryQueue::ReplayDlq(std::optional<uint64_t> id) {
  std::vector<uint64_t> moved;
  if (id) {
    if (dlq_.erase(*id) > 0) moved.push_back(*id);
  } else {
    for (const auto& [mid, e] : dlq_) moved.push_back(mid);
    dlq_.clear();
  }
  for (auto it = moved.rbegin(); it != moved.rend(); ++it) fresh_.push_front(*it);
  return moved;
}

}  // namespace txmsg::broker
