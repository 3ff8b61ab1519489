// BrokerCore: opening (and replaying) the log, connections and the
// dispatch of their requests, appends, metrics. The requests themselves are
// handled by job beside this file: transactions.cc, delivery.cc, admin.cc;
// replay.cc rebuilds the state on start, upkeep.cc runs on every Tick.
#include "broker/core/broker_core.h"

#include "base/clock.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "base/crash_point.h"
#include "base/crash_points.h"
#include "base/printable.h"
#include "broker/core/event_log.h"
#include "broker/log/record_codec.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {
namespace {

// The broker's clock: wall time read once at start, advanced by the
// monotonic clock. Timestamps (store and commit times) read like wall time,
// and intervals (check-backs, ack deadlines, backoff) never jump when someone
// sets the system clock: a clock set back a day must not push every
// check-back a day away. Across a restart the clamp in FinishRestore covers a
// wall clock that moved meanwhile.
uint64_t SystemNowMs() {
  static const uint64_t wall_at_start = base::WallMillis();
  static const uint64_t mono_at_start = base::MonotonicMillis();
  return wall_at_start + (base::MonotonicMillis() - mono_at_start);
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
      halves_(options_.settled_memory),
      recent_(options_.content_cache_bytes) {}

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

BrokerCore::TxReply BrokerCore::ReplyLater(const PeerState& ps, uint64_t corr) {
  return [this, peer_id = ps.peer->id(), corr](const wire::Frame& reply) {
    wire::Frame f = reply;
    f.set_correlation_id(corr);
    ReplyTo(peer_id, f);
  };
}

wire::Frame BrokerCore::ErrorFrame(uint64_t corr, wire::ErrorCode code, std::string message) {
  wire::Frame f;
  f.set_correlation_id(corr);
  f.mutable_error()->set_code(code);
  f.mutable_error()->set_message(std::move(message));
  return f;
}

void BrokerCore::Answer(PeerState& ps, uint64_t corr, wire::Frame frame) {
  if (frame.has_error()) ++metrics_.protocol_errors;
  frame.set_correlation_id(corr);
  ps.peer->Send(frame);
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
    if (auth_ != nullptr) {
      return SendError(*ps, corr, wire::ERROR_UNAUTHENTICATED,
                       "this broker requires authentication: the first request on a connection "
                       "must be a Hello with a user and secret",
                       /*close=*/true);
    }
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
      if (!Permit(*ps, corr, auth::Role::kProduce, "Send", nullptr,
                  &frame.send().content().topic())) {
        return;
      }
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
      if (!Permit(*ps, corr, auth::Role::kConsume, "Subscribe", &frame.subscribe().group(),
                  &frame.subscribe().topic())) {
        return;
      }
      return HandleSubscribe(*ps, frame);
    case wire::Frame::kAck:
      if (!consumer) return wrong_role("Ack");
      if (!Permit(*ps, corr, auth::Role::kConsume, "Ack", &frame.ack().group(),
                  &frame.ack().topic())) {
        return;
      }
      return HandleAck(*ps, frame);
    case wire::Frame::kNack:
      if (!consumer) return wrong_role("Nack");
      if (!Permit(*ps, corr, auth::Role::kConsume, "Nack", &frame.nack().group(),
                  &frame.nack().topic())) {
        return;
      }
      return HandleNack(*ps, frame);
    case wire::Frame::kListHalf:
    case wire::Frame::kShowHalf:
    case wire::Frame::kResolveHalf:
    case wire::Frame::kListTopics:
    case wire::Frame::kListGroups:
    case wire::Frame::kListDlq:
    case wire::Frame::kReplayDlq:
    case wire::Frame::kStats:
    case wire::Frame::kDeleteTopic:
    case wire::Frame::kDeleteGroup:
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
  if (h.producer_group().size() > kMaxNameLength || h.client_id().size() > kMaxNameLength ||
      h.user().size() > kMaxNameLength || h.secret().size() > kMaxSecretLength) {
    return SendError(ps, corr, wire::ERROR_TOO_LARGE,
                     "group, client id or user too long (255 bytes at most), or secret (1024)",
                     true);
  }
  if (auth_ != nullptr && !Authenticate(ps, corr, h)) return;
  if (h.role() == wire::ROLE_PRODUCER && !h.producer_group().empty() &&
      !Permit(ps, corr, auth::Role::kProduce, "Hello", &h.producer_group(), nullptr,
              /*close=*/true)) {
    return;
  }
  if (h.role() == wire::ROLE_PRODUCER && !h.producer_group().empty()) {
    if (absl::Status admitted = AdmitProducerGroup(h.producer_group()); !admitted.ok()) {
      return SendError(ps, corr, wire::ERROR_RESOURCE_EXHAUSTED, std::string(admitted.message()),
                       /*close=*/true);
    }
  }
  ps.hello = true;
  ps.role = h.role();
  ps.client_id = h.client_id().empty() ? ps.peer->description() : h.client_id();
  if (ps.role == wire::ROLE_PRODUCER && !h.producer_group().empty()) {
    ps.producer_group = registry_.AddProducerGroup(h.producer_group());
    ps.has_producer_group = true;
    registry_.AddProducer(ps.producer_group, ps.peer->id());
  }
  LogEvent("client connected: ", ps.peer->description(), " id=", ps.client_id,
           " role=", wire::ClientRole_Name(ps.role),
           ps.principal.empty() ? "" : absl::StrCat(" user=", base::Printable(ps.principal)),
           ps.has_producer_group ? absl::StrCat(" group=", h.producer_group()) : "");
  wire::Frame ok;
  ok.set_correlation_id(corr);
  ok.mutable_hello_ok()->set_version(wire::PROTOCOL_VERSION_1);
  ok.mutable_hello_ok()->set_broker_id(absl::StrCat("txmsg-", start_ms_));
  ok.mutable_hello_ok()->set_max_frame_size(options_.max_frame_size);
  ps.peer->Send(ok);
}

BrokerMetrics BrokerCore::Metrics() const {
  BrokerMetrics m = metrics_;
  m.connections = peers_.size();
  m.uptime_ms = clock_() - start_ms_;
  // From counters, not by walking the messages: a scrape stays cheap with a
  // million of them.
  m.committed = halves_.committed();
  m.pending_half = halves_.pending();
  m.discarded = halves_.discarded();
  for (uint32_t g = 0; g < registry_.group_topic_count(); ++g) {
    const GroupTopic& gt = registry_.group_topic(g);
    m.in_flight += gt.queue.in_flight();
    m.dlq += gt.queue.dlq().size();
  }
  if (log_) m.log = log_->stats();
  if (auth_ != nullptr) m.auth_failures = auth_->failures();
  return m;
}

std::string BrokerCore::Summary() const {
  const BrokerMetrics m = Metrics();
  return absl::StrCat("pending_half=", m.pending_half, " discarded=", m.discarded,
                      " committed=", m.committed, " dlq=", m.dlq,
                      " topics=", registry_.live_topic_count(),
                      " groups=", registry_.live_group_topic_count(), " segments=", m.log.segments,
                      " log_bytes=", m.log.disk_bytes);
}

}  // namespace txmsg::broker
