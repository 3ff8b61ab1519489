// The fault suite's harness: the three real binaries as one restartable
// system (optionally behind a chaos proxy), a workload of orders against it,
// the invariants of docs/design.md checked once it is quiet, and the report.
// The scenarios that break things live in fault_suite_test.cc.
#ifndef TXMSG_TESTS_FAULT_FAULT_HARNESS_H_
#define TXMSG_TESTS_FAULT_FAULT_HARNESS_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tests/testutil/broker_process.h"
#include "tests/testutil/service_process.h"
#include "tests/testutil/temp_dir.h"
#include "tools/chaos/chaos_proxy.h"

namespace txmsg::fault {

// Stock each run starts with: two products that run out, one that does not.
extern const std::map<int64_t, int64_t> kInitialStock;

// The three processes, each restartable with its own environment.
class System {
 public:
  enum Which { kBroker = 0, kOrder = 1, kStock = 2 };
  static constexpr const char* kNames[] = {"broker", "order-service", "stock-service"};

  // With `chaos`, the services reach the broker through a chaos proxy.
  explicit System(std::map<Which, std::vector<std::string>> env = {},
                  std::optional<chaos::ChaosOptions> chaos = std::nullopt);

  bool started() const { return started_; }
  int startup_crashes() const { return startup_crashes_; }
  chaos::ChaosProxy* proxy() { return proxy_.get(); }
  uint16_t order_port() const { return order_->port(); }
  uint16_t stock_port() const { return stock_->port(); }
  std::string broker() const { return broker_->address(); }
  std::string broker_dir() const { return dir_.File("broker"); }

  pid_t pid(Which w) const;
  bool Exited(Which w);
  void Signal(Which w, int sig);
  // Kill -9 (if still running) and start again with its crash point
  // disarmed and a failing disk replaced (a mutation, if any, stays on).
  bool Restart(Which w);

 private:
  testing::TempDir dir_;
  std::map<Which, std::vector<std::string>> env_;
  std::unique_ptr<testing::BrokerProcess> broker_;
  std::unique_ptr<chaos::ChaosProxy> proxy_;
  std::unique_ptr<testing::ServiceProcess> order_;
  std::unique_ptr<testing::ServiceProcess> stock_;
  bool started_ = false;
  int startup_crashes_ = 0;
};

// Orders submitted from four client threads; records the accepted ones.
class Workload {
 public:
  Workload(System& sys, int orders, uint64_t seed);
  ~Workload() { Join(); }

  size_t accepted();
  std::vector<std::string> accepted_orders();
  int refused() const { return refused_.load(); }
  bool done() const { return finished_.load(); }
  void MarkDoneWhenJoined();

 private:
  void Join();

  System& sys_;
  std::vector<std::thread> threads_;
  std::atomic<int> refused_{0};
  std::atomic<bool> finished_{false};
  absl::Mutex mu_;
  std::vector<std::string> accepted_ ABSL_GUARDED_BY(mu_);
};

// What fault-report.json holds.
struct Report {
  int scenarios = 0, runs = 0, kills = 0, orders = 0, messages = 0, duplicates = 0, violations = 0;
  int mutations_total = 0, mutations_caught = 0;
};

// The invariants, checked once the system is quiet (no order PENDING, or
// `quiet_timeout` passed). Adds to `report`; returns the violations.
std::vector<std::string> CheckInvariants(System& sys, const std::vector<std::string>& accepted,
                                         std::chrono::milliseconds quiet_timeout, Report* report);

class FaultSuite {
 public:
  // Seeded from TXMSG_FAULT_SEED, or at random; the seed is printed.
  FaultSuite();
  Report& report() { return report_; }

  // One run: a fresh system and a workload of `orders`, with `disturb`
  // deciding (on its own thread) when and what to break. Returns the violations.
  std::vector<std::string> Run(const std::string& name,
                               std::map<System::Which, std::vector<std::string>> env, int orders,
                               const std::function<void(System&, Workload&)>& disturb,
                               std::chrono::milliseconds quiet_timeout = std::chrono::seconds(30),
                               std::optional<chaos::ChaosOptions> chaos = std::nullopt);

  // Restarts any process of `watch` that exits while the workload runs.
  void RestartWhenDead(System& sys, Workload& load, std::vector<System::Which> watch);

  uint64_t seed() const { return seed_; }
  // A new seed for the next soak pass; that seed alone replays the pass.
  void Reseed();

 private:
  uint64_t seed_;
  Report report_;
  std::map<std::string, int> runs_of_;  // workload seeds: by name, not by position
};

// Environment arming a crash point and/or a test mutation ("" for none).
std::vector<std::string> Env(const std::string& crash_at, const std::string& mutation = "");

// The newest segment file of the broker's log in `dir` ("" if none).
std::string LastSegment(const std::string& dir);

// TXMSG_FAULT_ONLY=name[,name...] runs only those scenarios (crash-points,
// random-kills, pauses, bad-input, network, storage, mutations): for
// replaying one failure with its seed.
bool Selected(const std::string& scenario);

// Prints the summary and writes it to fault-report.json.
void WriteReport(const Report& r);

}  // namespace txmsg::fault

#endif  // TXMSG_TESTS_FAULT_FAULT_HARNESS_H_
