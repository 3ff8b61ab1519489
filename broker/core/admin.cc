// BrokerCore: the operator's requests (txmsgctl), one handler each. Reads
// answer from the state as it is; ResolveHalf and ReplayDlq change it
// through the same paths as producers and consumers do.
#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/core/broker_core.h"
#include "broker/core/event_log.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {
namespace {

constexpr uint32_t kMaxPage = 1'000;  // entries in one page of any listing

// One page of a listing: at most `limit` entries and about `budget` bytes
// (the first entry always fits), so an answer stays well under the frame
// limit however many names there are.
class Page {
 public:
  Page(uint32_t requested, uint32_t default_limit, uint32_t max_frame_size)
      : limit_(std::min(requested > 0 ? requested : default_limit, kMaxPage)),
        budget_(max_frame_size / 4) {}
  // Whether an entry of `bytes` still fits; counts it if so.
  bool Take(size_t bytes) {
    if (count_ >= limit_ || (count_ > 0 && used_ + bytes > budget_)) return false;
    ++count_;
    used_ += bytes + 8;  // field tag and length
    return true;
  }

 private:
  const uint32_t limit_;
  const size_t budget_;
  uint32_t count_ = 0;
  size_t used_ = 0;
};

const char* AdminRequestName(wire::Frame::BodyCase body) {
  switch (body) {
    case wire::Frame::kListHalf:
      return "ListHalf";
    case wire::Frame::kShowHalf:
      return "ShowHalf";
    case wire::Frame::kResolveHalf:
      return "ResolveHalf";
    case wire::Frame::kListTopics:
      return "ListTopics";
    case wire::Frame::kListGroups:
      return "ListGroups";
    case wire::Frame::kListDlq:
      return "ListDlq";
    case wire::Frame::kReplayDlq:
      return "ReplayDlq";
    case wire::Frame::kStats:
      return "Stats";
    default:
      return "an admin request";
  }
}

wire::Frame NewReply(uint64_t corr) {
  wire::Frame f;
  f.set_correlation_id(corr);
  return f;
}

}  // namespace

void BrokerCore::HandleAdmin(PeerState& ps, const wire::Frame& f) {
  const uint64_t corr = f.correlation_id();
  // Resolving and replaying change the state: admin. Reading: admin_read.
  const bool write =
      f.body_case() == wire::Frame::kResolveHalf || f.body_case() == wire::Frame::kReplayDlq;
  if (!PermitAdmin(ps, corr, AdminRequestName(f.body_case()), write)) return;
  switch (f.body_case()) {
    case wire::Frame::kListHalf:
      return HandleListHalf(ps, corr, f.list_half());
    case wire::Frame::kShowHalf:
      return HandleShowHalf(ps, corr, f.show_half());
    case wire::Frame::kResolveHalf:
      return HandleResolveHalf(ps, corr, f.resolve_half());
    case wire::Frame::kListTopics:
      return HandleListTopics(ps, corr, f.list_topics());
    case wire::Frame::kListGroups:
      return HandleListGroups(ps, corr, f.list_groups());
    case wire::Frame::kListDlq:
      return HandleListDlq(ps, corr, f.list_dlq());
    case wire::Frame::kReplayDlq:
      return HandleReplayDlq(ps, corr, f.replay_dlq());
    case wire::Frame::kStats:
      return HandleStats(ps, corr);
    case wire::Frame::kDeleteTopic:
      return HandleDeleteTopic(ps, corr, f.delete_topic());
    case wire::Frame::kDeleteGroup:
      return HandleDeleteGroup(ps, corr, f.delete_group());
    default:
      return SendError(ps, corr, wire::ERROR_UNKNOWN_REQUEST, "not an admin request");
  }
}

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
  if (const std::vector<wire::AuditRecord>* audit = AuditOf(id); audit && with_body) {
    for (const wire::AuditRecord& a : *audit) *info.add_audit() = a;
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

void BrokerCore::HandleListHalf(PeerState& ps, uint64_t corr, const wire::ListHalf& req) {
  const uint64_t now = clock_();
  // Filters by name become filters by index: the walk compares numbers.
  const std::optional<uint32_t> group =
      req.producer_group().empty() ? std::nullopt : registry_.FindName(req.producer_group());
  const std::optional<uint32_t> topic =
      req.topic().empty() ? std::nullopt : registry_.FindTopic(req.topic());
  wire::Frame out = NewReply(corr);
  wire::ListHalfOk& ok = *out.mutable_list_half_ok();
  if ((!req.producer_group().empty() && !group) || (!req.topic().empty() && !topic)) {
    return ps.peer->Send(out);  // no half can match a name the broker never saw
  }
  Page page(req.limit(), options_.max_list, options_.max_frame_size);
  uint64_t total = 0;
  halves_.ForEachOpenHalf([&](uint64_t id, const MessageEntry& m) {
    if (group && m.producer_group != *group) return;
    if (topic && m.topic != *topic) return;
    if (req.state() != wire::HALF_STATE_UNSPECIFIED && m.state() != req.state()) return;
    if (req.older_than_ms() > 0 && now - std::min(now, m.store_time_ms) < req.older_than_ms()) {
      return;
    }
    ++total;
    if (id <= req.after_id() || ok.more()) return;
    // Only the entries shown are described (the description reads the log).
    wire::HalfInfo info = DescribeHalf(id, m, /*with_body=*/false);
    if (page.Take(info.ByteSizeLong())) {
      *ok.add_messages() = std::move(info);
    } else {
      ok.set_more(true);
    }
  });
  ok.set_total(total);
  ps.peer->Send(out);
}

void BrokerCore::HandleShowHalf(PeerState& ps, uint64_t corr, const wire::ShowHalf& req) {
  const uint64_t id = req.message_id();
  const MessageEntry* m = halves_.Find(id);
  const std::vector<wire::AuditRecord>* audit = AuditOf(id);
  const std::optional<wire::HalfState> settled = halves_.SettledState(id);
  if (m == nullptr && audit != nullptr && settled) {
    // Gone, but an operator settled it: show what is known.
    wire::Frame out = NewReply(corr);
    wire::HalfInfo& info = *out.mutable_show_half_ok()->mutable_half();
    info.set_message_id(id);
    info.set_state(*settled);
    info.set_forgotten(true);
    for (const wire::AuditRecord& a : *audit) *info.add_audit() = a;
    return ps.peer->Send(out);
  }
  if (m == nullptr || m->plain) {
    return Answer(ps, corr, AnswerForgotten(id, std::nullopt, TxSource::kOperator));
  }
  wire::Frame out = NewReply(corr);
  *out.mutable_show_half_ok()->mutable_half() = DescribeHalf(id, *m, /*with_body=*/true);
  ps.peer->Send(out);
}

void BrokerCore::HandleResolveHalf(PeerState& ps, uint64_t corr, const wire::ResolveHalf& req) {
  if (req.outcome() != wire::TX_COMMIT && req.outcome() != wire::TX_ROLLBACK) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST,
                     "ResolveHalf needs TX_COMMIT or TX_ROLLBACK");
  }
  const uint64_t id = req.message_id();
  if (!halves_.contains(id)) {
    return Answer(ps, corr, AnswerForgotten(id, req.outcome(), TxSource::kOperator));
  }
  const bool commit = req.outcome() == wire::TX_COMMIT;
  wire::AuditRecord audit = MakeAudit(ps, commit ? "commit" : "rollback");
  LogEvent("operator ", ps.client_id, " (user ", audit.principal(), ", ", audit.source(),
           ") resolves message ", id, " with ", wire::TxOutcome_Name(req.outcome()));
  ApplyTx(id, req.outcome(), TxSource::kOperator, ReplyLater(ps, corr), std::move(audit));
}

void BrokerCore::HandleListTopics(PeerState& ps, uint64_t corr, const wire::ListTopics& req) {
  wire::Frame out = NewReply(corr);
  wire::ListTopicsOk& ok = *out.mutable_list_topics_ok();
  Page page(req.limit(), options_.max_list, options_.max_frame_size);
  const bool more = registry_.WalkTopicsAfter(req.after(), [&](uint32_t t) {
    wire::TopicInfo info;
    info.set_name(registry_.TopicName(t));
    info.set_committed(halves_.committed_in(t));
    info.set_pending_half(halves_.pending_in(t));
    for (uint32_t g : registry_.topic(t).groups) {
      info.add_groups(registry_.Name(registry_.group_topic(g).group));
    }
    if (!page.Take(info.ByteSizeLong())) return false;
    *ok.add_topics() = std::move(info);
    return true;
  });
  ok.set_more(more);
  ps.peer->Send(out);
}

void BrokerCore::HandleListGroups(PeerState& ps, uint64_t corr, const wire::ListGroups& req) {
  const uint64_t now = clock_();
  wire::Frame out = NewReply(corr);
  wire::ListGroupsOk& ok = *out.mutable_list_groups_ok();
  Page page(req.limit(), options_.max_list, options_.max_frame_size);
  const bool more = registry_.WalkGroupTopicsAfter(
      req.after_group(), req.after_topic(), [&](const GroupTopic& gt) {
        wire::GroupInfo info;
        info.set_group(registry_.Name(gt.group));
        info.set_topic(registry_.TopicName(gt.topic));
        info.set_delivered(gt.delivered);
        info.set_in_flight(gt.queue.in_flight());
        info.set_acked(gt.acked);
        info.set_dlq(gt.queue.dlq().size());
        info.set_lag(gt.queue.unacked() - gt.queue.dlq().size());
        info.set_consumers(static_cast<uint32_t>(gt.consumers.size()));
        uint64_t oldest = UINT64_MAX;
        gt.queue.ForEachUnacked([&](uint64_t id) {
          const MessageEntry* m = halves_.Find(id);
          if (m != nullptr && m->commit_time_ms() < oldest) oldest = m->commit_time_ms();
        });
        info.set_oldest_unacked_age_ms(oldest == UINT64_MAX || oldest > now ? 0 : now - oldest);
        if (!page.Take(info.ByteSizeLong())) return false;
        *ok.add_groups() = std::move(info);
        return true;
      });
  ok.set_more(more);
  ps.peer->Send(out);
}

void BrokerCore::HandleListDlq(PeerState& ps, uint64_t corr, const wire::ListDlq& req) {
  const std::vector<GroupTopic*> gts = registry_.GroupTopicsOf(req.group());
  if (gts.empty()) {
    return SendError(ps, corr, wire::ERROR_NOT_FOUND,
                     absl::StrCat("no consumer group '", req.group(), "'"));
  }
  // (moved time, id, group-topic) past the cursor: small to sort; only the
  // page's entries read their keys from the log.
  using Key = std::tuple<uint64_t, uint64_t, const GroupTopic*>;
  const std::pair<uint64_t, uint64_t> cursor{req.after_moved_time_ms(), req.after_id()};
  std::vector<Key> keys;
  for (const GroupTopic* gt : gts) {
    for (const auto& [id, e] : gt->queue.dlq()) {
      if (std::make_pair(e.time_ms, id) > cursor) keys.emplace_back(e.time_ms, id, gt);
    }
  }
  const size_t shown = std::min<size_t>(keys.size(), kMaxPage);
  std::partial_sort(keys.begin(), keys.begin() + shown, keys.end());
  wire::Frame out = NewReply(corr);
  wire::ListDlqOk& ok = *out.mutable_list_dlq_ok();
  Page page(req.limit(), options_.max_list, options_.max_frame_size);
  for (size_t k = 0; k < keys.size() && !ok.more(); ++k) {
    if (k == shown) {
      ok.set_more(true);
      break;
    }
    const auto& [time, id, gt] = keys[k];
    wire::DlqEntry entry;
    entry.set_message_id(id);
    entry.set_topic(registry_.TopicName(gt->topic));
    entry.set_attempts(gt->queue.dlq().at(id).attempts);
    entry.set_moved_time_ms(time);
    if (const MessageEntry* m = halves_.Find(id)) {
      if (auto c = ReadContent(*m); c.ok()) entry.set_key(c->key());
    }
    if (page.Take(entry.ByteSizeLong())) {
      *ok.add_entries() = std::move(entry);
    } else {
      ok.set_more(true);
    }
  }
  ps.peer->Send(out);
}

void BrokerCore::HandleReplayDlq(PeerState& ps, uint64_t corr, const wire::ReplayDlq& req) {
  const std::vector<GroupTopic*> gts = registry_.GroupTopicsOf(req.group());
  if (gts.empty()) {
    return SendError(ps, corr, wire::ERROR_NOT_FOUND,
                     absl::StrCat("no consumer group '", req.group(), "'"));
  }
  const std::optional<uint64_t> only =
      req.message_id() == 0 ? std::nullopt : std::optional<uint64_t>(req.message_id());
  uint64_t replayed = 0;
  wire::AuditRecord audit = MakeAudit(ps, "dlq_replay");
  audit.set_group(req.group());
  for (GroupTopic* gt : gts) {
    std::vector<uint64_t> moved = gt->queue.ReplayDlq(only);
    if (moved.empty()) continue;
    replayed += moved.size();
    store::StoredDlqReplay rec;
    rec.set_group(req.group());
    *rec.mutable_audit() = audit;
    for (uint64_t id : moved) {
      rec.add_message_ids(id);
      RememberAudit(id, audit);
    }
    Append(RecordType::kDlqReplay, rec, [](absl::StatusOr<uint64_t>) {});
    Pump(*gt);
  }
  if (only && replayed == 0) {
    return SendError(ps, corr, wire::ERROR_NOT_FOUND,
                     absl::StrCat("message ", *only, " is not in the DLQ of '", req.group(), "'"));
  }
  LogEvent("operator ", ps.client_id, " (user ", audit.principal(), ", ", audit.source(),
           ") replayed ", replayed, " DLQ messages of ", req.group());
  wire::Frame out = NewReply(corr);
  out.mutable_replay_dlq_ok()->set_replayed(replayed);
  ps.peer->Send(out);
}

void BrokerCore::HandleStats(PeerState& ps, uint64_t corr) {
  const BrokerMetrics m = Metrics();
  wire::Frame out = NewReply(corr);
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
  ps.peer->Send(out);
}

}  // namespace txmsg::broker
