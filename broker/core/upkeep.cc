// BrokerCore: periodic upkeep. Check-backs of halves without an outcome, ack
// timeouts and due redeliveries, retention, and keeping the log's disk use
// flat (live records of the oldest segment are carried forward, then the
// segment is deleted).
#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/core/broker_core.h"
#include "broker/core/event_log.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {
namespace {

constexpr int kMaxChecksPerTick = 10'000;
// Carry a segment's live records forward only when they are few; a large
// backlog waits for its consumers instead of being rewritten.
constexpr size_t kMaxCarryPerSegment = 4'096;
constexpr uint64_t kCompactionIntervalMs = 500;

}  // namespace

void BrokerCore::Tick() {
  if (stopping_) return;
  const uint64_t now = clock_();
  RunCheckBacks(now);
  ExpireDeliveries(now);
  if (now - last_compaction_ms_ >= kCompactionIntervalMs) {
    last_compaction_ms_ = now;
    SweepRetention(now);
    CompactLog();
  }
}

void BrokerCore::RunCheckBacks(uint64_t now) {
  int budget = kMaxChecksPerTick;
  // A cursor, not a pop: checks nobody can be asked about stay where they are.
  std::optional<HalfMessageTable::DueCheck> due;
  while (budget > 0 && (due = halves_.NextDueCheck(now, due))) {
    const uint64_t id = due->id;
    MessageEntry& m = *halves_.Find(id);  // scheduled: a PENDING half, nothing on its way
    if (m.checks >= options_.max_checks) {
      DiscardUnanswered(id, m, now);
      continue;
    }
    // One live connection of the producer group, in turn (with auth on, one
    // whose principal may produce for it).
    PeerState* producer = CheckableProducer(m);
    --budget;
    if (producer == nullptr) {
      // Nobody to ask. The check counts all the same: a half whose producer
      // never comes back is DISCARDED after max_checks x check_interval
      // (visible to operators, resolvable) instead of pinning its segment
      // for ever.
      CountUnansweredCheck(id, m, now);
      continue;
    }
    SendCheck(id, m, *producer, now);
  }
}

void BrokerCore::DiscardUnanswered(uint64_t id, MessageEntry& m, uint64_t now) {
  halves_.Discard(id);
  ++metrics_.discards;
  LogEvent("discarded after ", m.checks, " checks without an outcome: id=", id, " tx=", m.tx_id,
           " group=", registry_.Name(m.producer_group));
  store::StoredDiscard rec;
  rec.set_message_id(id);
  rec.set_time_ms(now);
  rec.set_checks(m.checks);
  ++m.pending_writes;
  Append(RecordType::kDiscard, rec, [this, id](absl::StatusOr<uint64_t>) {
    if (MessageEntry* m = halves_.Find(id)) --m->pending_writes;
  });
}

void BrokerCore::SendCheck(uint64_t id, MessageEntry& m, PeerState& producer, uint64_t now) {
  absl::StatusOr<wire::MessageContent> content = ReadContent(m);
  halves_.ScheduleCheck(id, now + options_.check_interval_ms);
  if (!content.ok()) {
    LogEvent("error: cannot read half message ", id,
             " for a check-back: ", content.status().ToString());
    return;
  }
  wire::Frame f;
  f.set_correlation_id(next_correlation_++);
  wire::CheckTx& check = *f.mutable_check_tx();
  check.set_message_id(id);
  check.set_tx_id(m.tx_id);
  *check.mutable_content() = std::move(*content);
  check.set_check_number(++m.checks);
  RememberCheck(m, now, producer.client_id);
  PersistCheck(id, m, now, producer.client_id);
  ++metrics_.checks_sent;
  LogEvent("check-back sent: id=", id, " tx=", m.tx_id, " group=", registry_.Name(m.producer_group),
           " check=", m.checks, "/", options_.max_checks, " to ", producer.client_id);
  producer.peer->Send(f);
}

void BrokerCore::CountUnansweredCheck(uint64_t id, MessageEntry& m, uint64_t now) {
  halves_.ScheduleCheck(id, now + options_.check_interval_ms);
  ++m.checks;
  RememberCheck(m, now, "");
  PersistCheck(id, m, now, "");
  ++metrics_.checks_unanswerable;
  uint64_t suppressed = 0;
  if (no_producer_log_.Allow("no-producer", std::chrono::steady_clock::now(), &suppressed)) {
    LogEvent("check-back due but no producer of group ", registry_.Name(m.producer_group),
             " is connected: id=", id, " tx=", m.tx_id, " check=", m.checks, "/",
             options_.max_checks, " counted unanswered",
             suppressed > 0 ? absl::StrCat(" [", suppressed, " more since the last report]") : "");
  }
}

void BrokerCore::RememberCheck(MessageEntry& m, uint64_t time_ms, const std::string& asked) {
  if (!m.history) m.history = std::make_unique<std::deque<wire::CheckRecord>>();
  wire::CheckRecord rec;
  rec.set_sent_time_ms(time_ms);
  rec.set_asked_client(asked.empty() ? kNoProducerConnected : asked);
  m.history->push_back(std::move(rec));
  while (m.history->size() > options_.check_history) m.history->pop_front();
}

void BrokerCore::PersistCheck(uint64_t id, MessageEntry& m, uint64_t now,
                              const std::string& asked) {
  store::StoredCheck rec;
  rec.set_message_id(id);
  rec.set_check_number(m.checks);
  rec.set_time_ms(now);
  rec.set_asked_client(asked);
  ++m.pending_writes;
  Append(RecordType::kCheck, rec, [this, id](absl::StatusOr<uint64_t>) {
    if (MessageEntry* m = halves_.Find(id)) --m->pending_writes;
  });
}

void BrokerCore::ExpireDeliveries(uint64_t now) {
  for (uint32_t g = 0; g < registry_.group_topic_count(); ++g) {
    GroupTopic& gt = registry_.group_topic(g);
    std::vector<std::pair<uint64_t, DeliveryQueue::Failure>> failures = gt.queue.Expire(now);
    if (!failures.empty()) ApplyFailures(gt, failures);
    if (!failures.empty() || gt.queue.waiting_retry() > 0) Pump(gt);
  }
}

void BrokerCore::SweepRetention(uint64_t now) {
  for (uint32_t t = 0; t < registry_.topic_count(); ++t) {
    const bool has_groups = !registry_.topic(t).groups.empty();
    std::vector<uint64_t> forgotten;
    while (std::optional<uint64_t> id = halves_.OldestCommitted(t)) {
      const MessageEntry& m = *halves_.Find(*id);
      const bool expired =
          m.unacked_groups == 0 && has_groups && m.commit_time_ms() + options_.retention_ms <= now;
      if (!expired) break;
      Forget(*id);
      forgotten.push_back(*id);
    }
    AppendForget(forgotten);
  }
}

void BrokerCore::CompactLog() {
  if (carrying_ > 0) return;  // the last round's copies are still on their way
  const std::vector<log::SegmentInfo> segments = log_->Segments();
  // Walk the sealed segments from the oldest: delete every one nothing live
  // needs; at the first one something pins, carry its few live records
  // forward (deleted on a later round) or stop.
  const HalfMessageTable::Entries& messages = halves_.entries();
  std::vector<uint64_t> bodies;  // body positions of messages with ids seen so far
  auto next = messages.begin();
  uint64_t delete_before = 0;
  for (size_t k = 0; k + 1 < segments.size(); ++k) {
    const uint64_t base = segments[k].base;
    const uint64_t end = base + segments[k].size;
    // Every message whose body can be in this segment has an id below `end`
    // (ids are first positions; older segments are gone).
    for (; next != messages.end() && next->first < end; ++next) {
      bodies.push_back(next->second.body_pos);
      if (bodies.size() > 16 * kMaxCarryPerSegment) break;  // a real backlog: leave it
    }
    std::vector<uint64_t> pinned;
    for (auto it = messages.begin(); it != next && pinned.size() <= kMaxCarryPerSegment; ++it) {
      if (it->second.body_pos >= base && it->second.body_pos < end) pinned.push_back(it->first);
    }
    std::vector<uint32_t> groups;
    for (uint32_t g = 0; g < registry_.group_topic_count(); ++g) {
      const GroupTopic& gt = registry_.group_topic(g);
      if (gt.live && gt.record_pos < end) groups.push_back(g);
    }
    if (pinned.empty() && groups.empty()) {
      delete_before = end;
      continue;
    }
    if (delete_before == 0 && pinned.size() <= kMaxCarryPerSegment) {
      bool busy = false;
      for (uint64_t id : pinned) busy = busy || halves_.Find(id)->pending_writes > 0;
      if (!busy) {
        for (uint64_t id : pinned) CarryForward(id, *halves_.Find(id));
        for (uint32_t g : groups) CarryGroup(g);
      }
    }
    break;
  }
  if (delete_before == 0) return;
  absl::StatusOr<size_t> deleted = log_->DeleteSegmentsBefore(delete_before);
  if (!deleted.ok()) {
    LogEvent("error: deleting segments before ", delete_before, ": ", deleted.status().ToString());
  } else {
    metrics_.segments_deleted += *deleted;
  }
}

void BrokerCore::CarryGroup(uint32_t g) {
  store::StoredGroup rec;
  const GroupTopic& gt = registry_.group_topic(g);
  rec.set_group(registry_.Name(gt.group));
  rec.set_topic(registry_.TopicName(gt.topic));
  ++carrying_;
  Append(RecordType::kGroup, rec, [this, g](absl::StatusOr<uint64_t> pos) {
    --carrying_;
    // The slot may hold a new group-topic by now (deleted and reused): its
    // own record is the later one.
    GroupTopic& gt = registry_.group_topic(g);
    if (pos.ok()) gt.record_pos = std::max(gt.record_pos, *pos);
  });
}

void BrokerCore::CarryForward(uint64_t id, MessageEntry& m) {
  absl::StatusOr<wire::MessageContent> content = ReadContent(m);
  if (!content.ok()) {
    LogEvent("error: cannot carry message ", id, " forward: ", content.status().ToString());
    return;
  }
  store::StoredMessage snap;
  snap.set_tx_id(m.tx_id);
  snap.set_producer_group(m.plain ? "" : registry_.Name(m.producer_group));
  *snap.mutable_content() = std::move(*content);
  snap.set_store_time_ms(m.store_time_ms);
  snap.set_message_id(id);
  snap.set_state(m.state());
  snap.set_commit_time_ms(m.commit_time_ms());
  snap.set_checks(m.checks);
  if (const std::vector<wire::AuditRecord>* audit = AuditOf(id)) {
    for (const wire::AuditRecord& a : *audit) *snap.add_audit() = a;
  }
  for (uint32_t g : m.acked_by) {
    store::GroupProgress& p = *snap.add_groups();
    p.set_group(registry_.Name(registry_.group_topic(g).group));
    p.set_acked(true);
  }
  for (uint32_t g : registry_.topic(m.topic).groups) {
    if (registry_.group_topic(g).queue.dlq().contains(id)) {
      store::GroupProgress& p = *snap.add_groups();
      p.set_group(registry_.Name(registry_.group_topic(g).group));
      p.set_acked(false);
    }
  }
  ++m.pending_writes;
  ++carrying_;
  Append(RecordType::kCarried, snap, [this, id](absl::StatusOr<uint64_t> pos) {
    --carrying_;
    MessageEntry* m = halves_.Find(id);
    if (m == nullptr) return;
    --m->pending_writes;
    if (pos.ok()) {
      m->body_pos = *pos;
      ++metrics_.carried;
    }
  });
}

}  // namespace txmsg::broker
