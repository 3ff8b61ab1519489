// The simulation's world steps: time passing, connections coming and going,
// restarts, power cuts, and the drain that checks every committed message
// arrives.
#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "tests/broker/core/simulation.h"

namespace txmsg::broker::testing {
namespace {

constexpr uint64_t kAdvanceMs[] = {1, 10, 100, 250, 500, 1000, 2000, 2100};
constexpr uint64_t kMaxHoldSteps = 8;
constexpr size_t kMaxProducers = 4;
constexpr uint32_t kDrainCredit = 6;
constexpr int kDrainQuietRounds = 3;  // rounds with nothing delivered before giving up

}  // namespace

void Simulation::Tick(uint64_t ms) {
  harness_.Advance(ms);
  std::map<std::string, int> producers;
  for (const Producer& p : producers_) ++producers[p.group];
  due_checks_ = tx_.OnTick(harness_.clock().now(), producers);
  delivery_.OnTick(harness_.clock().now());
}

std::string Simulation::Advance() {
  ++actions_["advance clock"];
  const uint64_t ms = kAdvanceMs[Uniform(std::size(kAdvanceMs))];
  Tick(ms);
  return absl::StrCat("Advance ", ms, "ms and tick");
}

std::string Simulation::ConnectProducer() {
  if (producers_.size() >= kMaxProducers) return DisconnectProducer();
  ++actions_["connect producer"];
  const std::string group = kProducerGroups[Uniform(kProducerGroups.size())];
  producers_.push_back(Producer{&harness_.Connect(wire::ROLE_PRODUCER, group), group, {}});
  return absl::StrCat("Connect producer ", producers_.back().client->peer().id(), " ", group);
}

std::string Simulation::DisconnectProducer() {
  if (producers_.empty()) return ConnectProducer();
  ++actions_["disconnect producer"];
  const size_t k = Uniform(producers_.size());
  const uint64_t id = producers_[k].client->peer().id();
  producers_[k].client->Disconnect();
  producers_.erase(producers_.begin() + static_cast<long>(k));
  return absl::StrCat("Disconnect producer ", id);
}

std::string Simulation::DisconnectConsumer() {
  if (consumers_.empty()) return Subscribe();
  ++actions_["disconnect consumer"];
  const size_t k = Uniform(consumers_.size());
  const uint64_t id = consumers_[k].client->peer().id();
  consumers_[k].client->Disconnect();
  consumers_.erase(consumers_.begin() + static_cast<long>(k));
  delivery_.OnConsumerGone(id, harness_.clock().now());
  return absl::StrCat("Disconnect consumer ", id);
}

std::string Simulation::ReplayDlq() {
  ++actions_["replay dlq"];
  const std::string group = kConsumerGroups[Uniform(kConsumerGroups.size())];
  const std::optional<wire::Frame> answer = Ask(*admin_, ReplayDlqFrame(group));
  delivery_.OnReplayDlq(group, answer);
  return absl::StrCat("ReplayDlq ", group, " -> ", Describe(answer));
}

std::string Simulation::Hold() {
  ++actions_["hold syncs"];
  harness_.HoldSyncs();
  tx_.BeginHold();
  delivery_.BeginHold();
  hold_steps_left_ = static_cast<int>(1 + Uniform(kMaxHoldSteps));
  return absl::StrCat("Hold syncs: power cut in ", hold_steps_left_, " steps");
}

std::string Simulation::Restart(bool power_cut) {
  if (!power_cut) ++actions_["restart"];
  if (power_cut) ++actions_["power cut"];
  const bool held = harness_.holding_syncs();
  std::vector<Producer> producers = std::move(producers_);
  std::vector<Consumer> consumers = std::move(consumers_);
  producers_.clear();
  consumers_.clear();
  admin_ = nullptr;
  if (power_cut) {
    if (absl::Status s = harness_.PowerCut(); !s.ok())
      violations_.Fail("power cut: " + s.ToString());
    if (held) {
      tx_.PowerCutDuringHold();
      delivery_.PowerCutDuringHold();
    }
  } else {
    harness_.Close();
  }
  tx_.OnRestart();
  delivery_.OnRestart();
  due_checks_.clear();
  hold_steps_left_ = 0;
  Reopen(std::move(producers), std::move(consumers));
  return power_cut ? (held ? "Power cut (unsynced work lost), reopen" : "Power cut, reopen")
                   : "Restart";
}

void Simulation::Reopen(std::vector<Producer> producers, std::vector<Consumer> consumers) {
  if (absl::Status s = harness_.Open(); !s.ok()) {
    return violations_.Fail("reopening after a restart: " + s.ToString());
  }
  admin_ = &harness_.Connect(wire::ROLE_ADMIN);
  for (const Producer& p : producers) {
    if (Chance(0.8)) {
      producers_.push_back(Producer{&harness_.Connect(wire::ROLE_PRODUCER, p.group), p.group, {}});
    }
  }
  for (Consumer& c : consumers) {
    if (!Chance(0.8)) continue;
    c.client = &harness_.Connect(wire::ROLE_CONSUMER);  // keeps what it held: stale acks
    AddConsumer(std::move(c));
  }
  Audit(/*full=*/true);
}

// Lets every committed message reach every group: DLQs replayed, a consumer
// with full credit on every group, everything acked, time moved past every
// retry, until nothing more comes.
std::string Simulation::Drain() {
  ++actions_["drain"];
  for (const std::string& group : delivery_.GroupNames()) {
    delivery_.OnReplayDlq(group, Ask(*admin_, ReplayDlqFrame(group)));
    CollectPushed();
  }
  for (Consumer& c : consumers_) {
    c.credit = kDrainCredit;
    delivery_.OnSubscribe(c.client->peer().id(), c.topic, c.group, c.credit,
                          Ask(*c.client, SubscribeFrame(c.topic, c.group, c.credit)));
    CollectPushed();
  }
  for (const DeliveryModel::GroupTopic& gt : delivery_.GroupTopics()) {
    if (delivery_.Consumers(gt) > 0) continue;
    AddConsumer(
        Consumer{&harness_.Connect(wire::ROLE_CONSUMER), gt.second, gt.first, kDrainCredit, {}});
  }
  const CoreHarness::Options o = HarnessOptions();
  const uint64_t wait_ms =
      std::max(o.broker.delivery.ack_timeout_ms, o.broker.delivery.backoff_max_ms) + 1;
  for (int quiet = 0; quiet < kDrainQuietRounds && !violations_.any();) {
    bool acked = false;
    for (Consumer& c : consumers_) {
      if (c.held.empty()) continue;
      acked = true;
      std::vector<uint64_t> ids;
      ids.swap(c.held);
      delivery_.OnAck(c.client->peer().id(), ids, Ask(*c.client, AckFrame(c.group, c.topic, ids)),
                      /*one_way=*/false);
      CollectPushed();
    }
    if (acked) {
      quiet = 0;
    } else {
      ++quiet;
      Tick(wait_ms);  // past every ack timeout and retry
      CollectPushed();
    }
  }
  if (const std::string undelivered = delivery_.Undelivered(); !undelivered.empty()) {
    violations_.Fail("liveness: " + undelivered);
  }
  return "Drain";
}

}  // namespace txmsg::broker::testing
