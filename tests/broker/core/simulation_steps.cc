// The simulation's client steps: what its producers, consumers and operator
// do, each answer checked against the models.
#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/broker/core/simulation.h"

namespace txmsg::broker::testing {
namespace {

constexpr size_t kMaxConsumers = 6;
constexpr size_t kMaxOpenHalves = 40;  // beyond this, settle before sending more
constexpr uint32_t kMaxCredit = 6;     // asked for; the broker caps it (max_unacked_per_consumer)
constexpr uint64_t kBogusId = 1ull << 50;  // beyond any log position here
constexpr uint32_t kNackDelayMs[] = {0, 0, 0, 50, 300};

}  // namespace

std::string Simulation::SendHalf() {
  if (tx_.open().size() >= kMaxOpenHalves) return Outcome(TxModel::Source::kOperator);
  Producer* p = AnyProducer();
  if (p == nullptr) return ConnectProducer();
  ++actions_["send half"];
  const std::string topic = kTopics[Uniform(kTopics.size())];
  const std::string tx_id = absl::StrCat("tx-", next_name_++);
  const std::string body = Body(tx_id);
  const uint64_t now = harness_.clock().now();
  const std::optional<wire::Frame> answer = Ask(*p->client, SendHalfFrame(topic, tx_id, body));
  const std::optional<uint64_t> id =
      tx_.OnSendHalf(topic, p->group, tx_id, body, now, answer, harness_.holding_syncs());
  if (id) {
    half_ids_.push_back(*id);
    const uint64_t r = Uniform(100);
    truth_[*id] = r < 55 ? Truth::kCommit : (r < 80 ? Truth::kRollback : Truth::kNever);
  }
  return absl::StrCat("SendHalf ", p->group, " ", topic, " ", tx_id, " -> ", Describe(answer));
}

std::string Simulation::Send() {
  Producer* p = AnyProducer();
  if (p == nullptr) return ConnectProducer();
  ++actions_["send"];
  const std::string topic = kTopics[Uniform(kTopics.size())];
  const std::string body = Body(absl::StrCat("plain-", next_name_++));
  const std::optional<wire::Frame> answer = Ask(*p->client, SendFrame(topic, body));
  tx_.OnSend(topic, body, answer, harness_.holding_syncs());
  return absl::StrCat("Send ", topic, " -> ", Describe(answer));
}

std::string Simulation::Outcome(TxModel::Source source) {
  if (half_ids_.empty()) return SendHalf();
  const bool by_operator = source == TxModel::Source::kOperator;
  Producer* p = AnyProducer();
  if (!by_operator && p == nullptr) return ConnectProducer();
  ++actions_[by_operator ? "operator resolve" : "end tx"];
  uint64_t id = half_ids_[Uniform(half_ids_.size())];  // late ones too
  if (Chance(0.02)) {
    id = kBogusId;
  } else if (!tx_.open().empty() && Chance(0.7)) {
    id = *std::next(tx_.open().begin(), static_cast<long>(Uniform(tx_.open().size())));
  }
  auto half = tx_.halves().find(id);
  const std::string tx_id = half == tx_.halves().end() ? "tx-bogus" : half->second.tx_id;
  const Truth truth = truth_.contains(id) ? truth_[id] : Truth::kNever;
  const uint64_t r = Uniform(100);
  wire::TxOutcome outcome = Pick(truth);
  if (r >= 60 && r < 75) {  // a buggy producer: the contrary of its truth
    outcome = truth == Truth::kCommit ? wire::TX_ROLLBACK : wire::TX_COMMIT;
  } else if (r >= 75 && r < 85) {
    outcome = wire::TX_UNKNOWN;
  } else if (r >= 85) {
    outcome = Chance(0.5) ? wire::TX_COMMIT : wire::TX_ROLLBACK;
  }
  if (by_operator && outcome == wire::TX_UNKNOWN) {  // an operator decides
    outcome = Chance(0.5) ? wire::TX_COMMIT : wire::TX_ROLLBACK;
  }
  CoreClient& client = by_operator ? *admin_ : *p->client;
  const std::optional<wire::Frame> answer =
      Ask(client, by_operator ? ResolveFrame(id, outcome) : EndTxFrame(id, tx_id, outcome));
  tx_.OnOutcome(id, outcome, source, answer, harness_.holding_syncs());
  return absl::StrCat(by_operator ? "ResolveHalf " : "EndTx ", id, " ",
                      wire::TxOutcome_Name(outcome), " -> ", Describe(answer));
}

std::string Simulation::AnswerCheck() {
  std::vector<Producer*> asked;
  for (Producer& p : producers_) {
    if (!p.checks.empty()) asked.push_back(&p);
  }
  if (asked.empty()) return Outcome(TxModel::Source::kProducer);
  ++actions_["check answer"];
  Producer& p = *asked[Uniform(asked.size())];
  const wire::CheckTx check = std::move(p.checks.front());
  p.checks.pop_front();
  const uint64_t id = check.message_id();
  const Truth truth = truth_.contains(id) ? truth_[id] : Truth::kNever;
  wire::TxOutcome outcome = Pick(truth);
  const uint64_t r = Uniform(100);
  if (r < 10) outcome = truth == Truth::kCommit ? wire::TX_ROLLBACK : wire::TX_COMMIT;
  if (r >= 10 && r < 20) outcome = wire::TX_UNKNOWN;
  const std::optional<wire::Frame> answer =
      Ask(*p.client, CheckAnswerFrame(id, check.tx_id(), outcome));
  tx_.OnOutcome(id, outcome, TxModel::Source::kCheckAnswer, answer, harness_.holding_syncs());
  return absl::StrCat("CheckTxAnswer ", id, " (check ", check.check_number(), ") ",
                      wire::TxOutcome_Name(outcome), " -> ", Describe(answer));
}

void Simulation::AddConsumer(Consumer c) {
  const std::optional<wire::Frame> answer =
      Ask(*c.client, SubscribeFrame(c.topic, c.group, c.credit));
  delivery_.OnSubscribe(c.client->peer().id(), c.topic, c.group, c.credit, answer);
  consumers_.push_back(std::move(c));
  CollectPushed();
}

std::string Simulation::Subscribe() {
  ++actions_["subscribe"];
  const uint32_t credit = 1 + static_cast<uint32_t>(Uniform(kMaxCredit));
  if (consumers_.size() < kMaxConsumers && (consumers_.empty() || Chance(0.6))) {
    Consumer c{&harness_.Connect(wire::ROLE_CONSUMER),
               kTopics[Uniform(kTopics.size())],
               kConsumerGroups[Uniform(kConsumerGroups.size())],
               credit,
               {}};
    const std::string what = absl::StrCat("Subscribe ", c.client->peer().id(), " ", c.group, " ",
                                          c.topic, " credit ", credit);
    AddConsumer(std::move(c));
    return what;
  }
  Consumer& c = consumers_[Uniform(consumers_.size())];
  c.credit = credit;
  const std::optional<wire::Frame> answer =
      Ask(*c.client, SubscribeFrame(c.topic, c.group, credit));
  delivery_.OnSubscribe(c.client->peer().id(), c.topic, c.group, credit, answer);
  return absl::StrCat("Subscribe again ", c.client->peer().id(), " credit ", credit);
}

std::string Simulation::Ack() {
  std::vector<Consumer*> holding;
  for (Consumer& c : consumers_) {
    if (!c.held.empty()) holding.push_back(&c);
  }
  if (holding.empty()) return Advance();
  ++actions_["ack"];
  Consumer& c = *holding[Uniform(holding.size())];
  std::vector<uint64_t> ids;
  const uint64_t n = 1 + Uniform(std::min<uint64_t>(3, c.held.size()));
  for (uint64_t i = 0; i < n; ++i) {
    const size_t k = Uniform(c.held.size());
    ids.push_back(c.held[k]);
    c.held.erase(c.held.begin() + static_cast<long>(k));
  }
  if (Chance(0.05)) ids.push_back(ids.front());  // the same id twice
  const bool one_way = Chance(0.3);
  const uint64_t corr = c.client->Send(AckFrame(c.group, c.topic, ids), one_way);
  harness_.Settle();
  const std::optional<wire::Frame> answer = one_way ? std::nullopt : c.client->TakeAnswer(corr);
  delivery_.OnAck(c.client->peer().id(), ids, answer, one_way);
  return absl::StrCat("Ack ", c.client->peer().id(), " ", absl::StrJoin(ids, ","),
                      one_way ? " (one way)" : absl::StrCat(" -> ", Describe(answer)));
}

std::string Simulation::Nack() {
  std::vector<Consumer*> holding;
  for (Consumer& c : consumers_) {
    if (!c.held.empty()) holding.push_back(&c);
  }
  if (holding.empty()) return Advance();
  ++actions_["nack"];
  Consumer& c = *holding[Uniform(holding.size())];
  const size_t k = Uniform(c.held.size());
  const uint64_t id = c.held[k];
  c.held.erase(c.held.begin() + static_cast<long>(k));
  const uint32_t delay = kNackDelayMs[Uniform(std::size(kNackDelayMs))];
  const std::optional<wire::Frame> answer = Ask(*c.client, NackFrame(c.group, c.topic, id, delay));
  delivery_.OnNack(c.client->peer().id(), id, delay, harness_.clock().now(), answer);
  return absl::StrCat("Nack ", c.client->peer().id(), " ", id, " delay ", delay, " -> ",
                      Describe(answer));
}

}  // namespace txmsg::broker::testing
