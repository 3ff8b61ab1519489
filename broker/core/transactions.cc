// BrokerCore: the transactional path. A half message is stored (durable
// before it is acknowledged), then settled by its producer's EndTx, by an
// answer to a check-back or by an operator; a plain message is committed as
// it is stored. The rules of what an outcome does are tx_rules.h's; this
// file stores the decision and answers once it is durable.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/crash_point.h"
#include "base/crash_points.h"
#include "broker/core/broker_core.h"
#include "broker/core/event_log.h"
#include "proto/half_state.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {
namespace {

wire::Frame EndTxOk(wire::HalfState state, bool applied) {
  wire::Frame f;
  f.mutable_end_tx_ok()->set_state(state);
  f.mutable_end_tx_ok()->set_applied(applied);
  return f;
}

// The outcome's enum name, or its number when it has none (an unset field,
// a newer client's value): an error must never name an empty outcome.
std::string OutcomeName(wire::TxOutcome outcome) {
  const std::string& name = wire::TxOutcome_Name(outcome);
  return name.empty() ? absl::StrCat("(unknown value ", static_cast<int>(outcome), ")") : name;
}

}  // namespace

std::optional<std::string> BrokerCore::ValidateTopic(const wire::MessageContent& c,
                                                     const char* request) const {
  if (c.topic().empty() || c.topic().size() > kMaxNameLength) {
    return absl::StrCat(request, " needs a topic (1-", kMaxNameLength, " bytes)");
  }
  return std::nullopt;
}

void BrokerCore::HandleSendHalf(PeerState& ps, wire::Frame& f) {
  const uint64_t corr = f.correlation_id();
  wire::SendHalf& req = *f.mutable_send_half();
  if (std::optional<std::string> bad = ValidateTopic(req.content(), "SendHalf")) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST, *bad);
  }
  if (req.tx_id().empty() || req.tx_id().size() > kMaxTxIdLength) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST, "SendHalf needs a tx_id (1-255 bytes)");
  }
  std::string group = req.producer_group();
  if (group.empty() && ps.has_producer_group) group = registry_.Name(ps.producer_group);
  if (group.empty()) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST,
                     "SendHalf needs a producer group (in Hello or in the request)");
  }
  if (!Permit(ps, corr, auth::Role::kProduce, "SendHalf", &group, &req.content().topic())) return;
  if (!AdmitMessage(ps, corr, req.content(), &group)) return;
  store::StoredMessage stored;
  stored.set_tx_id(req.tx_id());
  stored.set_producer_group(group);
  stored.set_store_time_ms(clock_());
  *stored.mutable_content() = std::move(*req.mutable_content());
  const uint64_t peer_id = ps.peer->id();
  auto draft = std::make_shared<MessageEntry>();
  draft->store_time_ms = stored.store_time_ms();
  draft->tx_id = stored.tx_id();
  draft->topic = registry_.AddTopic(stored.content().topic());
  draft->producer_group = registry_.AddProducerGroup(group);
  ++registry_.topic(draft->topic).storing;  // the topic cannot be deleted meanwhile
  auto content = std::make_shared<wire::MessageContent>();
  const bool queued = Append(RecordType::kHalf, stored, [this, peer_id, corr, draft,
                                                          content](auto pos) {
    --registry_.topic(draft->topic).storing;
    if (!pos.ok()) {
      return ReplyTo(peer_id, ErrorFrame(corr, wire::ERROR_UNAVAILABLE,
                                         "half message not stored: " + pos.status().ToString()));
    }
    CrashPoint(crash_points::kBrokerHalfSyncedBeforeAck);
    draft->body_pos = *pos;
    const uint64_t first_check = draft->store_time_ms + options_.tx_timeout_ms;
    halves_.AddHalf(*pos, std::move(*draft), first_check);
    recent_.Put(*pos, content);
    ++metrics_.halves_stored;
    wire::Frame ok;
    ok.set_correlation_id(corr);
    ok.mutable_send_half_ok()->set_message_id(*pos);
    ReplyTo(peer_id, ok);
  });
  if (!queued) {
    --registry_.topic(draft->topic).storing;
    return SendError(ps, corr, wire::ERROR_UNAVAILABLE,
                     "the broker cannot store messages right now");
  }
  // Append has serialized the record: the content moves to the cache that
  // the delivery after the commit reads (the callback runs later, on this thread).
  content->Swap(stored.mutable_content());
}

void BrokerCore::HandleSend(PeerState& ps, wire::Frame& f) {
  const uint64_t corr = f.correlation_id();
  wire::Send& req = *f.mutable_send();
  if (std::optional<std::string> bad = ValidateTopic(req.content(), "Send")) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST, *bad);
  }
  if (!AdmitMessage(ps, corr, req.content(), nullptr)) return;
  store::StoredMessage stored;
  stored.set_store_time_ms(clock_());
  *stored.mutable_content() = std::move(*req.mutable_content());
  const uint64_t peer_id = ps.peer->id();
  auto draft = std::make_shared<MessageEntry>();
  draft->store_time_ms = stored.store_time_ms();
  draft->topic = registry_.AddTopic(stored.content().topic());
  ++registry_.topic(draft->topic).storing;  // the topic cannot be deleted meanwhile
  auto content = std::make_shared<wire::MessageContent>();
  const bool queued = Append(RecordType::kPlain, stored, [this, peer_id, corr, draft,
                                                          content](auto pos) {
    --registry_.topic(draft->topic).storing;
    if (!pos.ok()) {
      return ReplyTo(peer_id, ErrorFrame(corr, wire::ERROR_UNAVAILABLE,
                                         "message not stored: " + pos.status().ToString()));
    }
    draft->body_pos = *pos;
    halves_.AddPlain(*pos, std::move(*draft), clock_());
    recent_.Put(*pos, content);
    ++metrics_.plain_stored;
    QueueForGroups(*pos);
    wire::Frame ok;
    ok.set_correlation_id(corr);
    ok.mutable_send_ok()->set_message_id(*pos);
    ReplyTo(peer_id, ok);
  });
  if (!queued) {
    --registry_.topic(draft->topic).storing;
    return SendError(ps, corr, wire::ERROR_UNAVAILABLE,
                     "the broker cannot store messages right now");
  }
  content->Swap(stored.mutable_content());  // as in HandleSendHalf
}

void BrokerCore::HandleEndTx(PeerState& ps, uint64_t corr, uint64_t id, const std::string& tx_id,
                             wire::TxOutcome outcome, TxSource source) {
  MessageEntry* m = halves_.Find(id);
  if (m == nullptr || m->plain) return Answer(ps, corr, AnswerForgotten(id, outcome, source));
  if (!m->tx_id.empty() && m->tx_id != tx_id) {
    return SendError(
        ps, corr, wire::ERROR_INVALID_REQUEST,
        absl::StrCat("message ", id, " belongs to tx '", m->tx_id, "', not '", tx_id, "'"));
  }
  if (auth_ != nullptr &&
      !Permit(ps, corr, auth::Role::kProduce,
              source == TxSource::kCheckAnswer ? "CheckTxAnswer" : "EndTx",
              &registry_.Name(m->producer_group), &registry_.TopicName(m->topic))) {
    return;
  }
  if (source == TxSource::kCheckAnswer) {
    if (outcome == wire::TX_COMMIT) ++metrics_.checks_answered_commit;
    if (outcome == wire::TX_ROLLBACK) ++metrics_.checks_answered_rollback;
    if (outcome == wire::TX_UNKNOWN) ++metrics_.checks_answered_unknown;
    if (auto* history = m->history.get(); history != nullptr && !history->empty()) {
      history->back().set_answer(outcome);
    }
  }
  ApplyTx(id, outcome, source, ReplyLater(ps, corr));
}

void BrokerCore::ApplyTx(uint64_t id, wire::TxOutcome outcome, TxSource source, TxReply reply,
                         std::optional<wire::AuditRecord> audit) {
  MessageEntry* m = halves_.Find(id);
  if (m == nullptr) return reply(AnswerForgotten(id, outcome, source));
  if (m->is_settling()) {
    return WaitForOutcome(*m, id, outcome, source, std::move(reply), std::move(audit));
  }
  const TxDecision d = DecideTx(m->state(), outcome, source);
  if (d.kind != TxDecision::Kind::kApply) {
    return reply(AnswerUnchanged(id, m->state(), outcome, d));
  }
  StoreOutcome(id, d.state, std::move(reply), std::move(audit));
}

void BrokerCore::WaitForOutcome(MessageEntry& m, uint64_t id, wire::TxOutcome outcome,
                                TxSource source, TxReply reply,
                                std::optional<wire::AuditRecord> audit) {
  // While a decision is on its way to the log, judge against it and answer
  // once it is durable, so no answer claims what a crash could undo.
  if (!m.waiters) m.waiters = std::make_unique<std::vector<std::function<void()>>>();
  m.waiters->push_back(
      [this, id, outcome, source, reply = std::move(reply), audit = std::move(audit)]() mutable {
        ApplyTx(id, outcome, source, std::move(reply), std::move(audit));
      });
}

wire::Frame BrokerCore::AnswerUnchanged(uint64_t id, wire::HalfState state, wire::TxOutcome outcome,
                                        const TxDecision& d) {
  switch (d.kind) {
    case TxDecision::Kind::kInvalid:
      return ErrorFrame(
          0, wire::ERROR_INVALID_REQUEST,
          absl::StrCat("outcome ", OutcomeName(outcome),
                       " is not valid here (send TX_COMMIT, TX_ROLLBACK or TX_UNKNOWN)"));
    case TxDecision::Kind::kConflict: {
      ++metrics_.conflicts;
      const std::string why =
          absl::StrCat("message ", id, " was already ", proto::HalfStateLabel(state), "; refusing ",
                       wire::TxOutcome_Name(outcome));
      LogEvent("conflict: ", why);
      return ErrorFrame(0, wire::ERROR_CONFLICT, why);
    }
    case TxDecision::Kind::kApply:  // not unchanged: the caller stores it
    case TxDecision::Kind::kNoChange:
    case TxDecision::Kind::kAlreadySettled:
      break;
  }
  return EndTxOk(state, /*applied=*/false);
}

wire::Frame BrokerCore::AnswerForgotten(uint64_t id, std::optional<wire::TxOutcome> outcome,
                                        TxSource source) {
  const std::optional<wire::HalfState> settled = halves_.SettledState(id);
  if (!settled) {
    return ErrorFrame(0, wire::ERROR_NOT_FOUND,
                      absl::StrCat("no half message with id ", id,
                                   " (never stored, or settled and no longer remembered)"));
  }
  if (!outcome) {
    return ErrorFrame(
        0, wire::ERROR_NOT_FOUND,
        absl::StrCat("half message ", id, " was ", proto::HalfStateLabel(*settled), " (",
                     wire::HalfState_Name(*settled), ") and is no longer retained"));
  }
  return AnswerUnchanged(id, *settled, *outcome, DecideTx(*settled, *outcome, source));
}

void BrokerCore::StoreOutcome(uint64_t id, wire::HalfState to, TxReply reply,
                              std::optional<wire::AuditRecord> audit) {
  halves_.StartSettling(id, to);
  MessageEntry& m = *halves_.Find(id);
  ++m.pending_writes;
  store::StoredTxEnd rec;
  rec.set_message_id(id);
  rec.set_state(to);
  rec.set_time_ms(clock_());
  if (audit) {
    audit->set_time_ms(rec.time_ms());
    *rec.mutable_audit() = *audit;
  }
  const bool queued = Append(RecordType::kTxEnd, rec, [this, id, reply, audit](auto pos) {
    if (pos.ok() && audit) RememberAudit(id, *audit);
    OutcomeStored(id, pos.status(), reply);
  });
  if (!queued) {
    --m.pending_writes;
    halves_.AbortSettling(id, clock_() + options_.check_interval_ms);
    reply(ErrorFrame(0, wire::ERROR_UNAVAILABLE, "the broker cannot store outcomes right now"));
  }
}

void BrokerCore::OutcomeStored(uint64_t id, const absl::Status& stored, const TxReply& reply) {
  MessageEntry* m = halves_.Find(id);
  if (m == nullptr) return;
  --m->pending_writes;
  auto waiters = std::move(m->waiters);
  if (stored.ok()) {
    Settle(id, reply);
  } else {
    halves_.AbortSettling(id, clock_() + options_.check_interval_ms);
    reply(ErrorFrame(0, wire::ERROR_UNAVAILABLE, "outcome not stored: " + stored.ToString()));
  }
  if (waiters) {
    for (auto& w : *waiters) w();
  }
}

void BrokerCore::Settle(uint64_t id, const TxReply& reply) {
  halves_.FinishSettling(id, clock_());
  const wire::HalfState state = halves_.Find(id)->state();
  if (state == wire::HALF_COMMITTED) {
    CrashPoint(crash_points::kBrokerCommitSyncedBeforeDispatch);
    ++metrics_.commits;
    QueueForGroups(id);
  } else {
    ++metrics_.rollbacks;
  }
  reply(EndTxOk(state, /*applied=*/true));
  if (state == wire::HALF_ROLLED_BACK) MaybeForget(id);
}

}  // namespace txmsg::broker
