// BrokerCore: opening, connections, and the transactional path (SendHalf,
// Send, EndTx, check answers). Delivery, admin, replay and upkeep live in
// broker_core_*.cc beside this file.
#include "broker/core/broker_core.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "base/crash_point.h"
#include "base/crash_points.h"
#include "broker/core/broker_core_internal.h"
#include "broker/core/event_log.h"
#include "broker/log/record_codec.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {
namespace {

uint64_t SystemNowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTxIdLength = 255;

const char* StateName(wire::HalfState s) {
  switch (s) {
    case wire::HALF_PENDING:
      return "pending";
    case wire::HALF_COMMITTED:
      return "committed";
    case wire::HALF_ROLLED_BACK:
      return "rolled back";
    case wire::HALF_DISCARDED:
      return "discarded";
    default:
      return "unknown";
  }
}

wire::Frame EndTxOk(wire::HalfState state, bool applied) {
  wire::Frame f;
  f.mutable_end_tx_ok()->set_state(state);
  f.mutable_end_tx_ok()->set_applied(applied);
  return f;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BrokerCore>> BrokerCore::Open(BrokerOptions options,
                                                             log::LogOptions log_options,
                                                             boost::asio::io_context& io,
                                                             Clock clock) {
  if (!clock) clock = SystemNowMs;
  std::unique_ptr<BrokerCore> core(new BrokerCore(std::move(options), io, std::move(clock)));
  BrokerCore* raw = core.get();
  log_options.replay = [raw](uint64_t pos, uint8_t type, std::string_view payload) {
    return raw->Replay(pos, type, payload);
  };
  if (!log_options.before_sync) {
    log_options.before_sync = [](std::string_view batch) {
      // Only batches that hold a half message count for this crash point.
      for (size_t off = 0; off < batch.size();) {
        const log::ParsedRecord r = log::ParseRecord(batch.substr(off));
        if (r.kind != log::ParsedRecord::Kind::kRecord) break;
        if (r.type == static_cast<uint8_t>(RecordType::kHalf)) {
          CrashPoint(crash_points::kBrokerHalfAppendedBeforeSync);
          break;
        }
        off += r.size;
      }
    };
  }
  absl::StatusOr<std::unique_ptr<log::Log>> log = log::Log::Open(std::move(log_options));
  if (!log.ok()) return log.status();
  core->log_ = std::move(*log);
  core->FinishReplay();
  return core;
}

BrokerCore::BrokerCore(BrokerOptions options, boost::asio::io_context& io, Clock clock)
    : options_(std::move(options)),
      io_(io),
      clock_(std::move(clock)),
      start_ms_(clock_()),
      registry_(&options_.delivery),
      halves_(options_.settled_memory) {}

BrokerCore::~BrokerCore() {
  stopping_ = true;
  alive_.reset();
  // Writes everything queued; completions posted from here on find the core
  // gone (see Append) and do nothing.
  log_.reset();
}

uint64_t BrokerCore::TickIntervalMs() const {
  uint64_t shortest =
      std::min({options_.tx_timeout_ms, options_.check_interval_ms,
                options_.delivery.ack_timeout_ms, options_.delivery.backoff_base_ms});
  return std::clamp<uint64_t>(shortest / 5, 1, 100);
}

// ---------------------------------------------------------------- helpers

absl::StatusOr<wire::MessageContent> BrokerCore::ReadContent(const MessageEntry& m) const {
  absl::StatusOr<log::Record> rec = log_->Read(m.body_pos);
  if (!rec.ok()) return rec.status();
  store::StoredMessage stored;
  if (!stored.ParseFromString(rec->payload)) {
    return absl::DataLossError(absl::StrCat("record at ", m.body_pos, " is not a message"));
  }
  return std::move(*stored.mutable_content());
}

bool BrokerCore::Append(RecordType type, const google::protobuf::Message& payload,
                        std::function<void(absl::StatusOr<uint64_t>)> done) {
  std::weak_ptr<BrokerCore*> alive = alive_;
  absl::Status s = log_->Append(
      static_cast<uint8_t>(type), payload.SerializeAsString(),
      [this, alive, done = std::move(done)](absl::StatusOr<uint64_t> r) mutable {
        boost::asio::post(io_, [this, alive, done = std::move(done), r = std::move(r)]() mutable {
          if (alive.expired()) return;
          if (!r.ok()) StorageFailed(r.status());
          done(std::move(r));
        });
      });
  if (!s.ok()) {
    StorageFailed(s);
    return false;
  }
  return true;
}

void BrokerCore::StorageFailed(const absl::Status& status) {
  if (absl::Status broken = log_->health(); !broken.ok()) {
    LogEvent("fatal: ", broken.ToString(),
             "; stopping: after a failed write or fsync only what is on disk can be trusted, "
             "and a restart recovers exactly that");
    std::fflush(nullptr);
    std::_Exit(EXIT_FAILURE);
  }
  ++metrics_.storage_refusals;
  ++storage_refusals_unreported_;
  const uint64_t now = clock_();
  if (last_storage_report_ms_ != 0 && now - last_storage_report_ms_ < 5000) return;
  LogEvent("error: cannot store (", storage_refusals_unreported_,
           " records refused since the last report): ", status.ToString());
  last_storage_report_ms_ = now;
  storage_refusals_unreported_ = 0;
}

BrokerCore::PeerState* BrokerCore::FindPeer(uint64_t peer_id) {
  auto it = peers_.find(peer_id);
  return it == peers_.end() ? nullptr : it->second.get();
}

void BrokerCore::ReplyTo(uint64_t peer_id, const wire::Frame& frame) {
  if (PeerState* ps = FindPeer(peer_id)) ps->peer->Send(frame);
}

wire::Frame BrokerCore::ErrorFrame(uint64_t corr, wire::ErrorCode code, std::string message) {
  wire::Frame f;
  f.set_correlation_id(corr);
  f.mutable_error()->set_code(code);
  f.mutable_error()->set_message(std::move(message));
  return f;
}

void BrokerCore::SendError(PeerState& ps, uint64_t corr, wire::ErrorCode code, std::string message,
                           bool close) {
  ++metrics_.protocol_errors;
  if (close) {
    LogEvent("closing ", ps.peer->description(), ": ", message);
  }
  ps.peer->Send(ErrorFrame(corr, code, std::move(message)));
  if (close) ps.peer->Close();
}

// ------------------------------------------------------------ connections

void BrokerCore::OnConnect(Peer* peer) {
  auto ps = std::make_unique<PeerState>();
  ps->peer = peer;
  peers_[peer->id()] = std::move(ps);
  ++metrics_.connections_total;
}

void BrokerCore::OnDisconnect(Peer* peer) {
  auto it = peers_.find(peer->id());
  if (it == peers_.end()) return;
  std::unique_ptr<PeerState> ps = std::move(it->second);
  peers_.erase(it);
  if (ps->hello) {
    LogEvent("client disconnected: ", peer->description(), " id=", ps->client_id,
             " role=", wire::ClientRole_Name(ps->role));
  }
  if (ps->has_producer_group) registry_.RemoveProducer(ps->producer_group, peer->id());
  const uint64_t now = clock_();
  for (const Subscription& sub : ps->subs) {
    GroupTopic& gt = registry_.group_topic(sub.gt);
    gt.consumers.erase(std::remove(gt.consumers.begin(), gt.consumers.end(), peer->id()),
                       gt.consumers.end());
    ApplyFailures(gt, gt.queue.ConsumerGone(peer->id(), now));
    Pump(gt);
  }
}

void BrokerCore::OnFrame(Peer* peer, wire::Frame frame) {
  PeerState* ps = FindPeer(peer->id());
  if (ps == nullptr) return;
  const uint64_t corr = frame.correlation_id();
  if (!ps->hello && frame.body_case() != wire::Frame::kHello) {
    return SendError(*ps, corr, wire::ERROR_OUT_OF_ORDER,
                     "the first request on a connection must be Hello", /*close=*/true);
  }
  const bool producer = ps->role == wire::ROLE_PRODUCER;
  const bool consumer = ps->role == wire::ROLE_CONSUMER;
  auto wrong_role = [&](const char* what) {
    SendError(*ps, corr, wire::ERROR_OUT_OF_ORDER,
              absl::StrCat(what, " is not allowed for a ", wire::ClientRole_Name(ps->role),
                           " connection"));
  };
  switch (frame.body_case()) {
    case wire::Frame::kHello:
      return HandleHello(*ps, frame);
    case wire::Frame::kPing: {
      wire::Frame pong;
      pong.set_correlation_id(corr);
      pong.mutable_pong()->set_time_ms(clock_());
      return ps->peer->Send(pong);
    }
    case wire::Frame::kSendHalf:
      if (!producer) return wrong_role("SendHalf");
      return HandleSendHalf(*ps, frame);
    case wire::Frame::kSend:
      if (!producer) return wrong_role("Send");
      return HandleSend(*ps, frame);
    case wire::Frame::kEndTx:
      if (!producer) return wrong_role("EndTx");
      return HandleEndTx(*ps, corr, frame.end_tx().message_id(), frame.end_tx().tx_id(),
                         frame.end_tx().outcome(), TxSource::kProducer);
    case wire::Frame::kCheckTxAnswer:
      if (!producer) return wrong_role("CheckTxAnswer");
      return HandleEndTx(*ps, corr, frame.check_tx_answer().message_id(),
                         frame.check_tx_answer().tx_id(), frame.check_tx_answer().outcome(),
                         TxSource::kCheckAnswer);
    case wire::Frame::kSubscribe:
      if (!consumer) return wrong_role("Subscribe");
      return HandleSubscribe(*ps, frame);
    case wire::Frame::kAck:
      if (!consumer) return wrong_role("Ack");
      return HandleAck(*ps, frame);
    case wire::Frame::kNack:
      if (!consumer) return wrong_role("Nack");
      return HandleNack(*ps, frame);
    case wire::Frame::kListHalf:
    case wire::Frame::kShowHalf:
    case wire::Frame::kResolveHalf:
    case wire::Frame::kListTopics:
    case wire::Frame::kListGroups:
    case wire::Frame::kListDlq:
    case wire::Frame::kReplayDlq:
    case wire::Frame::kStats:
      if (ps->role != wire::ROLE_ADMIN) return wrong_role("an admin request");
      return HandleAdmin(*ps, frame);
    case wire::Frame::kError:
      return;  // a client reporting an error about one of our frames: nothing to answer
    case wire::Frame::BODY_NOT_SET:
      return SendError(*ps, corr, wire::ERROR_UNKNOWN_REQUEST,
                       "frame carries no request this broker knows");
    default:
      return SendError(
          *ps, corr, wire::ERROR_UNKNOWN_REQUEST,
          absl::StrCat("a client may not send frame body ", static_cast<int>(frame.body_case())));
  }
}

void BrokerCore::HandleHello(PeerState& ps, const wire::Frame& f) {
  const wire::Hello& h = f.hello();
  const uint64_t corr = f.correlation_id();
  if (ps.hello) {
    return SendError(ps, corr, wire::ERROR_OUT_OF_ORDER, "Hello was already sent");
  }
  if (h.version() != wire::PROTOCOL_VERSION_1) {
    return SendError(
        ps, corr, wire::ERROR_INVALID_REQUEST,
        absl::StrCat("unsupported protocol version ", h.version(), " (this broker speaks 1)"),
        /*close=*/true);
  }
  if (h.role() != wire::ROLE_PRODUCER && h.role() != wire::ROLE_CONSUMER &&
      h.role() != wire::ROLE_ADMIN) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST, "Hello needs a role", true);
  }
  if (h.producer_group().size() > kMaxNameLength || h.client_id().size() > kMaxNameLength) {
    return SendError(ps, corr, wire::ERROR_TOO_LARGE, "group or client id too long", true);
  }
  ps.hello = true;
  ps.role = h.role();
  ps.client_id = h.client_id().empty() ? ps.peer->description() : h.client_id();
  if (ps.role == wire::ROLE_PRODUCER && !h.producer_group().empty()) {
    ps.producer_group = registry_.Intern(h.producer_group());
    ps.has_producer_group = true;
    registry_.AddProducer(ps.producer_group, ps.peer->id());
  }
  LogEvent("client connected: ", ps.peer->description(), " id=", ps.client_id,
           " role=", wire::ClientRole_Name(ps.role),
           ps.has_producer_group ? absl::StrCat(" group=", h.producer_group()) : "");
  wire::Frame ok;
  ok.set_correlation_id(corr);
  ok.mutable_hello_ok()->set_version(wire::PROTOCOL_VERSION_1);
  ok.mutable_hello_ok()->set_broker_id(absl::StrCat("txmsg-", start_ms_));
  ok.mutable_hello_ok()->set_max_frame_size(options_.max_frame_size);
  ps.peer->Send(ok);
}

void BrokerCore::HandleSendHalf(PeerState& ps, wire::Frame& f) {
  const uint64_t corr = f.correlation_id();
  wire::SendHalf& req = *f.mutable_send_half();
  const std::string& topic = req.content().topic();
  if (topic.empty() || topic.size() > kMaxNameLength) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST, "SendHalf needs a topic (1-255 bytes)");
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
  draft->producer_group = registry_.Intern(group);
  const bool queued = Append(RecordType::kHalf, stored, [this, peer_id, corr, draft](auto pos) {
    if (!pos.ok()) {
      return ReplyTo(peer_id, ErrorFrame(corr, wire::ERROR_UNAVAILABLE,
                                         "half message not stored: " + pos.status().ToString()));
    }
    CrashPoint(crash_points::kBrokerHalfSyncedBeforeAck);
    draft->body_pos = *pos;
    const uint64_t first_check = draft->store_time_ms + options_.tx_timeout_ms;
    halves_.AddHalf(*pos, std::move(*draft), first_check);
    ++metrics_.halves_stored;
    wire::Frame ok;
    ok.set_correlation_id(corr);
    ok.mutable_send_half_ok()->set_message_id(*pos);
    ReplyTo(peer_id, ok);
  });
  if (!queued) {
    SendError(ps, corr, wire::ERROR_UNAVAILABLE, "the broker cannot store messages right now");
  }
}

void BrokerCore::HandleSend(PeerState& ps, wire::Frame& f) {
  const uint64_t corr = f.correlation_id();
  wire::Send& req = *f.mutable_send();
  const std::string& topic = req.content().topic();
  if (topic.empty() || topic.size() > kMaxNameLength) {
    return SendError(ps, corr, wire::ERROR_INVALID_REQUEST, "Send needs a topic (1-255 bytes)");
  }
  store::StoredMessage stored;
  stored.set_store_time_ms(clock_());
  *stored.mutable_content() = std::move(*req.mutable_content());
  const uint64_t peer_id = ps.peer->id();
  auto draft = std::make_shared<MessageEntry>();
  draft->store_time_ms = stored.store_time_ms();
  draft->topic = registry_.AddTopic(stored.content().topic());
  const bool queued = Append(RecordType::kPlain, stored, [this, peer_id, corr, draft](auto pos) {
    if (!pos.ok()) {
      return ReplyTo(peer_id, ErrorFrame(corr, wire::ERROR_UNAVAILABLE,
                                         "message not stored: " + pos.status().ToString()));
    }
    draft->body_pos = *pos;
    halves_.AddPlain(*pos, std::move(*draft), clock_());
    ++metrics_.plain_stored;
    QueueForGroups(*pos);
    wire::Frame ok;
    ok.set_correlation_id(corr);
    ok.mutable_send_ok()->set_message_id(*pos);
    ReplyTo(peer_id, ok);
  });
  if (!queued) {
    SendError(ps, corr, wire::ERROR_UNAVAILABLE, "the broker cannot store messages right now");
  }
}

void BrokerCore::HandleEndTx(PeerState& ps, uint64_t corr, uint64_t id, const std::string& tx_id,
                             wire::TxOutcome outcome, TxSource source) {
  MessageEntry* m = halves_.Find(id);
  if (m == nullptr) {
    if (std::optional<wire::HalfState> settled = halves_.SettledState(id)) {
      // Settled and since forgotten: answer the outcome, change nothing.
      const TxDecision d = DecideTx(*settled, outcome, source);
      if (d.kind == TxDecision::Kind::kConflict) {
        ++metrics_.conflicts;
        return SendError(ps, corr, wire::ERROR_CONFLICT,
                         absl::StrCat("message ", id, " was already ", StateName(*settled),
                                      "; refusing ", wire::TxOutcome_Name(outcome)));
      }
      wire::Frame ok;
      ok.set_correlation_id(corr);
      ok.mutable_end_tx_ok()->set_state(*settled);
      ok.mutable_end_tx_ok()->set_applied(false);
      return ps.peer->Send(ok);
    }
  }
  if (m == nullptr || m->plain) {
    return SendError(ps, corr, wire::ERROR_NOT_FOUND,
                     absl::StrCat("no half message with id ", id,
                                  " (never stored, or settled and already consumed)"));
  }
  if (!m->tx_id.empty() && m->tx_id != tx_id) {
    return SendError(
        ps, corr, wire::ERROR_INVALID_REQUEST,
        absl::StrCat("message ", id, " belongs to tx '", m->tx_id, "', not '", tx_id, "'"));
  }
  if (source == TxSource::kCheckAnswer) {
    if (outcome == wire::TX_COMMIT) ++metrics_.checks_answered_commit;
    if (outcome == wire::TX_ROLLBACK) ++metrics_.checks_answered_rollback;
    if (outcome == wire::TX_UNKNOWN) ++metrics_.checks_answered_unknown;
    if (auto* history = m->history.get(); history != nullptr && !history->empty()) {
      history->back().set_answer(outcome);
    }
  }
  const uint64_t peer_id = ps.peer->id();
  ApplyTx(id, outcome, source, [this, peer_id, corr](const wire::Frame& reply) {
    wire::Frame f = reply;
    f.set_correlation_id(corr);
    ReplyTo(peer_id, f);
  });
}

void BrokerCore::ApplyTx(uint64_t id, wire::TxOutcome outcome, TxSource source,
                         std::function<void(const wire::Frame&)> reply) {
  MessageEntry* found = halves_.Find(id);
  if (found == nullptr) {
    return reply(ErrorFrame(0, wire::ERROR_NOT_FOUND, absl::StrCat("no half message ", id)));
  }
  MessageEntry& m = *found;
  // While a decision is on its way to the log, judge against it and answer
  // once it is durable, so no answer claims what a crash could undo.
  if (m.is_settling()) {
    if (!m.waiters) m.waiters = std::make_unique<std::vector<std::function<void()>>>();
    m.waiters->push_back([this, id, outcome, source, reply = std::move(reply)]() mutable {
      ApplyTx(id, outcome, source, std::move(reply));
    });
    return;
  }
  const TxDecision d = DecideTx(m.state(), outcome, source);
  switch (d.kind) {
    case TxDecision::Kind::kInvalid:
      return reply(ErrorFrame(
          0, wire::ERROR_INVALID_REQUEST,
          absl::StrCat("outcome ", wire::TxOutcome_Name(outcome), " is not valid here")));
    case TxDecision::Kind::kNoChange:
    case TxDecision::Kind::kAlreadySettled:
      return reply(EndTxOk(m.state(), false));
    case TxDecision::Kind::kConflict: {
      ++metrics_.conflicts;
      const std::string why = absl::StrCat("message ", id, " was already ", StateName(m.state()),
                                           "; refusing ", wire::TxOutcome_Name(outcome));
      LogEvent("conflict: ", why);
      return reply(ErrorFrame(0, wire::ERROR_CONFLICT, why));
    }
    case TxDecision::Kind::kApply:
      break;
  }
  halves_.StartSettling(id, d.state);
  ++m.pending_writes;
  store::StoredTxEnd rec;
  rec.set_message_id(id);
  rec.set_state(d.state);
  rec.set_time_ms(clock_());
  const bool queued = Append(RecordType::kTxEnd, rec, [this, id, reply](auto pos) {
    MessageEntry* m = halves_.Find(id);
    if (m == nullptr) return;
    --m->pending_writes;
    auto waiters = std::move(m->waiters);
    if (!pos.ok()) {
      halves_.AbortSettling(id, clock_() + options_.check_interval_ms);
      reply(
          ErrorFrame(0, wire::ERROR_UNAVAILABLE, "outcome not stored: " + pos.status().ToString()));
    } else {
      halves_.FinishSettling(id, clock_());
      const wire::HalfState state = m->state();
      if (state == wire::HALF_COMMITTED) {
        CrashPoint(crash_points::kBrokerCommitSyncedBeforeDispatch);
        ++metrics_.commits;
        QueueForGroups(id);
      } else {
        ++metrics_.rollbacks;
      }
      reply(EndTxOk(state, true));
      if (state == wire::HALF_ROLLED_BACK) MaybeForget(id);
    }
    if (waiters) {
      for (auto& w : *waiters) w();
    }
  });
  if (!queued) {
    --m.pending_writes;
    halves_.AbortSettling(id, clock_() + options_.check_interval_ms);
    reply(ErrorFrame(0, wire::ERROR_UNAVAILABLE, "the broker cannot store outcomes right now"));
  }
}

std::string BrokerCore::Summary() const {
  const BrokerMetrics m = Metrics();
  return absl::StrCat("pending_half=", m.pending_half, " discarded=", m.discarded,
                      " committed=", m.committed, " dlq=", m.dlq,
                      " topics=", registry_.topic_count(),
                      " groups=", registry_.group_topic_count(), " segments=", m.log.segments,
                      " log_bytes=", m.log.disk_bytes);
}

}  // namespace txmsg::broker
