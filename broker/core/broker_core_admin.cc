// BrokerCore: the operator's requests (txmsgctl).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/core/broker_core.h"
#include "broker/core/broker_core_internal.h"
#include "broker/core/event_log.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {

wire::HalfInfo BrokerCore::DescribeHalf(uint64_t id, const MessageEntry& m, bool with_body) const {
  const uint64_t now = clock_();
  wire::HalfInfo info;
  info.set_message_id(id);
  info.set_tx_id(m.tx_id);
  info.set_producer_group(registry_.Name(m.producer_group));
  info.set_store_time_ms(m.store_time_ms);
  info.set_age_ms(now > m.store_time_ms ? now - m.store_time_ms : 0);
  info.set_checks(m.checks);
  if (m.state() == wire::HALF_PENDING) {
    info.set_next_check_ms(m.next_check_ms() > now ? m.next_check_ms() - now : 0);
  }
  info.set_state(m.state());
  if (m.history) {
    for (const wire::CheckRecord& c : *m.history) *info.add_check_history() = c;
  }
  absl::StatusOr<wire::MessageContent> content = ReadContent(m);
  if (content.ok()) {
    if (!with_body) content->clear_body();
    *info.mutable_content() = std::move(*content);
  } else {
    info.mutable_content()->set_topic(registry_.TopicName(m.topic));
  }
  return info;
}

void BrokerCore::HandleAdmin(PeerState& ps, const wire::Frame& f) {
  const uint64_t corr = f.correlation_id();
  const uint64_t now = clock_();
  wire::Frame out;
  out.set_correlation_id(corr);
  switch (f.body_case()) {
    case wire::Frame::kListHalf: {
      const wire::ListHalf& req = f.list_half();
      const uint32_t limit = req.limit() > 0 ? std::min(req.limit(), 100'000u) : options_.max_list;
      wire::ListHalfOk& ok = *out.mutable_list_half_ok();
      uint64_t total = 0;
      std::vector<std::pair<uint64_t, uint64_t>> matches;  // (store time, id): oldest first
      halves_.ForEachOpenHalf([&](uint64_t id, const MessageEntry& m) {
        if (!req.producer_group().empty() &&
            registry_.Name(m.producer_group) != req.producer_group()) {
          return;
        }
        if (!req.topic().empty() && registry_.TopicName(m.topic) != req.topic()) return;
        if (req.state() != wire::HALF_STATE_UNSPECIFIED && m.state() != req.state()) return;
        if (req.older_than_ms() > 0 && now - std::min(now, m.store_time_ms) < req.older_than_ms()) {
          return;
        }
        matches.emplace_back(m.store_time_ms, id);
      });
      std::sort(matches.begin(), matches.end());
      for (const auto& [time, id] : matches) {
        if (++total > limit) continue;
        *ok.add_messages() = DescribeHalf(id, *halves_.Find(id), /*with_body=*/false);
      }
      ok.set_total(total);
      break;
    }
    case wire::Frame::kShowHalf: {
      const uint64_t id = f.show_half().message_id();
      const MessageEntry* m = halves_.Find(id);
      if (m == nullptr || m->plain) {
        std::optional<wire::HalfState> settled = halves_.SettledState(id);
        return SendError(
            ps, corr, wire::ERROR_NOT_FOUND,
            settled ? absl::StrCat("half message ", id, " was ", wire::HalfState_Name(*settled),
                                   " and is no longer retained")
                    : absl::StrCat("no half message with id ", id));
      }
      *out.mutable_show_half_ok()->mutable_half() = DescribeHalf(id, *m, true);
      break;
    }
    case wire::Frame::kResolveHalf: {
      const wire::ResolveHalf& req = f.resolve_half();
      if (req.outcome() != wire::TX_COMMIT && req.outcome() != wire::TX_ROLLBACK) {
        return SendError(ps, corr, wire::ERROR_INVALID_REQUEST,
                         "ResolveHalf needs TX_COMMIT or TX_ROLLBACK");
      }
      const uint64_t id = req.message_id();
      if (!halves_.contains(id)) {
        if (std::optional<wire::HalfState> settled = halves_.SettledState(id)) {
          const TxDecision d = DecideTx(*settled, req.outcome(), TxSource::kOperator);
          if (d.kind == TxDecision::Kind::kConflict) {
            ++metrics_.conflicts;
            return SendError(
                ps, corr, wire::ERROR_CONFLICT,
                absl::StrCat("message ", id, " was already ", wire::HalfState_Name(*settled)));
          }
          out.mutable_end_tx_ok()->set_state(*settled);
          out.mutable_end_tx_ok()->set_applied(false);
          break;
        }
        return SendError(ps, corr, wire::ERROR_NOT_FOUND,
                         absl::StrCat("no half message with id ", id));
      }
      LogEvent("operator ", ps.client_id, " resolves message ", id, " with ",
               wire::TxOutcome_Name(req.outcome()));
      const uint64_t peer_id = ps.peer->id();
      ApplyTx(id, req.outcome(), TxSource::kOperator, [this, peer_id, corr](const wire::Frame& r) {
        wire::Frame reply = r;
        reply.set_correlation_id(corr);
        ReplyTo(peer_id, reply);
      });
      return;
    }
    case wire::Frame::kListTopics: {
      std::vector<uint32_t> sorted(registry_.topic_count());
      for (uint32_t t = 0; t < sorted.size(); ++t) sorted[t] = t;
      std::sort(sorted.begin(), sorted.end(), [this](uint32_t a, uint32_t b) {
        return registry_.TopicName(a) < registry_.TopicName(b);
      });
      for (uint32_t t : sorted) {
        wire::TopicInfo& info = *out.mutable_list_topics_ok()->add_topics();
        info.set_name(registry_.TopicName(t));
        info.set_committed(halves_.committed_in(t));
        info.set_pending_half(halves_.pending_in(t));
        for (uint32_t g : registry_.topic(t).groups) {
          info.add_groups(registry_.Name(registry_.group_topic(g).group));
        }
      }
      out.mutable_list_topics_ok();
      break;
    }
    case wire::Frame::kListGroups: {
      std::vector<const GroupTopic*> sorted;
      for (uint32_t g = 0; g < registry_.group_topic_count(); ++g) {
        sorted.push_back(&registry_.group_topic(g));
      }
      std::sort(sorted.begin(), sorted.end(), [this](const GroupTopic* a, const GroupTopic* b) {
        return std::make_pair(registry_.Name(a->group), registry_.TopicName(a->topic)) <
               std::make_pair(registry_.Name(b->group), registry_.TopicName(b->topic));
      });
      for (const GroupTopic* gt : sorted) {
        wire::GroupInfo& info = *out.mutable_list_groups_ok()->add_groups();
        info.set_group(registry_.Name(gt->group));
        info.set_topic(registry_.TopicName(gt->topic));
        info.set_delivered(gt->delivered);
        info.set_in_flight(gt->queue.in_flight());
        info.set_acked(gt->acked);
        info.set_dlq(gt->queue.dlq().size());
        info.set_lag(gt->queue.unacked() - gt->queue.dlq().size());
        info.set_consumers(static_cast<uint32_t>(gt->consumers.size()));
        uint64_t oldest = UINT64_MAX;
        gt->queue.ForEachUnacked([&](uint64_t id) {
          const MessageEntry* m = halves_.Find(id);
          if (m != nullptr && m->commit_time_ms() < oldest) oldest = m->commit_time_ms();
        });
        info.set_oldest_unacked_age_ms(oldest == UINT64_MAX || oldest > now ? 0 : now - oldest);
      }
      out.mutable_list_groups_ok();
      break;
    }
    case wire::Frame::kListDlq: {
      const std::string& group = f.list_dlq().group();
      const std::vector<GroupTopic*> gts = registry_.GroupTopicsOf(group);
      std::vector<wire::DlqEntry> entries;
      for (const GroupTopic* gt : gts) {
        for (const auto& [id, e] : gt->queue.dlq()) {
          wire::DlqEntry entry;
          entry.set_message_id(id);
          entry.set_topic(registry_.TopicName(gt->topic));
          entry.set_attempts(e.attempts);
          entry.set_moved_time_ms(e.time_ms);
          if (const MessageEntry* m = halves_.Find(id)) {
            if (auto c = ReadContent(*m); c.ok()) entry.set_key(c->key());
          }
          entries.push_back(std::move(entry));
        }
      }
      if (gts.empty()) {
        return SendError(ps, corr, wire::ERROR_NOT_FOUND,
                         absl::StrCat("no consumer group '", group, "'"));
      }
      std::sort(entries.begin(), entries.end(),
                [](const auto& a, const auto& b) { return a.moved_time_ms() < b.moved_time_ms(); });
      for (auto& e : entries) *out.mutable_list_dlq_ok()->add_entries() = std::move(e);
      out.mutable_list_dlq_ok();
      break;
    }
    case wire::Frame::kReplayDlq: {
      const wire::ReplayDlq& req = f.replay_dlq();
      const std::vector<GroupTopic*> gts = registry_.GroupTopicsOf(req.group());
      uint64_t replayed = 0;
      for (GroupTopic* gt : gts) {
        std::vector<uint64_t> moved = gt->queue.ReplayDlq(
            req.message_id() == 0 ? std::nullopt : std::optional<uint64_t>(req.message_id()));
        if (moved.empty()) continue;
        replayed += moved.size();
        store::StoredDlqReplay rec;
        rec.set_group(req.group());
        for (uint64_t id : moved) rec.add_message_ids(id);
        Append(RecordType::kDlqReplay, rec, [](absl::StatusOr<uint64_t>) {});
        Pump(*gt);
      }
      if (gts.empty()) {
        return SendError(ps, corr, wire::ERROR_NOT_FOUND,
                         absl::StrCat("no consumer group '", req.group(), "'"));
      }
      if (req.message_id() != 0 && replayed == 0) {
        return SendError(ps, corr, wire::ERROR_NOT_FOUND,
                         absl::StrCat("message ", req.message_id(), " is not in the DLQ of '",
                                      req.group(), "'"));
      }
      LogEvent("operator ", ps.client_id, " replayed ", replayed, " DLQ messages of ", req.group());
      out.mutable_replay_dlq_ok()->set_replayed(replayed);
      break;
    }
    case wire::Frame::kStats: {
      const BrokerMetrics m = Metrics();
      wire::StatsOk& s = *out.mutable_stats_ok();
      s.set_connections(m.connections);
      s.set_pending_half(m.pending_half);
      s.set_committed(m.committed);
      s.set_in_flight(m.in_flight);
      s.set_acked(m.acked);
      s.set_discarded(m.discarded);
      s.set_dlq(m.dlq);
      s.set_log_bytes(m.log.disk_bytes);
      s.set_segments(m.log.segments);
      s.set_fsyncs(m.log.syncs);
      s.set_fsyncs_per_s(m.uptime_ms > 0 ? 1000.0 * m.log.syncs / m.uptime_ms : 0);
      s.set_uptime_ms(m.uptime_ms);
      break;
    }
    default:
      return SendError(ps, corr, wire::ERROR_UNKNOWN_REQUEST, "not an admin request");
  }
  ps.peer->Send(out);
}

BrokerMetrics BrokerCore::Metrics() const {
  BrokerMetrics m = metrics_;
  m.connections = peers_.size();
  m.uptime_ms = clock_() - start_ms_;
  // From counters, not by walking the messages: a scrape stays cheap with a
  // million of them. Open halves are PENDING or DISCARDED.
  m.committed = halves_.committed();
  m.pending_half = halves_.pending();
  m.discarded = halves_.discarded();
  for (uint32_t g = 0; g < registry_.group_topic_count(); ++g) {
    const GroupTopic& gt = registry_.group_topic(g);
    m.in_flight += gt.queue.in_flight();
    m.dlq += gt.queue.dlq().size();
  }
  if (log_) m.log = log_->stats();
  return m;
}

}  // namespace txmsg::broker
