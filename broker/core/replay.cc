// BrokerCore: rebuilding the state from the log on start, one function per
// record type.
//
// Records are applied in log order. A record about a message the state does
// not know (its segment was deleted after the message was carried forward)
// is skipped: the carried copy holds everything that mattered.
#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/core/broker_core.h"
#include "broker/core/event_log.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {
namespace {

// Parses the payload at `pos` as a T and hands it to `restore`.
template <typename T, typename Fn>
absl::Status ParseThen(std::string_view payload, uint64_t pos, Fn restore) {
  T record;
  if (!record.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::DataLossError(
        absl::StrCat("log record at position ", pos, " is not a valid ", record.GetTypeName()));
  }
  restore(record);
  return absl::OkStatus();
}

}  // namespace

absl::Status BrokerCore::Replay(uint64_t pos, uint8_t type, std::string_view payload) {
  const auto record_type = static_cast<RecordType>(type);
  switch (record_type) {
    case RecordType::kHalf:
    case RecordType::kPlain:
    case RecordType::kCarried:
      return ParseThen<store::StoredMessage>(
          payload, pos, [&](const auto& r) { RestoreMessage(pos, record_type, r); });
    case RecordType::kTxEnd:
      return ParseThen<store::StoredTxEnd>(payload, pos, [this](const auto& r) {
        halves_.RestoreOutcome(r.message_id(), r.state(), r.time_ms());
        if (r.has_audit()) RememberAudit(r.message_id(), r.audit());
      });
    case RecordType::kDiscard:
      return ParseThen<store::StoredDiscard>(payload, pos, [this](const auto& r) {
        halves_.RestoreDiscard(r.message_id());
        RestoreCheckCount(r.message_id(), r.checks());
      });
    case RecordType::kCheck:
      return ParseThen<store::StoredCheck>(payload, pos,
                                           [this](const auto& r) { RestoreCheck(r); });
    case RecordType::kAck:
      return ParseThen<store::StoredAck>(payload, pos, [this](const auto& r) { RestoreAck(r); });
    case RecordType::kDlq:
      return ParseThen<store::StoredDlq>(payload, pos, [this](const auto& r) { RestoreDlq(r); });
    case RecordType::kDlqReplay:
      return ParseThen<store::StoredDlqReplay>(payload, pos,
                                               [this](const auto& r) { RestoreDlqReplay(r); });
    case RecordType::kDeleteTopic:
      return ParseThen<store::StoredDeleteTopic>(payload, pos, [this](const auto& r) {
        if (std::optional<uint32_t> t = registry_.FindTopic(r.topic())) DropTopic(*t);
      });
    case RecordType::kDeleteGroup:
      return ParseThen<store::StoredDeleteGroup>(payload, pos, [this](const auto& r) {
        if (GroupTopic* gt = registry_.FindGroupTopic(r.group(), r.topic())) DropGroupTopic(*gt);
      });
    case RecordType::kForget:
      return ParseThen<store::StoredForget>(payload, pos, [this](const auto& r) {
        for (uint64_t id : r.message_ids()) halves_.RestoreForget(id);
      });
    case RecordType::kGroup:
      return ParseThen<store::StoredGroup>(payload, pos, [&](const auto& r) {
        EnsureGroupTopic(r.group(), registry_.AddTopic(r.topic()), false).record_pos = pos;
      });
  }
  return absl::DataLossError(absl::StrCat("log record at position ", pos, " has unknown type ",
                                          static_cast<int>(type), " (written by a newer broker?)"));
}

void BrokerCore::RestoreMessage(uint64_t pos, RecordType type, const store::StoredMessage& s) {
  const bool carried = type == RecordType::kCarried;
  const uint64_t id = carried ? s.message_id() : pos;
  if (carried && s.audit_size() > 0) {
    // The carried copy holds every action so far; records after it add to it.
    audit_.erase(id);
    for (const wire::AuditRecord& a : s.audit()) RememberAudit(id, a);
  }
  MessageEntry m;
  m.body_pos = pos;
  m.store_time_ms = s.store_time_ms();
  m.tx_id = s.tx_id();
  m.topic = registry_.AddTopic(s.content().topic());
  m.producer_group = s.producer_group().empty() ? registry_.Intern("")
                                                : registry_.AddProducerGroup(s.producer_group());
  m.plain =
      type == RecordType::kPlain || (carried && s.tx_id().empty() && s.producer_group().empty());
  wire::HalfState state = wire::HALF_PENDING;
  uint64_t commit_time_ms = 0;
  if (carried) {
    // A live message moved forward, with its state and its groups' progress.
    state = s.state();
    commit_time_ms = s.commit_time_ms();
    for (const store::GroupProgress& g : s.groups()) {
      GroupTopic& gt = EnsureGroupTopic(g.group(), m.topic, false);
      if (g.acked()) {
        m.acked_by.push_back(gt.index);
      } else {
        gt.queue.AddToDlq(id, options_.delivery.max_attempts, commit_time_ms);
      }
    }
  } else if (m.plain) {
    state = wire::HALF_COMMITTED;
    commit_time_ms = m.store_time_ms;
  }
  MessageEntry& restored = halves_.Restore(id, std::move(m), state, commit_time_ms);
  if (carried) restored.checks = std::max<uint16_t>(restored.checks, s.checks());
}

void BrokerCore::RestoreCheckCount(uint64_t id, uint32_t checks) {
  if (MessageEntry* m = halves_.Find(id)) {
    m->checks = static_cast<uint16_t>(std::max<uint32_t>(m->checks, checks));
  }
}

void BrokerCore::RestoreCheck(const store::StoredCheck& r) {
  MessageEntry* m = halves_.Find(r.message_id());
  if (m == nullptr) return;
  RestoreCheckCount(r.message_id(), r.check_number());
  RememberCheck(*m, r.time_ms(), r.asked_client());
}

void BrokerCore::RestoreAck(const store::StoredAck& r) {
  for (uint64_t id : r.message_ids()) {
    MessageEntry* m = halves_.Find(id);
    if (m == nullptr) continue;
    GroupTopic& gt = EnsureGroupTopic(r.group(), m->topic, false);
    auto& acked = m->acked_by;
    if (std::find(acked.begin(), acked.end(), gt.index) == acked.end()) {
      acked.push_back(gt.index);
    }
    gt.queue.RemoveFromDlq(id);
  }
  // Acks that made the broker forget their message (every group had acked
  // it): dropped here too, or a group created after them would be handed
  // the message after this restart.
  for (uint64_t id : r.forgotten_ids()) halves_.RestoreForget(id);
}

void BrokerCore::RestoreDlq(const store::StoredDlq& r) {
  const MessageEntry* m = halves_.Find(r.message_id());
  if (m == nullptr) return;
  EnsureGroupTopic(r.group(), m->topic, false)
      .queue.AddToDlq(r.message_id(), r.attempts(), r.time_ms());
}

void BrokerCore::RestoreDlqReplay(const store::StoredDlqReplay& r) {
  for (uint64_t id : r.message_ids()) {
    if (r.has_audit()) RememberAudit(id, r.audit());
    const MessageEntry* m = halves_.Find(id);
    if (m == nullptr) continue;
    EnsureGroupTopic(r.group(), m->topic, false).queue.RemoveFromDlq(id);
  }
}

void BrokerCore::FinishReplay() {
  const uint64_t now = clock_();
  // Pending halves scheduled, rolled-back ones forgotten; committed ones
  // come back oldest commit first, to be queued for the groups that still
  // owe an ack (replaying_: nothing is delivered yet).
  const std::vector<uint64_t> committed = halves_.FinishRestore(now, options_.tx_timeout_ms);
  for (uint64_t id : committed) {
    MessageEntry& m = *halves_.Find(id);
    uint16_t unacked = 0;
    for (uint32_t g : registry_.topic(m.topic).groups) {
      if (std::find(m.acked_by.begin(), m.acked_by.end(), g) != m.acked_by.end()) continue;
      ++unacked;
      GroupTopic& gt = registry_.group_topic(g);
      if (!gt.queue.dlq().contains(id)) gt.queue.Add(id);
    }
    m.unacked_groups = unacked;
  }
  replaying_ = false;
  std::vector<uint64_t> forgotten;
  for (uint64_t id : committed) {
    const MessageEntry* m = halves_.Find(id);
    if (m == nullptr || m->unacked_groups > 0) continue;
    if (options_.retention_ms == 0 || m->commit_time_ms() + options_.retention_ms <= now) {
      MaybeForget(id);
      if (!halves_.contains(id)) forgotten.push_back(id);
    }
  }
  // Written down, so that the next replay does not bring them back for a
  // group created in between.
  AppendForget(forgotten);
  const log::RecoveryReport& report = log_->recovery_report();
  for (const std::string& action : report.actions) LogEvent("recovery: ", action);
  LogEvent("recovered ", report.records, " records from ", report.segments.size(),
           " segments: ", Summary());
}

}  // namespace txmsg::broker
