// BrokerCore: consumer groups, credit-based push, acks, nacks and the DLQ,
// and forgetting a message once nobody needs it.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/crash_point.h"
#include "base/crash_points.h"
#include "broker/core/broker_core.h"
#include "broker/core/event_log.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {

void BrokerCore::QueueForGroups(uint64_t id) {
  MessageEntry& m = *halves_.Find(id);
  const Topic& t = registry_.topic(m.topic);
  m.unacked_groups = static_cast<uint16_t>(t.groups.size());
  for (uint32_t g : t.groups) {
    GroupTopic& gt = registry_.group_topic(g);
    gt.queue.Add(id);
    Pump(gt);
  }
}

GroupTopic& BrokerCore::EnsureGroupTopic(const std::string& group, uint32_t topic, bool persist) {
  auto [gt, created] = registry_.AddGroupTopic(registry_.Intern(group), topic);
  if (!created || replaying_) return gt;
  // A new group starts from the oldest retained message of its topic.
  halves_.ForEachCommitted(topic, [&gt](uint64_t id, MessageEntry& m) {
    gt.queue.Add(id);
    ++m.unacked_groups;
  });
  LogEvent("consumer group created: group=", group, " topic=", registry_.TopicName(topic),
           " backlog=", gt.queue.unacked());
  if (persist) {
    store::StoredGroup rec;
    rec.set_group(group);
    rec.set_topic(registry_.TopicName(topic));
    const uint32_t index = gt.index;
    Append(RecordType::kGroup, rec, [this, index](absl::StatusOr<uint64_t> pos) {
      GroupTopic& gt = registry_.group_topic(index);  // or a later one in its slot
      if (pos.ok()) gt.record_pos = std::max(gt.record_pos, *pos);
    });
  }
  return gt;
}

void BrokerCore::HandleSubscribe(PeerState& ps, const wire::Frame& f) {
  const wire::Subscribe& req = f.subscribe();
  const uint64_t corr = f.correlation_id();
  if (req.topic().empty() || req.topic().size() > kMaxNameLength || req.group().empty() ||
      req.group().size() > kMaxNameLength) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST,
                     "Subscribe needs a topic and a group (1-255 bytes each)");
  }
  if (req.max_unacked() == 0) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST, "Subscribe needs max_unacked >= 1");
  }
  if (ps.subs.size() >= kMaxSubscriptionsPerConnection) {
    GroupTopic* existing = registry_.FindGroupTopic(req.group(), req.topic());
    if (existing == nullptr || ps.FindSub(existing->index) == nullptr) {
      return SendError(ps, corr, wire::ERROR_RESOURCE_EXHAUSTED,
                       absl::StrCat("a connection may hold at most ",
                                    kMaxSubscriptionsPerConnection, " subscriptions"));
    }
  }
  if (absl::Status admitted = AdmitSubscription(req.group(), req.topic()); !admitted.ok()) {
    return SendError(ps, corr, wire::ERROR_RESOURCE_EXHAUSTED, std::string(admitted.message()));
  }
  GroupTopic& gt = EnsureGroupTopic(req.group(), registry_.AddTopic(req.topic()), /*persist=*/true);
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
    const MessageEntry* m = halves_.Find(d->id);
    if (m == nullptr) {  // forgotten meanwhile (operator, retention)
      gt.queue.Ack(d->id);
      continue;
    }
    wire::Frame frame;
    wire::Deliver& del = *frame.mutable_deliver();
    if (const wire::MessageContent* cached = recent_.Find(d->id)) {
      *del.mutable_content() = *cached;
    } else {
      absl::StatusOr<wire::MessageContent> content = ReadContent(*m);
      if (!content.ok()) {
        LogEvent("error: cannot read message ", d->id,
                 " for delivery: ", content.status().ToString());
        ApplyFailures(gt,
                      {{d->id, *gt.queue.Nack(d->id, options_.delivery.backoff_max_ms, now)}});
        continue;
      }
      *del.mutable_content() = std::move(*content);
    }
    del.set_message_id(d->id);
    del.set_group(registry_.Name(gt.group));
    del.set_attempt(d->attempt);
    del.set_commit_time_ms(m->commit_time_ms());
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
    LogEvent("moved to DLQ: id=", id, " group=", registry_.Name(gt.group),
             " topic=", registry_.TopicName(gt.topic), " attempts=", f.attempts);
    store::StoredDlq rec;
    rec.set_group(registry_.Name(gt.group));
    rec.set_message_id(id);
    rec.set_attempts(f.attempts);
    rec.set_time_ms(clock_());
    Append(RecordType::kDlq, rec, [](absl::StatusOr<uint64_t>) {});
  }
}

void BrokerCore::MarkAcked(GroupTopic& gt, uint64_t id) {
  ++gt.acked;
  ++metrics_.acked;
  MessageEntry* m = halves_.Find(id);
  if (m == nullptr) return;
  m->acked_by.push_back(gt.index);
  if (m->unacked_groups > 0) --m->unacked_groups;
  if (m->unacked_groups == 0) MaybeForget(id);
}

GroupTopic* BrokerCore::SubscribedGroupTopic(PeerState& ps, const std::string& group,
                                             const std::string& topic) {
  GroupTopic* gt = registry_.FindGroupTopic(group, topic);
  if (gt == nullptr || ps.FindSub(gt->index) == nullptr) return nullptr;
  return gt;
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
    if (!halves_.contains(id)) rec.add_forgotten_ids(id);
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
  const MessageEntry* m = halves_.Find(id);
  if (m == nullptr) return;
  if (m->state() == wire::HALF_ROLLED_BACK) return Forget(id);
  if (m->state() != wire::HALF_COMMITTED || m->unacked_groups > 0) return;
  if (registry_.topic(m->topic).groups.empty()) return;  // kept for the first group
  if (options_.retention_ms > 0) return;                 // SweepRetention decides
  Forget(id);
}

void BrokerCore::Forget(uint64_t id) {
  halves_.Forget(id);
  recent_.Erase(id);
}

}  // namespace txmsg::broker
