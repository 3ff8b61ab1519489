// BrokerCore: consumer groups, credit-based push, acks, nacks and the DLQ.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/core/broker_core.h"
#include "broker/core/broker_core_internal.h"
#include "broker/core/event_log.h"
#include "base/crash_point.h"
#include "base/crash_points.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {

void BrokerCore::OnCommitted(uint64_t id) {
  Message& m = messages_.at(id);
  m.tx_id.clear();
  m.tx_id.shrink_to_fit();  // bookkeeping of a committed message stays small
  Topic& t = topics_[m.topic];
  t.commit_order.push_back(id);
  ++t.committed;
  if (replaying_) return;
  m.unacked_groups = static_cast<uint16_t>(t.groups.size());
  for (uint32_t g : t.groups) {
    GroupTopic& gt = *group_topics_[g];
    gt.queue.Add(id);
    Pump(gt);
  }
}

BrokerCore::GroupTopic& BrokerCore::EnsureGroupTopic(const std::string& group, uint32_t topic,
                                                     bool persist) {
  const uint32_t g = Intern(group);
  auto [it, inserted] =
      gt_index_.try_emplace(std::make_pair(g, topic), static_cast<uint32_t>(group_topics_.size()));
  if (!inserted) return *group_topics_[it->second];
  group_topics_.push_back(std::make_unique<GroupTopic>(it->second, g, topic, &options_.delivery));
  GroupTopic& gt = *group_topics_.back();
  Topic& t = topics_[topic];
  t.groups.push_back(gt.index);
  if (replaying_) return gt;
  // A new group starts from the oldest retained message of its topic.
  for (uint64_t id : t.commit_order) {
    auto m = messages_.find(id);
    if (m == messages_.end() || m->second.state != wire::HALF_COMMITTED) continue;
    gt.queue.Add(id);
    ++m->second.unacked_groups;
  }
  LogEvent("consumer group created: group=", group, " topic=", Name(t.name),
           " backlog=", gt.queue.unacked());
  if (persist) {
    store::StoredGroup rec;
    rec.set_group(group);
    rec.set_topic(Name(t.name));
    const uint32_t index = gt.index;
    Append(RecordType::kGroup, rec, [this, index](absl::StatusOr<uint64_t> pos) {
      if (pos.ok()) group_topics_[index]->record_pos = *pos;
    });
  }
  return gt;
}

void BrokerCore::HandleSubscribe(PeerState& ps, const wire::Frame& f) {
  const wire::Subscribe& req = f.subscribe();
  const uint64_t corr = f.correlation_id();
  if (req.topic().empty() || req.topic().size() > 255 || req.group().empty() ||
      req.group().size() > 255) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST,
                     "Subscribe needs a topic and a group (1-255 bytes each)");
  }
  if (req.max_unacked() == 0) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST, "Subscribe needs max_unacked >= 1");
  }
  if (ps.subs.size() >= 64) {
    auto existing = gt_index_.find({Intern(req.group()), TopicIndex(req.topic())});
    if (existing == gt_index_.end() || ps.FindSub(existing->second) == nullptr) {
      return SendError(ps, corr, wire::ERROR_RESOURCE_EXHAUSTED,
                       "a connection may hold at most 64 subscriptions");
    }
  }
  GroupTopic& gt = EnsureGroupTopic(req.group(), TopicIndex(req.topic()), /*persist=*/true);
  const uint32_t credit = std::min(req.max_unacked(), options_.max_unacked_per_consumer);
  if (Subscription* existing = ps.FindSub(gt.index)) {
    existing->max_unacked = credit;  // a repeated Subscribe changes the credit
  } else {
    ps.subs.push_back(Subscription{gt.index, credit});
    gt.consumers.push_back(ps.peer->id());
  }
  wire::Frame ok;
  ok.set_correlation_id(corr);
  ok.mutable_subscribe_ok()->set_backlog(gt.queue.unacked());
  ps.peer->Send(ok);
  Pump(gt);
}

void BrokerCore::Pump(GroupTopic& gt) {
  if (gt.consumers.empty() || stopping_) return;
  const uint64_t now = clock_();
  size_t idle = 0;  // consumers in a row found without credit
  while (idle < gt.consumers.size()) {
    const uint64_t peer_id = gt.consumers[gt.rr % gt.consumers.size()];
    ++gt.rr;
    PeerState* ps = FindPeer(peer_id);
    Subscription* sub = ps ? ps->FindSub(gt.index) : nullptr;
    if (sub == nullptr || sub->in_flight >= sub->max_unacked) {
      ++idle;
      continue;
    }
    std::optional<DeliveryQueue::Dispatch> d = gt.queue.Take(peer_id, now);
    if (!d) return;
    idle = 0;
    auto it = messages_.find(d->id);
    if (it == messages_.end()) {  // forgotten meanwhile (operator, retention)
      gt.queue.Ack(d->id);
      continue;
    }
    absl::StatusOr<wire::MessageContent> content = ReadContent(it->second);
    if (!content.ok()) {
      LogEvent("error: cannot read message ", d->id,
               " for delivery: ", content.status().ToString());
      ApplyFailures(gt, {{d->id, *gt.queue.Nack(d->id, options_.delivery.backoff_max_ms, now)}});
      continue;
    }
    wire::Frame frame;
    wire::Deliver& del = *frame.mutable_deliver();
    del.set_message_id(d->id);
    del.set_group(Name(gt.group));
    *del.mutable_content() = std::move(*content);
    del.set_attempt(d->attempt);
    del.set_commit_time_ms(it->second.commit_time_ms);
    ++sub->in_flight;
    ++gt.delivered;
    ++metrics_.delivered;
    if (d->attempt > 1) ++metrics_.redelivered;
    ps->peer->Send(frame);
    CrashPoint(crash_points::kBrokerDeliveredBeforeAck);
  }
}

void BrokerCore::ReleaseCredit(GroupTopic& gt, std::optional<ConsumerId> holder) {
  if (!holder) return;
  PeerState* ps = FindPeer(*holder);
  Subscription* sub = ps ? ps->FindSub(gt.index) : nullptr;
  if (sub != nullptr && sub->in_flight > 0) --sub->in_flight;
}

void BrokerCore::ApplyFailures(
    GroupTopic& gt, const std::vector<std::pair<uint64_t, DeliveryQueue::Failure>>& failures) {
  for (const auto& [id, f] : failures) {
    ReleaseCredit(gt, f.holder);
    if (!f.dead_lettered) continue;
    ++metrics_.dead_lettered;
    LogEvent("moved to DLQ: id=", id, " group=", Name(gt.group),
             " topic=", Name(topics_[gt.topic].name), " attempts=", f.attempts);
    store::StoredDlq rec;
    rec.set_group(Name(gt.group));
    rec.set_message_id(id);
    rec.set_attempts(f.attempts);
    rec.set_time_ms(clock_());
    Append(RecordType::kDlq, rec, [](absl::StatusOr<uint64_t>) {});
  }
}

void BrokerCore::MarkAcked(GroupTopic& gt, uint64_t id) {
  ++gt.acked;
  ++metrics_.acked;
  auto it = messages_.find(id);
  if (it == messages_.end()) return;
  Message& m = it->second;
  m.acked_by.push_back(gt.index);
  if (m.unacked_groups > 0) --m.unacked_groups;
  if (m.unacked_groups == 0) MaybeForget(id);
}

BrokerCore::GroupTopic* BrokerCore::SubscribedGroupTopic(PeerState& ps, const std::string& group,
                                                         const std::string& topic) {
  auto g = name_index_.find(group);
  auto tn = name_index_.find(topic);
  if (g == name_index_.end() || tn == name_index_.end()) return nullptr;
  auto t = topic_by_name_.find(tn->second);
  if (t == topic_by_name_.end()) return nullptr;
  auto it = gt_index_.find({g->second, t->second});
  if (it == gt_index_.end() || ps.FindSub(it->second) == nullptr) return nullptr;
  return group_topics_[it->second].get();
}

void BrokerCore::HandleAck(PeerState& ps, const wire::Frame& f) {
  const wire::Ack& req = f.ack();
  const uint64_t corr = f.correlation_id();
  GroupTopic* found = SubscribedGroupTopic(ps, req.group(), req.topic());
  if (found == nullptr) {
    return SendError(ps, corr, wire::ERROR_OUT_OF_ORDER,
                     absl::StrCat("Ack for group '", req.group(), "' topic '", req.topic(),
                                  "' before Subscribe on this connection"));
  }
  GroupTopic& gt = *found;
  CrashPoint(crash_points::kBrokerAckReceivedBeforeSync);
  store::StoredAck rec;
  rec.set_group(req.group());
  for (uint64_t id : req.message_ids()) {
    DeliveryQueue::AckResult r = gt.queue.Ack(id);
    if (!r.known) continue;
    ReleaseCredit(gt, r.holder);
    rec.add_message_ids(id);
    MarkAcked(gt, id);
  }
  // Acks need no fsync before they take effect: a lost ack only means a
  // redelivery, which at-least-once allows. The record is batched with the
  // rest and survives the next sync.
  if (rec.message_ids_size() > 0) Append(RecordType::kAck, rec, [](absl::StatusOr<uint64_t>) {});
  if (corr != 0) {
    wire::Frame ok;
    ok.set_correlation_id(corr);
    ok.mutable_ack_ok()->set_acked(static_cast<uint32_t>(rec.message_ids_size()));
    ps.peer->Send(ok);
  }
  Pump(gt);
}

void BrokerCore::HandleNack(PeerState& ps, const wire::Frame& f) {
  const wire::Nack& req = f.nack();
  const uint64_t corr = f.correlation_id();
  GroupTopic* found = SubscribedGroupTopic(ps, req.group(), req.topic());
  if (found == nullptr) {
    return SendError(ps, corr, wire::ERROR_OUT_OF_ORDER,
                     absl::StrCat("Nack for group '", req.group(), "' topic '", req.topic(),
                                  "' before Subscribe on this connection"));
  }
  GroupTopic& gt = *found;
  const uint64_t delay = std::min<uint64_t>(req.delay_ms(), 24ull * 3600 * 1000);
  std::optional<DeliveryQueue::Failure> failure =
      gt.queue.Nack(req.message_id(), delay, clock_(),
                    DeliveryQueue::NackKindFor(req.dead_letter(), req.consumer_unavailable()));
  if (failure) {
    ++metrics_.nacked;
    ApplyFailures(gt, {{req.message_id(), *failure}});
  }
  if (corr != 0) {
    wire::Frame ok;
    ok.set_correlation_id(corr);
    ok.mutable_ack_ok()->set_acked(failure ? 1 : 0);
    ps.peer->Send(ok);
  }
  Pump(gt);
}

void BrokerCore::MaybeForget(uint64_t id) {
  auto it = messages_.find(id);
  if (it == messages_.end()) return;
  const Message& m = it->second;
  if (m.state == wire::HALF_ROLLED_BACK) return Forget(id);
  if (m.state != wire::HALF_COMMITTED || m.unacked_groups > 0) return;
  if (topics_[m.topic].groups.empty()) return;  // kept for the first group
  if (options_.retention_ms > 0) return;        // SweepRetention decides
  Forget(id);
}

void BrokerCore::Forget(uint64_t id) {
  auto it = messages_.find(id);
  if (it == messages_.end()) return;
  const Message& m = it->second;
  if (m.state == wire::HALF_COMMITTED) --topics_[m.topic].committed;
  if (!m.plain) {
    settled_[id] = m.state;
    settled_order_.push_back(id);
    while (settled_order_.size() > options_.settled_memory) {
      settled_.erase(settled_order_.front());
      settled_order_.pop_front();
    }
  }
  check_queue_.erase({m.next_check_ms, id});
  open_halves_.erase(id);
  messages_.erase(it);
}

std::optional<wire::HalfState> BrokerCore::SettledState(uint64_t id) const {
  auto it = settled_.find(id);
  if (it == settled_.end()) return std::nullopt;
  return it->second;
}

}  // namespace txmsg::broker
