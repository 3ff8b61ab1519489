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
      Message m;
      m.body_pos = pos;
      m.store_time_ms = s.store_time_ms();
      m.tx_id = s.tx_id();
      m.topic = TopicIndex(s.content().topic());
      m.producer_group = Intern(s.producer_group());
      m.plain = static_cast<RecordType>(type) == RecordType::kPlain ||
                (carried && s.tx_id().empty() && s.producer_group().empty());
      if (carried) {
        m.state = s.state();
        m.commit_time_ms = s.commit_time_ms();
        for (const store::GroupProgress& g : s.groups()) {
          GroupTopic& gt = EnsureGroupTopic(g.group(), m.topic, false);
          if (g.acked()) {
            m.acked_by.push_back(gt.index);
          } else {
            gt.queue.AddToDlq(id, options_.delivery.max_attempts, m.commit_time_ms);
          }
        }
      } else if (m.plain) {
        m.state = wire::HALF_COMMITTED;
        m.commit_time_ms = m.store_time_ms;
      } else {
        m.state = wire::HALF_PENDING;
      }
      messages_.insert_or_assign(id, std::move(m));
      return absl::OkStatus();
    }
    case RecordType::kTxEnd: {
      store::StoredTxEnd r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
      auto it = messages_.find(r.message_id());
      if (it == messages_.end()) return absl::OkStatus();
      it->second.state = r.state();
      if (r.state() == wire::HALF_COMMITTED) it->second.commit_time_ms = r.time_ms();
      return absl::OkStatus();
    }
    case RecordType::kDiscard: {
      store::StoredDiscard r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
      auto it = messages_.find(r.message_id());
      if (it != messages_.end() && it->second.state == wire::HALF_PENDING) {
        it->second.state = wire::HALF_DISCARDED;
      }
      return absl::OkStatus();
    }
    case RecordType::kAck: {
      store::StoredAck r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
      for (uint64_t id : r.message_ids()) {
        auto it = messages_.find(id);
        if (it == messages_.end()) continue;
        GroupTopic& gt = EnsureGroupTopic(r.group(), it->second.topic, false);
        auto& acked = it->second.acked_by;
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
      auto it = messages_.find(r.message_id());
      if (it == messages_.end()) return absl::OkStatus();
      EnsureGroupTopic(r.group(), it->second.topic, false)
          .queue.AddToDlq(r.message_id(), r.attempts(), r.time_ms());
      return absl::OkStatus();
    }
    case RecordType::kDlqReplay: {
      store::StoredDlqReplay r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
      for (uint64_t id : r.message_ids()) {
        auto it = messages_.find(id);
        if (it == messages_.end()) continue;
        EnsureGroupTopic(r.group(), it->second.topic, false).queue.RemoveFromDlq(id);
      }
      return absl::OkStatus();
    }
    case RecordType::kGroup: {
      store::StoredGroup r;
      if (absl::Status st = Parse(payload, pos, &r); !st.ok()) return st;
      EnsureGroupTopic(r.group(), TopicIndex(r.topic()), false).record_pos = pos;
      return absl::OkStatus();
    }
  }
  return absl::DataLossError(absl::StrCat("log record at position ", pos, " has unknown type ",
                                          static_cast<int>(type), " (written by a newer broker?)"));
}

void BrokerCore::FinishReplay() {
  const uint64_t now = clock_();
  std::vector<std::pair<uint64_t, uint64_t>> committed;  // (commit time, id)
  std::vector<uint64_t> dead;
  for (auto& [id, m] : messages_) {
    switch (m.state) {
      case wire::HALF_PENDING:
        open_halves_.insert(id);
        ++topics_[m.topic].pending_half;
        m.next_check_ms = m.store_time_ms + options_.tx_timeout_ms;
        check_queue_.emplace(m.next_check_ms, id);
        break;
      case wire::HALF_DISCARDED:
        open_halves_.insert(id);
        break;
      case wire::HALF_COMMITTED:
        committed.emplace_back(m.commit_time_ms, id);
        break;
      default:
        dead.push_back(id);
        break;
    }
  }
  for (uint64_t id : dead) Forget(id);
  std::sort(committed.begin(), committed.end());
  for (const auto& [time, id] : committed) {
    OnCommitted(id);  // into its topic's commit order (replaying_: no delivery yet)
    Message& m = messages_.at(id);
    const Topic& t = topics_[m.topic];
    uint16_t unacked = 0;
    for (uint32_t g : t.groups) {
      if (std::find(m.acked_by.begin(), m.acked_by.end(), g) != m.acked_by.end()) continue;
      ++unacked;
      GroupTopic& gt = *group_topics_[g];
      if (!gt.queue.dlq().contains(id)) gt.queue.Add(id);
    }
    m.unacked_groups = unacked;
  }
  replaying_ = false;
  for (const auto& [time, id] : committed) {
    auto it = messages_.find(id);
    if (it == messages_.end() || it->second.unacked_groups > 0) continue;
    if (options_.retention_ms == 0 || time + options_.retention_ms <= now) MaybeForget(id);
  }
  const log::RecoveryReport& report = log_->recovery_report();
  for (const std::string& action : report.actions) LogEvent("recovery: ", action);
  LogEvent("recovered ", report.records, " records from ", report.segments.size(),
           " segments: ", Summary());
}

}  // namespace txmsg::broker
