#include "tests/broker/core/simulation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace txmsg::broker::testing {
namespace {

constexpr size_t kTraceLines = 40;  // steps shown when a run fails
// Every step checks each answer, delivery and check-back as it comes, the
// idle credit and the counters; every few steps (and after every restart)
// the broker's whole admin view is compared with the models too.
constexpr uint64_t kFullAuditEvery = 8;
constexpr uint64_t kFnvPrime = 0x100000001b3;

// Steps and their weights (per mille, roughly).
enum class Action {
  kSendHalf,
  kSend,
  kEndTx,
  kAnswerCheck,
  kResolve,
  kSubscribe,
  kAck,
  kNack,
  kAdvance,
  kConnectProducer,
  kDisconnectProducer,
  kDisconnectConsumer,
  kReplayDlq,
  kRestart,
  kPowerCut,
  kHold,
  kDrain,
};
struct Weighted {
  Action action;
  uint64_t weight;
  bool in_hold;  // allowed while syncs are held
};
constexpr Weighted kActions[] = {
    {Action::kSendHalf, 120, true},
    {Action::kSend, 50, true},
    {Action::kEndTx, 110, true},
    {Action::kAnswerCheck, 80, true},
    {Action::kResolve, 30, true},
    {Action::kSubscribe, 40, true},
    {Action::kAck, 150, true},
    {Action::kNack, 40, true},
    {Action::kAdvance, 170, true},
    {Action::kConnectProducer, 25, true},
    {Action::kDisconnectProducer, 20, true},
    {Action::kDisconnectConsumer, 20, true},
    {Action::kReplayDlq, 10, false},
    {Action::kRestart, 3, false},
    {Action::kPowerCut, 2, false},
    {Action::kHold, 4, false},
    {Action::kDrain, 2, false},
};

}  // namespace

CoreHarness::Options Simulation::HarnessOptions() {
  CoreHarness::Options o;
  o.segment_size = 8 << 10;
  o.broker.tx_timeout_ms = 1'000;
  o.broker.check_interval_ms = 500;
  o.broker.max_checks = 3;
  o.broker.delivery.max_attempts = 4;
  o.broker.delivery.ack_timeout_ms = 2'000;
  o.broker.delivery.backoff_base_ms = 100;
  o.broker.delivery.backoff_max_ms = 800;
  o.broker.max_unacked_per_consumer = 4;
  o.broker.settled_memory = 32;
  return o;
}

Simulation::Simulation(uint64_t seed)
    : rng_(seed),
      harness_(HarnessOptions()),
      delivery_(HarnessOptions().broker, &violations_),
      tx_(HarnessOptions().broker, &delivery_, &violations_) {}

uint64_t Simulation::Uniform(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
bool Simulation::Chance(double p) { return static_cast<double>(rng_() % 1'000'000) < p * 1e6; }

std::string Simulation::Body(const std::string& name) {
  std::string body = name + "-";
  const size_t pad = Uniform(300);
  for (size_t i = 0; i < pad; ++i) body += static_cast<char>('a' + Uniform(26));
  return body;
}

std::optional<wire::Frame> Simulation::Ask(CoreClient& client, wire::Frame request) {
  const uint64_t corr = client.Send(std::move(request));
  harness_.Settle();
  return client.TakeAnswer(corr);
}

Simulation::Producer* Simulation::AnyProducer() {
  return producers_.empty() ? nullptr : &producers_[Uniform(producers_.size())];
}

wire::TxOutcome Simulation::Pick(Truth truth) {
  switch (truth) {
    case Truth::kCommit:
      return wire::TX_COMMIT;
    case Truth::kRollback:
      return wire::TX_ROLLBACK;
    case Truth::kNever:
      return wire::TX_UNKNOWN;
  }
  return wire::TX_UNKNOWN;
}

SimulationResult Simulation::Run(uint64_t steps) {
  SimulationResult result;
  std::deque<std::string> trace;
  if (absl::Status s = harness_.Open(); !s.ok()) violations_.Fail("open: " + s.ToString());
  if (!violations_.any()) admin_ = &harness_.Connect(wire::ROLE_ADMIN);
  for (uint64_t step = 1; step <= steps + 1 && !violations_.any(); ++step) {
    result.steps = step;
    std::string what;
    if (step <= steps) {
      what = Step();
    } else {  // the end: power back if it was held, then everything must arrive
      if (harness_.holding_syncs()) what = Restart(/*power_cut=*/true) + "; ";
      what += Drain();
    }
    CollectPushed();
    CheckStrays();
    delivery_.CheckIdleCredit();
    Audit(/*full=*/step % kFullAuditEvery == 0 || step > steps);
    trace.push_back(absl::StrCat(
        "step ", step, " t=", harness_.clock().now() - ManualClock::kStartMs, "ms: ", what));
    for (char ch : trace.back())
      result.digest = (result.digest ^ static_cast<uint8_t>(ch)) * kFnvPrime;
    if (trace.size() > kTraceLines) trace.pop_front();
  }
  result.violation = violations_.first();
  result.trace.assign(trace.begin(), trace.end());
  result.actions = actions_;
  return result;
}

std::string Simulation::Step() {
  if (hold_steps_left_ > 0 && --hold_steps_left_ == 0) {
    ++actions_["power cut after hold"];
    return Restart(/*power_cut=*/true);
  }
  const bool holding = harness_.holding_syncs();
  uint64_t total = 0;
  for (const Weighted& w : kActions) total += w.weight;
  uint64_t pick = Uniform(total);
  Action action = Action::kAdvance;
  for (const Weighted& w : kActions) {
    if (pick < w.weight) {
      action = holding && !w.in_hold ? Action::kAdvance : w.action;
      break;
    }
    pick -= w.weight;
  }
  switch (action) {
    case Action::kSendHalf:
      return SendHalf();
    case Action::kSend:
      return Send();
    case Action::kEndTx:
      return Outcome(TxModel::Source::kProducer);
    case Action::kAnswerCheck:
      return AnswerCheck();
    case Action::kResolve:
      return Outcome(TxModel::Source::kOperator);
    case Action::kSubscribe:
      return Subscribe();
    case Action::kAck:
      return Ack();
    case Action::kNack:
      return Nack();
    case Action::kAdvance:
      return Advance();
    case Action::kConnectProducer:
      return ConnectProducer();
    case Action::kDisconnectProducer:
      return DisconnectProducer();
    case Action::kDisconnectConsumer:
      return DisconnectConsumer();
    case Action::kReplayDlq:
      return ReplayDlq();
    case Action::kRestart:
      return Restart(/*power_cut=*/false);
    case Action::kPowerCut:
      return Restart(/*power_cut=*/true);
    case Action::kHold:
      return Hold();
    case Action::kDrain:
      return Drain();
  }
  return Advance();
}

// ------------------------------------------------------------ checks

void Simulation::CollectPushed() {
  const uint64_t now = harness_.clock().now();
  for (Producer& p : producers_) {
    for (wire::Frame& f : p.client->TakePushed()) {
      if (!f.has_check_tx()) {
        violations_.Fail("a producer got " + f.ShortDebugString());
        continue;
      }
      tx_.OnCheckTx(p.group, f.check_tx(), due_checks_);
      p.checks.push_back(std::move(*f.mutable_check_tx()));
    }
  }
  for (Consumer& c : consumers_) {
    for (const wire::Frame& f : c.client->TakePushed()) {
      if (!f.has_deliver()) {
        violations_.Fail("a consumer got " + f.ShortDebugString());
        continue;
      }
      const uint64_t id = f.deliver().message_id();
      if (!delivery_.IsCommitted(id)) {
        violations_.Fail(tx_.WhyNotDeliverable(id));
        continue;
      }
      delivery_.OnDeliver(c.client->peer().id(), f.deliver(), now);
      c.held.push_back(id);
    }
  }
  if (admin_ != nullptr && !admin_->TakePushed().empty()) violations_.Fail("admin got a push");
  if (!due_checks_.empty()) {
    violations_.Fail(absl::StrCat("check-back of ", due_checks_.begin()->first, " (check ",
                                  due_checks_.begin()->second, ") was due but not sent"));
  }
  due_checks_.clear();
}

void Simulation::CheckStrays() {
  std::vector<CoreClient*> clients;
  for (Producer& p : producers_) clients.push_back(p.client);
  for (Consumer& c : consumers_) clients.push_back(c.client);
  if (admin_ != nullptr) clients.push_back(admin_);
  for (CoreClient* c : clients) {
    for (const wire::Frame& f : c->TakeUnclaimed()) {
      violations_.Fail("unexpected answer: " + Describe(f));
    }
    if (c->peer().closed()) violations_.Fail("the broker closed " + c->peer().description());
  }
}

void Simulation::Audit(bool full) {
  if (!harness_.is_open() || admin_ == nullptr) return;
  tx_.AuditStats(admin_->Call(StatsFrame()));
  if (!full) return;
  tx_.AuditOpenHalves(admin_->Call(ListHalfFrame()));
  delivery_.AuditGroups(admin_->Call(ListGroupsFrame()));
  for (const char* g : kConsumerGroups) delivery_.AuditDlq(g, admin_->Call(ListDlqFrame(g)));
}

}  // namespace txmsg::broker::testing
