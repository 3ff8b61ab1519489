// DeliveryModel: consumer groups, credit, acks, nacks, timeouts and the DLQ,
// as the simulation expects the broker core to keep them.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/broker/core/sim_models.h"

namespace txmsg::broker::testing {
namespace {

std::string Name(const DeliveryModel::GroupTopic& gt) {
  return absl::StrCat("group ", gt.first, " topic ", gt.second);
}

}  // namespace

DeliveryModel::DeliveryModel(const BrokerOptions& options, Violations* violations)
    : options_(options), violations_(violations) {}

void DeliveryModel::Commit(uint64_t id, const std::string& topic, const std::string& body) {
  state_.messages[id] = Message{topic, body};
  for (auto& [gt, g] : state_.groups) {
    if (gt.second == topic) g.owed.insert(id);
  }
}

bool DeliveryModel::MustRetain(uint64_t id) const {
  auto m = state_.messages.find(id);
  if (m == state_.messages.end() || m->second.maybe_forgotten) return false;
  bool any_group = false;
  for (const auto& [gt, g] : state_.groups) {
    if (gt.second != m->second.topic) continue;
    any_group = true;
    if (g.owed.contains(id)) return true;
  }
  return !any_group;  // kept for the first group
}

DeliveryModel::Group* DeliveryModel::Find(const GroupTopic& gt) {
  auto it = state_.groups.find(gt);
  return it == state_.groups.end() ? nullptr : &it->second;
}

void DeliveryModel::CreateGroup(const GroupTopic& gt) {
  // A new group starts from what the broker still holds of its topic: all
  // of it if the topic had no group, else at least what another group owes.
  std::vector<const Group*> others;
  for (const auto& [other, g] : state_.groups) {
    if (other.second == gt.second) others.push_back(&g);
  }
  Group created;
  for (const auto& [id, m] : state_.messages) {
    if (m.topic != gt.second) continue;
    bool owed = others.empty() && !m.maybe_forgotten;
    for (const Group* o : others) owed = owed || o->owed.contains(id);
    // Whatever else of the topic the broker may still hold: a message every
    // group acked is forgotten, but after a restart it comes back for the
    // groups created since, if its records are still in the log.
    const bool may = !owed;
    if (owed) {
      created.owed.insert(id);
    } else if (may) {
      created.may.insert(id);
    }
  }
  state_.groups[gt] = std::move(created);
}

size_t DeliveryModel::HeldBy(const Group& g, uint64_t consumer) const {
  return std::count_if(g.inflight.begin(), g.inflight.end(),
                       [&](const auto& e) { return e.second.consumer == consumer; });
}

void DeliveryModel::OnSubscribe(uint64_t consumer, const std::string& topic,
                                const std::string& group, uint32_t credit,
                                const std::optional<wire::Frame>& answer) {
  const GroupTopic gt{group, topic};
  if (!answer || !answer->has_subscribe_ok()) {
    return violations_->Fail(absl::StrCat("Subscribe to ", Name(gt),
                                          " not answered with "
                                          "SubscribeOk: ",
                                          answer ? answer->ShortDebugString() : "no answer"));
  }
  if (Find(gt) == nullptr) CreateGroup(gt);
  const Group& g = state_.groups[gt];
  const uint64_t backlog = answer->subscribe_ok().backlog();
  if (backlog < g.owed.size() || backlog > g.owed.size() + g.may.size()) {
    violations_->Fail(absl::StrCat("SubscribeOk backlog ", backlog, " for ", Name(gt),
                                   " but the group owes ", g.owed.size(), " (and may hold ",
                                   g.may.size(), " more)"));
  }
  state_.consumers[consumer] = Consumer{gt, std::min(credit, options_.max_unacked_per_consumer)};
}

void DeliveryModel::Fail(Group& g, uint64_t id, const InFlight& f, uint64_t due_ms) {
  if (f.attempt >= options_.delivery.max_attempts) {
    g.dlq.insert(id);
  } else {
    g.waiting[id] = Waiting{due_ms, f.attempt};
  }
}

void DeliveryModel::OnConsumerGone(uint64_t consumer, uint64_t now) {
  auto c = state_.consumers.find(consumer);
  if (c == state_.consumers.end()) return;
  Group& g = state_.groups[c->second.gt];
  for (auto it = g.inflight.begin(); it != g.inflight.end();) {
    if (it->second.consumer != consumer) {
      ++it;
      continue;
    }
    Fail(g, it->first, it->second, now);
    it = g.inflight.erase(it);
  }
  state_.consumers.erase(c);
}

void DeliveryModel::OnDeliver(uint64_t consumer, const wire::Deliver& d, uint64_t now) {
  const uint64_t id = d.message_id();
  auto c = state_.consumers.find(consumer);
  if (c == state_.consumers.end()) {
    return violations_->Fail(absl::StrCat("message ", id, " delivered to connection ", consumer,
                                          ", which did not subscribe"));
  }
  const GroupTopic& gt = c->second.gt;
  const Message& m = state_.messages.at(id);
  if (d.group() != gt.first || m.topic != gt.second || d.content().topic() != m.topic) {
    return violations_->Fail(absl::StrCat("message ", id, " of topic ", m.topic,
                                          " delivered for group ", d.group(), " to a consumer of ",
                                          Name(gt)));
  }
  if (d.content().body() != m.body) {
    return violations_->Fail(absl::StrCat("message ", id, " delivered with body '",
                                          d.content().body(), "', stored as '", m.body, "'"));
  }
  Group& g = state_.groups.at(gt);
  if (g.acked.contains(id)) {
    return violations_->Fail(
        absl::StrCat("message ", id, " redelivered to ", Name(gt), " after a durable ack"));
  }
  if (!g.owed.contains(id) && !g.may.contains(id)) {
    return violations_->Fail(
        absl::StrCat("message ", id, " delivered to ", Name(gt), ", which never needed it"));
  }
  if (g.dlq.contains(id)) {
    return violations_->Fail(
        absl::StrCat("message ", id, " delivered to ", Name(gt), " from its DLQ without a replay"));
  }
  if (auto f = g.inflight.find(id); f != g.inflight.end()) {
    return violations_->Fail(absl::StrCat("message ", id, " delivered to ", Name(gt),
                                          " while in flight with connection ", f->second.consumer));
  }
  uint32_t expected_attempt = 1;
  if (auto w = g.waiting.find(id); w != g.waiting.end()) {
    expected_attempt = w->second.attempts + 1;
    if (w->second.due_ms > now) {
      violations_->Fail(absl::StrCat("message ", id, " redelivered to ", Name(gt), " ",
                                     w->second.due_ms - now, " ms before its retry was due"));
    }
    g.waiting.erase(w);
  }
  if (d.attempt() != expected_attempt) {
    violations_->Fail(absl::StrCat("message ", id, " delivered to ", Name(gt), " as attempt ",
                                   d.attempt(), ", expected ", expected_attempt));
  }
  const size_t held = HeldBy(g, consumer);
  if (held >= c->second.credit) {
    violations_->Fail(absl::StrCat("credit exceeded: connection ", consumer, " of ", Name(gt),
                                   " holds ", held, " with credit ", c->second.credit,
                                   " and got message ", id));
  }
  g.inflight[id] = InFlight{consumer, now + options_.delivery.ack_timeout_ms, d.attempt()};
}

void DeliveryModel::OnAck(uint64_t consumer, const std::vector<uint64_t>& ids,
                          const std::optional<wire::Frame>& answer, bool one_way) {
  const GroupTopic gt = state_.consumers.at(consumer).gt;
  Group& g = state_.groups.at(gt);
  uint32_t known = 0;
  for (uint64_t id : ids) {
    const bool was_known = g.inflight.erase(id) + g.waiting.erase(id) > 0;
    if (!was_known) continue;
    ++known;
    g.owed.erase(id);
    g.may.erase(id);
    g.acked.insert(id);
    if (hold_) hold_->acked.emplace_back(gt, id);
  }
  if (one_way) return;
  if (!answer || !answer->has_ack_ok() || answer->ack_ok().acked() != known) {
    violations_->Fail(absl::StrCat("Ack of ", absl::StrJoin(ids, ","), " for ", Name(gt),
                                   " should count ", known, " acked; got ",
                                   answer ? answer->ShortDebugString() : "no answer"));
  }
}

uint64_t DeliveryModel::BackoffMs(uint32_t attempt) const {
  uint64_t delay = options_.delivery.backoff_base_ms;
  for (uint32_t i = 1; i < attempt && delay < options_.delivery.backoff_max_ms; ++i) delay *= 2;
  return std::min(delay, options_.delivery.backoff_max_ms);
}

void DeliveryModel::OnNack(uint64_t consumer, uint64_t id, uint32_t delay_ms, uint64_t now,
                           const std::optional<wire::Frame>& answer) {
  const GroupTopic gt = state_.consumers.at(consumer).gt;
  Group& g = state_.groups.at(gt);
  uint32_t failed = 0;
  if (auto f = g.inflight.find(id); f != g.inflight.end()) {
    failed = 1;
    const uint64_t due = now + (delay_ms > 0 ? delay_ms : BackoffMs(f->second.attempt));
    Fail(g, id, f->second, due);
    g.inflight.erase(f);
  }
  if (!answer || !answer->has_ack_ok() || answer->ack_ok().acked() != failed) {
    violations_->Fail(absl::StrCat("Nack of ", id, " for ", Name(gt), " should count ", failed,
                                   "; got ", answer ? answer->ShortDebugString() : "no answer"));
  }
}

void DeliveryModel::OnTick(uint64_t now) {
  for (auto& [gt, g] : state_.groups) {
    for (auto it = g.inflight.begin(); it != g.inflight.end();) {
      if (it->second.deadline_ms > now) {
        ++it;
        continue;
      }
      Fail(g, it->first, it->second, now);
      it = g.inflight.erase(it);
    }
  }
}

void DeliveryModel::OnReplayDlq(const std::string& group,
                                const std::optional<wire::Frame>& answer) {
  bool found = false;
  uint64_t replayed = 0;
  for (auto& [gt, g] : state_.groups) {
    if (gt.first != group) continue;
    found = true;
    replayed += g.dlq.size();
    g.dlq.clear();  // fresh again, first in line
  }
  const bool ok = found ? answer && answer->has_replay_dlq_ok() &&
                              answer->replay_dlq_ok().replayed() == replayed
                        : answer && answer->error().code() == wire::ERROR_NOT_FOUND;
  if (!ok) {
    violations_->Fail(absl::StrCat("ReplayDlq of group ", group, " should ",
                                   found ? absl::StrCat("replay ", replayed) : "find no group",
                                   "; got ", answer ? answer->ShortDebugString() : "no answer"));
  }
}

void DeliveryModel::OnRestart() {
  for (auto& [gt, g] : state_.groups) {
    g.inflight.clear();
    g.waiting.clear();
  }
  state_.consumers.clear();
}

void DeliveryModel::BeginHold() {
  hold_.emplace();
  for (const auto& [gt, g] : state_.groups) hold_->dlq[gt] = g.dlq;
}

void DeliveryModel::PowerCutDuringHold() {
  BeforeHold before = *std::move(hold_);
  hold_.reset();
  for (auto it = state_.groups.begin(); it != state_.groups.end();) {
    auto dlq = before.dlq.find(it->first);
    if (dlq == before.dlq.end()) {  // created in the hold: its record is lost
      it = state_.groups.erase(it);
      continue;
    }
    it->second.dlq = std::move(dlq->second);
    ++it;
  }
  // An ack answered in the hold was lost, but the broker may have acted on
  // it (forgotten the message, deleted its segment): from now on the message
  // may come again, or not.
  for (const auto& [gt, id] : before.acked) {
    auto m = state_.messages.find(id);
    if (m != state_.messages.end()) m->second.maybe_forgotten = true;
    Group* g = Find(gt);
    if (g == nullptr) continue;
    g->acked.erase(id);
    g->may.insert(id);
  }
}

}  // namespace txmsg::broker::testing
