// The broker's state machine: half messages and their check-backs, commits
// and rollbacks, delivery to consumer groups, acks, the DLQ, admin requests,
// replay of the log on start, and the upkeep that keeps the log from growing
// (carrying live records forward, deleting dead segments).
//
// The state has one owner per kind (broker/state/): HalfMessageTable holds
// every live message (states, check schedule, settled ids), TopicRegistry
// the names, topics, groups and producers, DeliveryQueue each group's
// delivery. BrokerCore applies the rules, writes the log and answers; its
// code is split by job: transactions.cc, delivery.cc, admin.cc, replay.cc,
// upkeep.cc, and broker_core.cc for opening, dispatch and appends.
//
// Threading: everything here runs on one asio thread (the io_context given to
// Open); nothing is locked. The log's completions arrive on its writer thread
// and are posted back to that io_context. Connections reach the core through
// the Peer interface, so the rules are tested without sockets.
#ifndef TXMSG_BROKER_CORE_BROKER_CORE_H_
#define TXMSG_BROKER_CORE_BROKER_CORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "base/log_limiter.h"
#include "broker/auth/authenticator.h"
#include "broker/core/broker_metrics.h"
#include "broker/core/peer.h"
#include "broker/core/peer_state.h"
#include "broker/log/log.h"
#include "broker/state/content_cache.h"
#include "broker/state/delivery_queue.h"
#include "broker/state/half_table.h"
#include "broker/state/record_types.h"
#include "broker/state/topic_registry.h"
#include "broker/state/tx_rules.h"
#include "txmsg/broker.pb.h"

namespace txmsg::store {
class StoredAck;
class StoredCheck;
class StoredDlq;
class StoredDlqReplay;
class StoredMessage;
}  // namespace txmsg::store

namespace txmsg::broker {

struct BrokerOptions {
  uint64_t tx_timeout_ms = 6'000;       // first check-back after this
  uint64_t check_interval_ms = 60'000;  // between check-backs
  uint32_t max_checks = 15;             // then DISCARDED
  DeliveryOptions delivery;
  uint64_t retention_ms = 0;                   // acked messages stay for new groups
  uint32_t max_unacked_per_consumer = 10'000;  // cap on Subscribe.max_unacked
  uint32_t max_list = 1'000;                   // default cap of admin listings
  uint32_t check_history = 16;                 // checks remembered per half
  uint32_t max_frame_size = 4u << 20;          // announced in HelloOk
  size_t settled_memory = 100'000;             // settled ids remembered for late EndTx
  // Caps on names a client may create (never applied to the log's replay).
  size_t max_topics = 10'000;  // topics
  size_t max_groups = 10'000;  // (consumer group, topic) pairs plus producer groups
  // Contents of recent messages kept in memory for their delivery (0: off).
  size_t content_cache_bytes = 64u << 20;
};

class BrokerCore {
 public:
  using Clock = std::function<uint64_t()>;  // ms since the epoch

  // Opens (recovering) the log and rebuilds the state from it. `io` runs the
  // core and must outlive it. `clock` defaults to the system clock.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<BrokerCore>> Open(BrokerOptions options,
                                                                        log::LogOptions log_options,
                                                                        boost::asio::io_context& io,
                                                                        Clock clock = nullptr);
  ~BrokerCore();
  BrokerCore(const BrokerCore&) = delete;
  BrokerCore& operator=(const BrokerCore&) = delete;

  void OnConnect(Peer* peer);
  void OnFrame(Peer* peer, wire::Frame frame);
  void OnDisconnect(Peer* peer);
  // Turns on authentication and authorisation (--auth_file, see
  // docs/security.md): every connection must authenticate in Hello and each
  // request is checked against its principal's permissions. `auth` must
  // outlive the core; without a call (or with nullptr) every connection is
  // trusted, as before.
  void SetAuthenticator(auth::Authenticator* auth) { auth_ = auth; }
  // The principals were reloaded: closes the connections of principals that
  // are gone or whose credential changed. Changed permissions apply from
  // each connection's next request.
  void OnPrincipalsReloaded();

  // A connection was refused at the limit (for the metrics).
  void CountRefusedConnection() { ++metrics_.connections_refused; }

  // Check-backs, ack timeouts, retention and log upkeep; call periodically.
  void Tick();

  // Rough interval at which Tick should run for the configured timeouts.
  uint64_t TickIntervalMs() const;

  BrokerMetrics Metrics() const;
  // Number of messages in each state, for the start-up summary.
  std::string Summary() const;

 private:
  using PeerState = internal::PeerState;
  using Subscription = internal::Subscription;
  // Answers a request once its outcome is known. The frames it is given
  // carry no correlation id: the TxReply adds it (see ReplyLater).
  using TxReply = std::function<void(const wire::Frame&)>;

  static constexpr size_t kMaxNameLength = 255;  // topics, groups, client ids
  static constexpr size_t kMaxTxIdLength = 255;
  static constexpr size_t kMaxSecretLength = 1024;
  static constexpr size_t kMaxSubscriptionsPerConnection = 64;
  // A message's key and properties are shown by txmsgctl (half list/show,
  // DLQ listings): bounded so that an answer always fits in a frame.
  static constexpr size_t kMaxKeyBytes = 4096;
  static constexpr size_t kMaxProperties = 64;  // names up to kMaxNameLength bytes
  static constexpr size_t kMaxPropertyValueBytes = 4096;
  // Room kept in a frame around a message's content for what a Deliver or
  // CheckTx adds (ids, a group name or tx id of at most 255 bytes, counters).
  static constexpr size_t kFrameEnvelopeReserve = 1024;
  // Shown as the client asked by a check nobody could be asked about.
  static constexpr char kNoProducerConnected[] = "(no producer connected)";

  BrokerCore(BrokerOptions options, boost::asio::io_context& io, Clock clock);

  // ---- connections and dispatch (broker_core.cc) ----
  void HandleHello(PeerState& ps, const wire::Frame& f);

  // ---- authentication, permissions, audit (access.cc) ----
  // Authenticates the Hello `h`; false once it has refused (and closed).
  bool Authenticate(PeerState& ps, uint64_t corr, const wire::Hello& h);
  // The principal of `ps` as the file says now; nullptr if it is gone.
  const auth::Principal* PrincipalOf(const PeerState& ps) const;
  // True if `ps` may do `op` as `role` on these names (a null name is not
  // checked), or if auth is off. Else answers PERMISSION_DENIED naming the
  // operation, the resource and the user, and returns false.
  bool Permit(PeerState& ps, uint64_t corr, auth::Role role, const char* op,
              const std::string* group, const std::string* topic, bool close = false);
  // Admin requests: `write` ones (resolve, replay) need admin, the others
  // admin or admin_read.
  bool PermitAdmin(PeerState& ps, uint64_t corr, const char* op, bool write);
  // A live producer of `m`'s group whose principal may produce for it (its
  // group and topic), each in turn; nullptr if none.
  PeerState* CheckableProducer(const MessageEntry& m);
  // Who did `action` from `ps`, now.
  wire::AuditRecord MakeAudit(const PeerState& ps, const char* action) const;
  // Remembers an operator action on message `id` (bounded, oldest out).
  void RememberAudit(uint64_t id, const wire::AuditRecord& record);
  const std::vector<wire::AuditRecord>* AuditOf(uint64_t id) const;

  // ---- the transactional path (transactions.cc) ----
  void HandleSendHalf(PeerState& ps, wire::Frame& f);
  void HandleSend(PeerState& ps, wire::Frame& f);
  // Why `content` has no valid topic for `request` (SendHalf, Send), or
  // nullopt. Its other bounds are CheckContentBounds' (limits.cc).
  std::optional<std::string> ValidateTopic(const wire::MessageContent& content,
                                           const char* request) const;
  void HandleEndTx(PeerState& ps, uint64_t corr, uint64_t id, const std::string& tx_id,
                   wire::TxOutcome outcome, TxSource source);
  // Applies `outcome` to the live half `id` by the rules of tx_rules.h, and
  // answers with `reply` once the result is durable.
  // An operator's `audit` is written with the decision and remembered.
  void ApplyTx(uint64_t id, wire::TxOutcome outcome, TxSource source, TxReply reply,
               std::optional<wire::AuditRecord> audit = std::nullopt);
  // An outcome for a half whose decision is on its way to the log: judged
  // again once that one lands.
  void WaitForOutcome(MessageEntry& m, uint64_t id, wire::TxOutcome outcome, TxSource source,
                      TxReply reply, std::optional<wire::AuditRecord> audit);
  // The answer to an outcome that changes nothing (`d` is not kApply) for a
  // half in `state`: EndTxOk with applied=false, or the error the rules say.
  wire::Frame AnswerUnchanged(uint64_t id, wire::HalfState state, wire::TxOutcome outcome,
                              const TxDecision& d);
  // The one answer about `id` when it names no live half message: from the
  // memory of settled halves (EndTxOk with applied=false, or a conflict, as
  // for a live settled one), else NOT_FOUND. `outcome` is the one requested
  // (EndTx, a check answer, an operator's resolve); nullopt for a look-up
  // (ShowHalf), answered NOT_FOUND with the state it was settled in.
  wire::Frame AnswerForgotten(uint64_t id, std::optional<wire::TxOutcome> outcome, TxSource source);
  // Writes the decision to settle `id` as `to`; OutcomeStored follows.
  void StoreOutcome(uint64_t id, wire::HalfState to, TxReply reply,
                    std::optional<wire::AuditRecord> audit);
  void OutcomeStored(uint64_t id, const absl::Status& stored, const TxReply& reply);
  // The decision is durable: the half takes its new state, a commit goes to
  // the groups, a rollback is forgotten.
  void Settle(uint64_t id, const TxReply& reply);

  // ---- delivery (delivery.cc) ----
  // A message just committed (its commit is in the table): queues it for
  // every group of its topic.
  void QueueForGroups(uint64_t id);
  void HandleSubscribe(PeerState& ps, const wire::Frame& f);
  void HandleAck(PeerState& ps, const wire::Frame& f);
  void HandleNack(PeerState& ps, const wire::Frame& f);
  // The (group, topic) an Ack or Nack names, if `ps` subscribed to it.
  GroupTopic* SubscribedGroupTopic(PeerState& ps, const std::string& group,
                                   const std::string& topic);
  // The group-topic of (group, topic); a new one starts from the oldest
  // retained message of the topic and, if `persist`, is written to the log.
  GroupTopic& EnsureGroupTopic(const std::string& group, uint32_t topic, bool persist);
  void Pump(GroupTopic& gt);
  void ApplyFailures(GroupTopic& gt,
                     const std::vector<std::pair<uint64_t, DeliveryQueue::Failure>>& failures);
  void ReleaseCredit(GroupTopic& gt, std::optional<ConsumerId> holder);
  void MarkAcked(GroupTopic& gt, uint64_t id);
  // Drops a message that nobody needs any more (rolled back, or committed
  // and acked by every group with retention over), remembering its outcome.
  void MaybeForget(uint64_t id);
  // Drops a message from the table and its content from the cache.
  void Forget(uint64_t id);

  // ---- caps on new names (limits.cc) ----
  // OK if the request may use these names: each one exists already or fits
  // under its cap (--max_topics, --max_groups); else RESOURCE_EXHAUSTED
  // naming the cap and its flag. Nothing is created here.
  [[nodiscard]] absl::Status AdmitTopic(const std::string& topic) const;
  [[nodiscard]] absl::Status AdmitSubscription(const std::string& group,
                                               const std::string& topic) const;
  [[nodiscard]] absl::Status AdmitProducerGroup(const std::string& group) const;
  // INVALID_ARGUMENT naming the bound if the key or properties pass it.
  [[nodiscard]] absl::Status CheckContentBounds(const wire::MessageContent& content) const;
  // Send/SendHalf: the content's bounds, its topic and (if given) its
  // producer group. False once it has answered the error.
  bool AdmitMessage(PeerState& ps, uint64_t corr, const wire::MessageContent& content,
                    const std::string* producer_group);
  size_t group_count() const;

  // ---- admin, one handler per request (admin.cc) ----
  void HandleAdmin(PeerState& ps, const wire::Frame& f);
  void HandleListHalf(PeerState& ps, uint64_t corr, const wire::ListHalf& req);
  void HandleShowHalf(PeerState& ps, uint64_t corr, const wire::ShowHalf& req);
  void HandleResolveHalf(PeerState& ps, uint64_t corr, const wire::ResolveHalf& req);
  void HandleListTopics(PeerState& ps, uint64_t corr, const wire::ListTopics& req);
  void HandleListGroups(PeerState& ps, uint64_t corr, const wire::ListGroups& req);
  void HandleListDlq(PeerState& ps, uint64_t corr, const wire::ListDlq& req);
  void HandleReplayDlq(PeerState& ps, uint64_t corr, const wire::ReplayDlq& req);
  void HandleStats(PeerState& ps, uint64_t corr);

  // ---- deleting topics and groups (deletion.cc) ----
  void HandleDeleteTopic(PeerState& ps, uint64_t corr, const wire::DeleteTopic& req);
  void HandleDeleteGroup(PeerState& ps, uint64_t corr, const wire::DeleteGroup& req);
  // Why topic `t` cannot be deleted now (open halves, messages being
  // stored, connected consumers), or nullopt.
  std::optional<std::string> TopicBusy(uint32_t t) const;
  // Queues the deletion's record; `ok` answers once it is durable (an
  // error if it could not be stored). False (answered) if not queued.
  bool AppendDeletion(PeerState& ps, uint64_t corr, RecordType type,
                      const google::protobuf::Message& record, wire::Frame ok);
  // Removes group-topic `gt` (also on replay): its acks are taken off the
  // topic's messages, its queue and DLQ dropped, its slot freed. Returns the
  // ids it had not acked.
  std::vector<uint64_t> DropGroupTopic(GroupTopic& gt);
  // Removes topic `t` (also on replay) with its group-topics and messages.
  void DropTopic(uint32_t t);
  // FORGET records for committed messages dropped without an ack saying so.
  void AppendForget(const std::vector<uint64_t>& ids);
  wire::HalfInfo DescribeHalf(uint64_t id, const MessageEntry& m, bool with_body) const;

  // ---- replay, one function per record type (replay.cc) ----
  absl::Status Replay(uint64_t position, uint8_t type, std::string_view payload);
  void RestoreMessage(uint64_t position, RecordType type, const store::StoredMessage& record);
  void RestoreAck(const store::StoredAck& record);
  void RestoreCheck(const store::StoredCheck& record);
  void RestoreCheckCount(uint64_t id, uint32_t checks);
  void RestoreDlq(const store::StoredDlq& record);
  void RestoreDlqReplay(const store::StoredDlqReplay& record);
  // Every record is read: indexes built, deliveries queued.
  void FinishReplay();

  // ---- upkeep (upkeep.cc) ----
  void RunCheckBacks(uint64_t now);
  void DiscardUnanswered(uint64_t id, MessageEntry& m, uint64_t now);
  void SendCheck(uint64_t id, MessageEntry& m, PeerState& producer, uint64_t now);
  // A check fell due with no producer of the group connected: counted as an
  // unanswered check (see RunCheckBacks), remembered and persisted.
  void CountUnansweredCheck(uint64_t id, MessageEntry& m, uint64_t now);
  // The check in the half's history (`asked` "" when nobody could be asked).
  void RememberCheck(MessageEntry& m, uint64_t time_ms, const std::string& asked);
  // A CHECK record, so that a restart keeps the count.
  void PersistCheck(uint64_t id, MessageEntry& m, uint64_t now, const std::string& asked);
  void ExpireDeliveries(uint64_t now);
  void CompactLog();
  void SweepRetention(uint64_t now);
  void CarryForward(uint64_t id, MessageEntry& m);
  void CarryGroup(uint32_t group_topic);

  // ---- helpers (broker_core.cc) ----
  absl::StatusOr<wire::MessageContent> ReadContent(const MessageEntry& m) const;
  // Appends a record; `done` runs on the core's thread once it is durable
  // (or failed). Returns false (and logs) if the log refused it at once.
  bool Append(RecordType type, const google::protobuf::Message& payload,
              std::function<void(absl::StatusOr<uint64_t>)> done);
  // A record could not be stored. If the log is broken for good (a failed
  // fsync or write), the broker stops on the spot: only what is on disk can
  // be trusted, and a restart recovers exactly that. A full disk (or queue)
  // is reported, at most every few seconds, and the broker carries on.
  void StorageFailed(const absl::Status& status);
  PeerState* FindPeer(uint64_t peer_id);
  void ReplyTo(uint64_t peer_id, const wire::Frame& frame);
  // A TxReply that answers request `corr` of `ps`, if it is still connected.
  TxReply ReplyLater(const PeerState& ps, uint64_t corr);
  // Sends `frame` (an answer or an error) as the reply to request `corr`.
  void Answer(PeerState& ps, uint64_t corr, wire::Frame frame);
  static wire::Frame ErrorFrame(uint64_t corr, wire::ErrorCode code, std::string message);
  void SendError(PeerState& ps, uint64_t corr, wire::ErrorCode code, std::string message,
                 bool close = false);

  const BrokerOptions options_;
  boost::asio::io_context& io_;
  const Clock clock_;
  const uint64_t start_ms_;
  std::unique_ptr<log::Log> log_;
  bool replaying_ = true;
  bool stopping_ = false;

  TopicRegistry registry_;   // names, topics, groups, producers
  HalfMessageTable halves_;  // every live message and the settled ids
  ContentCache recent_;      // contents delivered without reading the log
  absl::flat_hash_map<uint64_t, std::unique_ptr<PeerState>> peers_;
  uint64_t next_correlation_ = 1;
  uint64_t carrying_ = 0;  // carry-forward appends in flight
  uint64_t last_compaction_ms_ = 0;
  uint64_t last_storage_report_ms_ = 0;
  uint64_t storage_refusals_unreported_ = 0;

  auth::Authenticator* auth_ = nullptr;  // null: no --auth_file
  // Operator actions by message id, for ShowHalf; at most kMaxAudited ids,
  // the oldest forgotten first (the log keeps them durably).
  static constexpr size_t kMaxAudited = 10'000;
  absl::flat_hash_map<uint64_t, std::vector<wire::AuditRecord>> audit_;
  std::deque<uint64_t> audit_order_;

  BrokerMetrics metrics_;
  base::LogLimiter no_producer_log_{std::chrono::seconds(10)};
  // Expires when the core is destroyed; log completions check it.
  std::shared_ptr<BrokerCore*> alive_ = std::make_shared<BrokerCore*>(this);
};

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_CORE_BROKER_CORE_H_
