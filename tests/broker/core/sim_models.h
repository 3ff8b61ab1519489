// The reference the simulation holds the broker core to: what its clients
// were told (an acknowledged half, an applied outcome, a durable ack) and the
// broker's rules written a second time, plainly (when a check-back is due,
// how a delivery fails, when it goes to the DLQ). Each On* method checks one
// observation against the model, then updates the model; the first broken
// invariant is kept in Violations.
//
// Durability: between steps the core is quiet and its log synced, so every
// effect is durable, except inside a hold (CoreHarness::HoldSyncs), which
// always ends with a power cut. A model notes what a hold changes and takes
// it back at the cut, keeping what the cut cannot undo (an ack answered
// during the hold may or may not survive).
#ifndef TXMSG_TESTS_BROKER_CORE_SIM_MODELS_H_
#define TXMSG_TESTS_BROKER_CORE_SIM_MODELS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "broker/core/broker_core.h"
#include "txmsg/broker.pb.h"

namespace txmsg::broker::testing {

// The first broken invariant.
class Violations {
 public:
  void Fail(std::string what) {
    if (first_.empty()) first_ = std::move(what);
  }
  bool any() const { return !first_.empty(); }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// Consumer groups, deliveries, acks, nacks, the DLQ and credit.
class DeliveryModel {
 public:
  using GroupTopic = std::pair<std::string, std::string>;  // (group, topic)

  DeliveryModel(const BrokerOptions& options, Violations* violations);

  // `id` became deliverable (a committed half or a plain message).
  void Commit(uint64_t id, const std::string& topic, const std::string& body);
  bool IsCommitted(uint64_t id) const { return state_.messages.contains(id); }
  // True if the broker must still hold `id`: a group owes it, or its topic
  // has no group yet (kept for the first).
  bool MustRetain(uint64_t id) const;

  void OnSubscribe(uint64_t consumer, const std::string& topic, const std::string& group,
                   uint32_t credit, const std::optional<wire::Frame>& answer);
  void OnConsumerGone(uint64_t consumer, uint64_t now);
  void OnDeliver(uint64_t consumer, const wire::Deliver& d, uint64_t now);
  // `answer` is nullopt for a one-way ack.
  void OnAck(uint64_t consumer, const std::vector<uint64_t>& ids,
             const std::optional<wire::Frame>& answer, bool one_way);
  void OnNack(uint64_t consumer, uint64_t id, uint32_t delay_ms, uint64_t now,
              const std::optional<wire::Frame>& answer);
  void OnTick(uint64_t now);  // ack timeouts
  void OnReplayDlq(const std::string& group, const std::optional<wire::Frame>& answer);
  void OnRestart();  // every delivery in flight or waiting is fresh again
  void BeginHold();
  void PowerCutDuringHold();

  // Invariants checked after every step.
  void CheckIdleCredit();
  void AuditGroups(const wire::Frame& list_groups);
  void AuditDlq(const std::string& group, const wire::Frame& list_dlq);

  // For the driver.
  std::vector<GroupTopic> GroupTopics() const;
  std::set<std::string> GroupNames() const;
  size_t Consumers(const GroupTopic& gt) const;
  // Committed messages some group still owes, for the liveness check.
  std::string Undelivered() const;

 private:
  struct InFlight {
    uint64_t consumer;
    uint64_t deadline_ms;
    uint32_t attempt;
  };
  struct Waiting {
    uint64_t due_ms;
    uint32_t attempts;
  };
  struct Group {
    std::set<uint64_t> owed;   // must be delivered until acked
    std::set<uint64_t> may;    // may be delivered (retained or not: not known)
    std::set<uint64_t> acked;  // acked durably: never again
    std::map<uint64_t, InFlight> inflight;
    std::map<uint64_t, Waiting> waiting;
    std::set<uint64_t> dlq;
  };
  struct Message {
    std::string topic;
    std::string body;
    // An ack of it was lost in a power cut, after the broker may have
    // forgotten it: no group created later is owed it.
    bool maybe_forgotten = false;
  };
  struct Consumer {
    GroupTopic gt;
    uint32_t credit = 0;
  };
  struct State {
    std::map<uint64_t, Message> messages;  // committed, by id
    std::map<GroupTopic, Group> groups;
    std::map<uint64_t, Consumer> consumers;
  };

  Group* Find(const GroupTopic& gt);
  void CreateGroup(const GroupTopic& gt);
  void Fail(Group& g, uint64_t id, const InFlight& f, uint64_t due_ms);
  size_t HeldBy(const Group& g, uint64_t consumer) const;
  uint64_t BackoffMs(uint32_t attempt) const;

  // What a hold may change that a power cut takes back (the rest a restart
  // resets anyway: deliveries in flight or waiting, consumers).
  struct BeforeHold {
    std::map<GroupTopic, std::set<uint64_t>> dlq;        // every group then, with its DLQ
    std::vector<std::pair<GroupTopic, uint64_t>> acked;  // acks answered in the hold
  };

  const BrokerOptions options_;
  Violations* const violations_;
  State state_;
  std::optional<BeforeHold> hold_;
};

// Half messages: acknowledged sends, outcomes, check-backs and discards.
class TxModel {
 public:
  enum class Source { kProducer, kCheckAnswer, kOperator };

  TxModel(const BrokerOptions& options, DeliveryModel* delivery, Violations* violations);

  // A SendHalf sent at `now`; returns the acknowledged id.
  std::optional<uint64_t> OnSendHalf(const std::string& topic, const std::string& group,
                                     const std::string& tx_id, const std::string& body,
                                     uint64_t now, const std::optional<wire::Frame>& answer,
                                     bool holding);
  std::optional<uint64_t> OnSend(const std::string& topic, const std::string& body,
                                 const std::optional<wire::Frame>& answer, bool holding);
  // EndTx, CheckTxAnswer or ResolveHalf for `id`, and its answer.
  void OnOutcome(uint64_t id, wire::TxOutcome outcome, Source source,
                 const std::optional<wire::Frame>& answer, bool holding);
  // Runs the check-back rules at `now` with `producers` (connected producers
  // by group); returns the check-backs due (id -> check number).
  std::map<uint64_t, uint32_t> OnTick(uint64_t now, const std::map<std::string, int>& producers);
  // A CheckTx a producer of `group` received, against those due.
  void OnCheckTx(const std::string& group, const wire::CheckTx& check,
                 std::map<uint64_t, uint32_t>& due);
  void OnRestart();
  void BeginHold();
  void PowerCutDuringHold();

  void AuditOpenHalves(const wire::Frame& list_half);
  void AuditStats(const wire::Frame& stats);
  // Why `id`, delivered, should not have been (it is not committed).
  std::string WhyNotDeliverable(uint64_t id) const;

  struct Half {
    std::string topic;
    std::string group;
    std::string tx_id;
    std::string body;
    uint64_t store_ms = 0;
    wire::HalfState state = wire::HALF_PENDING;  // PENDING, DISCARDED, or settled
    uint32_t checks = 0;                         // check-backs due so far (sent or not)
    bool checks_uncertain = false;               // after a restart, until the next audit
    uint64_t next_check_ms = 0;
    bool deciding = false;  // an outcome is on its way to the log (in a hold)
  };
  const std::map<uint64_t, Half>& halves() const { return state_.halves; }
  const std::set<uint64_t>& open() const { return state_.open; }

 private:
  struct State {
    std::map<uint64_t, Half> halves;
    std::set<uint64_t> open;  // PENDING or DISCARDED
    uint64_t max_id = 0;
  };
  bool NewId(uint64_t id, const char* what);
  void ExpectSettledAnswer(uint64_t id, const Half& h, wire::TxOutcome outcome,
                           const std::optional<wire::Frame>& answer);

  const BrokerOptions options_;
  DeliveryModel* const delivery_;
  Violations* const violations_;
  State state_;
  // Halves discarded during a hold: a power cut takes it back. (Nothing else
  // a hold changes outlives the restart: no outcome is applied in a hold.)
  std::optional<std::vector<uint64_t>> discarded_in_hold_;
};

}  // namespace txmsg::broker::testing

#endif  // TXMSG_TESTS_BROKER_CORE_SIM_MODELS_H_
