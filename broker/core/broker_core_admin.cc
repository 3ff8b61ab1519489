// BrokerCore: the operator's requests (txmsgctl).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/core/broker_core.h"
#include "broker/core/broker_core_internal.h"
#include "broker/core/event_log.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {

wire::HalfInfo BrokerCore::DescribeHalf(uint64_t id, const Message& m, bool with_body) const {
  const uint64_t now = clock_();
  wire::HalfInfo info;
  info.set_message_id(id);
  info.set_tx_id(m.tx_id);
  info.set_producer_group(Name(m.producer_group));
  info.set_store_time_ms(m.store_time_ms);
  info.set_age_ms(now > m.store_time_ms ? now - m.store_time_ms : 0);
  info.set_checks(m.checks);
  if (m.state == wire::HALF_PENDING) {
    info.set_next_check_ms(m.next_check_ms > now ? m.next_check_ms - now : 0);
  }
  info.set_state(m.state);
  if (m.history) {
    for (const wire::CheckRecord& c : *m.history) *info.add_check_history() = c;
  }
  absl::StatusOr<wire::MessageContent> content = ReadContent(m);
  if (content.ok()) {
    if (!with_body) content->clear_body();
    *info.mutable_content() = std::move(*content);
  } else {
    info.mutable_content()->set_topic(Name(topics_[m.topic].name));
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
      for (uint64_t id : open_halves_) {
        const Message& m = messages_.at(id);
        if (!req.producer_group().empty() && Name(m.producer_group) != req.producer_group())
          continue;
        if (!req.topic().empty() && Name(topics_[m.topic].name) != req.topic()) continue;
        if (req.state() != wire::HALF_STATE_UNSPECIFIED && m.state != req.state()) continue;
        if (req.older_than_ms() > 0 && now - std::min(now, m.store_time_ms) < req.older_than_ms()) {
          continue;
        }
        matches.emplace_back(m.store_time_ms, id);
      }
      std::sort(matches.begin(), matches.end());
      for (const auto& [time, id] : matches) {
        if (++total > limit) continue;
        *ok.add_messages() = DescribeHalf(id, messages_.at(id), /*with_body=*/false);
      }
      ok.set_total(total);
      break;
    }
    case wire::Frame::kShowHalf: {
      const uint64_t id = f.show_half().message_id();
      auto it = messages_.find(id);
      if (it == messages_.end() || it->second.plain) {
        std::optional<wire::HalfState> settled = SettledState(id);
        return SendError(
            ps, corr, wire::ERROR_NOT_FOUND,
            settled ? absl::StrCat("half message ", id, " was ", wire::HalfState_Name(*settled),
                                   " and is no longer retained")
                    : absl::StrCat("no half message with id ", id));
      }
      *out.mutable_show_half_ok()->mutable_half() = DescribeHalf(id, it->second, true);
      break;
    }
    case wire::Frame::kResolveHalf: {
      const wire::ResolveHalf& req = f.resolve_half();
      if (req.outcome() != wire::TX_COMMIT && req.outcome() != wire::TX_ROLLBACK) {
        return SendError(ps, corr, wire::ERROR_INVALID_REQUEST,
                         "ResolveHalf needs TX_COMMIT or TX_ROLLBACK");
      }
      const uint64_t id = req.message_id();
      if (!messages_.contains(id)) {
        if (std::optional<wire::HalfState> settled = SettledState(id)) {
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
      std::vector<const Topic*> sorted;
      for (const Topic& t : topics_) sorted.push_back(&t);
      std::sort(sorted.begin(), sorted.end(),
                [this](const Topic* a, const Topic* b) { return Name(a->name) < Name(b->name); });
      for (const Topic* t : sorted) {
        wire::TopicInfo& info = *out.mutable_list_topics_ok()->add_topics();
        info.set_name(Name(t->name));
        info.set_committed(t->committed);
        info.set_pending_half(t->pending_half);
        for (uint32_t g : t->groups) info.add_groups(Name(group_topics_[g]->group));
      }
      out.mutable_list_topics_ok();
      break;
    }
    case wire::Frame::kListGroups: {
      std::vector<const GroupTopic*> sorted;
      for (const auto& gt : group_topics_) sorted.push_back(gt.get());
      std::sort(sorted.begin(), sorted.end(), [this](const GroupTopic* a, const GroupTopic* b) {
        return std::make_pair(Name(a->group), Name(topics_[a->topic].name)) <
               std::make_pair(Name(b->group), Name(topics_[b->topic].name));
      });
      for (const GroupTopic* gt : sorted) {
        wire::GroupInfo& info = *out.mutable_list_groups_ok()->add_groups();
        info.set_group(Name(gt->group));
        info.set_topic(Name(topics_[gt->topic].name));
        info.set_delivered(gt->delivered);
        info.set_in_flight(gt->queue.in_flight());
        info.set_acked(gt->acked);
        info.set_dlq(gt->queue.dlq().size());
        info.set_lag(gt->queue.unacked() - gt->queue.dlq().size());
        info.set_consumers(static_cast<uint32_t>(gt->consumers.size()));
        uint64_t oldest = UINT64_MAX;
        gt->queue.ForEachUnacked([&](uint64_t id) {
          auto m = messages_.find(id);
          if (m != messages_.end() && m->second.commit_time_ms < oldest) {
            oldest = m->second.commit_time_ms;
          }
        });
        info.set_oldest_unacked_age_ms(oldest == UINT64_MAX || oldest > now ? 0 : now - oldest);
      }
      out.mutable_list_groups_ok();
      break;
    }
    case wire::Frame::kListDlq: {
      const std::string& group = f.list_dlq().group();
      auto g = name_index_.find(group);
      bool found = false;
      std::vector<wire::DlqEntry> entries;
      for (const auto& gt : group_topics_) {
        if (g == name_index_.end() || gt->group != g->second) continue;
        found = true;
        for (const auto& [id, e] : gt->queue.dlq()) {
          wire::DlqEntry entry;
          entry.set_message_id(id);
          entry.set_topic(Name(topics_[gt->topic].name));
          entry.set_attempts(e.attempts);
          entry.set_moved_time_ms(e.time_ms);
          if (auto m = messages_.find(id); m != messages_.end()) {
            if (auto c = ReadContent(m->second); c.ok()) entry.set_key(c->key());
          }
          entries.push_back(std::move(entry));
        }
      }
      if (!found) {
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
      auto g = name_index_.find(req.group());
      uint64_t replayed = 0;
      bool group_found = false;
      for (const auto& gt : group_topics_) {
        if (g == name_index_.end() || gt->group != g->second) continue;
        group_found = true;
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
      if (!group_found) {
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
  for (const Topic& t : topics_) {
    m.committed += t.committed;
    m.pending_half += t.pending_half;
  }
  m.discarded = open_halves_.size() - m.pending_half;
  for (const auto& gt : group_topics_) {
    m.in_flight += gt->queue.in_flight();
    m.dlq += gt->queue.dlq().size();
  }
  if (log_) m.log = log_->stats();
  return m;
}

}  // namespace txmsg::broker
