// BrokerCore: rebuilding the state from the log on start.
//
// Records are applied in log order. A record about a message the state does
// not know (its segment was deleted after the message was carried forward)
// is skipped: the carried copy holds everything that mattered.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/core/broker_core.h"
#include "broker/core/broker_core_internal.h"
#include "broker/core/event_log.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {
namespace {

template <typename T>
absl::Status Parse(std::string_view payload, uint64_t pos, T* out) {
  if (!out->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::DataLossError(
        absl::StrCat("log record at position ", pos, " is not a valid ", out->GetTypeName()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BrokerCore::Replay(uint64_t pos, uint8_t type, std::string_view payload) {
  switch (static_cast<RecordType>(type)) {
    case RecordType::kHalf:
    case RecordType::kPlain:
    case RecordType::kCarried: {
      store::StoredMessage s;
      if (absl::Status st = Parse(payload, pos, &s); !st.ok()) return st;
      const bool carried = static_cast<RecordType>(type) == RecordType::kCarried;
      const uint64_t id = carried ? s.message_id() : pos;
      MessageEntry m;
      m.body_pos = pos;
      m.store_time_ms = s.store_time_ms();
      m.tx_id = s.tx_id();
      m.topic = registry_.AddTopic(s.content().topic());
      m.producer_group = registry_.Intern(s.producer_group());
      m.plain = static_cast<RecordType>(type) == RecordType::kPlain ||
                (carried && s.tx_id().empty() && s.producer_group().empty());
      wire::HalfState state = wire::HALF_PENDING;
      uint64_t commit_time_ms = 0;
      if (carried) {
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
      halves_.Restore(id, std::move(m), state, commit_time_ms);
      return absl::OkStatus();
    }
    case RecordType::kTxEnd: {
      store::StoredTxEnd r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
      halves_.RestoreOutcome(r.message_id(), r.state(), r.time_ms());
      return absl::OkStatus();
    }
    case RecordType::kDiscard: {
      store::StoredDiscard r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
      halves_.RestoreDiscard(r.message_id());
      return absl::OkStatus();
    }
    case RecordType::kAck: {
      store::StoredAck r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
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
      return absl::OkStatus();
    }
    case RecordType::kDlq: {
      store::StoredDlq r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
      const MessageEntry* m = halves_.Find(r.message_id());
      if (m == nullptr) return absl::OkStatus();
      EnsureGroupTopic(r.group(), m->topic, false)
          .queue.AddToDlq(r.message_id(), r.attempts(), r.time_ms());
      return absl::OkStatus();
    }
    case RecordType::kDlqReplay: {
      store::StoredDlqReplay r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
      for (uint64_t id : r.message_ids()) {
        const MessageEntry* m = halves_.Find(id);
        if (m == nullptr) continue;
        EnsureGroupTopic(r.group(), m->topic, false).queue.RemoveFromDlq(id);
      }
      return absl::OkStatus();
    }
    case RecordType::kGroup: {
      store::StoredGroup r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
      EnsureGroupTopic(r.group(), registry_.AddTopic(r.topic()), false).record_pos = pos;
      return absl::OkStatus();
    }
  }
  return absl::DataLossError(absl::StrCat("log record at position ", pos, " has unknown type ",
                                          static_cast<int>(type), " (written by a newer broker?)"));
}

void BrokerCore::FinishReplay() {
  const uint64_t now = clock_();
  // Pending halves scheduled, rolled-back ones forgotten; committed ones
  // come back oldest commit first, to be queued for the groups that still
  // owe an ack (replaying_: nothing is delivered yet).
  const std::vector<uint64_t> committed = halves_.FinishRestore(options_.tx_timeout_ms);
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
  for (uint64_t id : committed) {
    const MessageEntry* m = halves_.Find(id);
    if (m == nullptr || m->unacked_groups > 0) continue;
    if (options_.retention_ms == 0 || m->commit_time_ms() + options_.retention_ms <= now) {
      MaybeForget(id);
    }
  }
  const log::RecoveryReport& report = log_->recovery_report();
  for (const std::string& action : report.actions) LogEvent("recovery: ", action);
  LogEvent("recovered ", report.records, " records from ", report.segments.size(),
           " segments: ", Summary());
}

}  // namespace txmsg::broker
