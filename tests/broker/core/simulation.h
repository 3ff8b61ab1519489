// A seeded, deterministic simulation of the broker core and its clients, in
// the style of TigerBeetle's VOPR and FoundationDB's simulation tests: one
// random generator picks every step (sends, outcomes late, repeated and
// contrary, check answers, operator resolves, subscribes, acks, nacks, time
// passing, disconnects, restarts, power cuts that lose what was not synced),
// the core runs in-process on a manual clock (CoreHarness), and after every
// step the invariants are checked against the models (sim_models.h). The same
// seed replays the same run, step for step.
#ifndef TXMSG_TESTS_BROKER_CORE_SIMULATION_H_
#define TXMSG_TESTS_BROKER_CORE_SIMULATION_H_

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/broker/core/core_harness.h"
#include "tests/broker/core/sim_models.h"

namespace txmsg::broker::testing {

struct SimulationResult {
  uint64_t seed = 0;
  uint64_t steps = 0;                       // steps run (the failing one included)
  std::string violation;                    // empty if every invariant held
  std::vector<std::string> trace;           // the last steps, oldest first
  std::map<std::string, uint64_t> actions;  // how often each action ran
  // FNV-1a of every step's description (answers included): the same seed
  // must give the same digest.
  uint64_t digest = 0xcbf29ce484222325;
};

class Simulation {
 public:
  explicit Simulation(uint64_t seed);
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Runs `steps` steps (then lets the system drain and checks that every
  // committed message reached every group), stopping at the first violation.
  SimulationResult Run(uint64_t steps);

  // The options the core runs with: short timeouts, small segments and a
  // small memory of settled ids, so every rule is reached often.
  static CoreHarness::Options HarnessOptions();

 private:
  static constexpr std::array<const char*, 2> kTopics = {"t0", "t1"};
  static constexpr std::array<const char*, 2> kProducerGroups = {"p0", "p1"};
  static constexpr std::array<const char*, 3> kConsumerGroups = {"g0", "g1", "g2"};

  enum class Truth { kCommit, kRollback, kNever };  // a producer's local transaction
  struct Producer {
    CoreClient* client;
    std::string group;
    std::deque<wire::CheckTx> checks;  // asked, not answered yet
  };
  struct Consumer {
    CoreClient* client;
    std::string topic;
    std::string group;
    uint32_t credit;
    std::vector<uint64_t> held;  // delivered, not yet acked or nacked here
  };

  // One random step; returns what it did, for the trace.
  std::string Step();
  std::string SendHalf();
  std::string Send();
  std::string Outcome(TxModel::Source source);
  std::string AnswerCheck();
  std::string Subscribe();
  std::string Ack();
  std::string Nack();
  std::string Advance();
  std::string ConnectProducer();
  std::string DisconnectProducer();
  std::string DisconnectConsumer();
  std::string ReplayDlq();
  std::string Restart(bool power_cut);
  std::string Hold();
  std::string Drain();

  // After each step: frames pushed to clients, stray answers, audits.
  void CollectPushed();
  void CheckStrays();
  void Audit(bool full);
  void Reopen(std::vector<Producer> producers, std::vector<Consumer> consumers);
  void AddConsumer(Consumer c);
  void Tick(uint64_t ms);
  std::optional<wire::Frame> Ask(CoreClient& client, wire::Frame request);
  Producer* AnyProducer();
  wire::TxOutcome Pick(Truth truth);
  uint64_t Uniform(uint64_t n);  // 0..n-1
  bool Chance(double p);
  std::string Body(const std::string& name);

  std::mt19937_64 rng_;
  CoreHarness harness_;
  Violations violations_;
  DeliveryModel delivery_;
  TxModel tx_;
  std::vector<Producer> producers_;
  std::vector<Consumer> consumers_;
  CoreClient* admin_ = nullptr;
  std::map<uint64_t, Truth> truth_;
  std::vector<uint64_t> half_ids_;  // every acknowledged half, for picking
  std::map<uint64_t, uint32_t> due_checks_;
  int hold_steps_left_ = 0;
  uint64_t next_name_ = 0;
  std::map<std::string, uint64_t> actions_;
};

}  // namespace txmsg::broker::testing

#endif  // TXMSG_TESTS_BROKER_CORE_SIMULATION_H_
