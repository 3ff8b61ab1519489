// The fault suite's harness: the three real binaries as one restartable
// system (optionally behind a chaos proxy), a workload of orders against it,
// and the invariants of docs/design.md checked once it is quiet. The
// scenarios that break things are in fault_scenarios.h, the tests that run
// them in fault_suite_test.cc, the report in fault_report.h.
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
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tests/fault/fault_report.h"
#include "tests/testutil/broker_process.h"
#include "tests/testutil/service_process.h"
#include "tests/testutil/temp_dir.h"
#include "tools/chaos/chaos_proxy.h"
#include "txmsg/blocking_client.h"

namespace txmsg::fault {

// Stock each run starts with: two products that run out, one that does not.
extern const std::map<int64_t, int64_t> kInitialStock;

// The test system's broker timeouts: short, so that a fault (a pause, a
// stall, a full disk) can outlast them within a second or two.
inline constexpr std::chrono::milliseconds kTestTxTimeout{300};  // also the check interval
inline constexpr std::chrono::milliseconds kTestAckTimeout{1000};
inline constexpr std::chrono::milliseconds kTestRedeliveryBackoff{100};
// A connection that says nothing is closed after this (idle floods).
inline constexpr std::chrono::milliseconds kTestHelloTimeout{2000};
// Small segments, so a run rolls, carries forward and deletes segments.
inline constexpr int kTestSegmentBytes = 64 * 1024;
// How long a run waits for the system to go quiet before checking.
inline constexpr std::chrono::milliseconds kDefaultQuietTimeout{30'000};

// For scenarios: the longest a disturber waits for the workload to reach
// its next step, and for a killed process to be reaped.
inline constexpr std::chrono::milliseconds kStepWait{20'000};
inline constexpr std::chrono::milliseconds kExitWait{5'000};
// A crash point is armed at a random hit among its first kCrashHits.
inline constexpr uint64_t kCrashHits = 5;
// A fault (pause, stall, full disk) that outlasts tx_timeout and ack_timeout.
inline constexpr std::chrono::milliseconds kLongFault = kTestAckTimeout + kTestAckTimeout / 2;
static_assert(kLongFault > kTestTxTimeout && kLongFault > kTestAckTimeout);

// What went wrong in a run, one line each (empty: the invariants held).
using Violations = std::vector<std::string>;

// Whether the services of the Systems made from now on keep their data in
// PostgreSQL (a throwaway cluster this test binary starts, a fresh pair of
// databases per System) instead of SQLite files.
void UsePostgres(bool on);
// Whether the Systems made from now on are secured: the broker with
// --auth_file and TLS, each service its own principal over TLS, and the
// suite's own clients an admin principal over TLS (docs/security.md). Not
// with a chaos proxy, which reads frames and so cannot sit in TLS.
void UseSecurity(bool on);

// The three processes, each restartable with its own environment.
class System {
 public:
  enum Which { kBroker = 0, kOrder = 1, kStock = 2 };
  static constexpr const char* kNames[] = {"broker", "order-service", "stock-service"};

  // With `chaos`, the services reach the broker through a chaos proxy.
  // `wrappers` run a process through a shell line (ListeningProcess::
  // set_wrapper: "ulimit -n 256 && exec \"$@\"").
  explicit System(std::map<Which, std::vector<std::string>> env = {},
                  std::optional<chaos::ChaosOptions> chaos = std::nullopt,
                  std::map<Which, std::string> wrappers = {});

  bool started() const { return started_; }
  int startup_crashes() const { return startup_crashes_; }
  chaos::ChaosProxy* proxy() { return proxy_.get(); }
  uint16_t order_port() const { return order_->port(); }
  uint16_t stock_port() const { return stock_->port(); }
  std::string broker() const { return broker_->address(); }
  // A client of this system's broker as the suite's own principal (and
  // over TLS) when the system is secured; plainly otherwise.
  absl::StatusOr<std::unique_ptr<BlockingClient>> Connect(
      wire::ClientRole role = wire::ROLE_ADMIN, const std::string& producer_group = "") const;
  std::string broker_dir() const { return dir_.File("broker"); }
  // A file in the system's own temp dir.
  std::string File(const std::string& name) const { return dir_.File(name); }

  pid_t pid(Which w) const;
  bool Exited(Which w);
  void Signal(Which w, int sig);
  // Kill -9 (if still running) and start again with its crash point
  // disarmed and a failing disk replaced (a mutation, if any, stays on).
  bool Restart(Which w);

 private:
  // Secured: the principals file, secret files and certificates in dir_;
  // the broker's and each service's extra flags.
  void Secure(std::vector<std::string>& broker_flags, std::vector<std::string>& order_flags,
              std::vector<std::string>& stock_flags);

  testing::TempDir dir_;
  ClientOptions client_options_;  // how the suite's own clients connect
  std::map<Which, std::vector<std::string>> env_;
  std::unique_ptr<testing::BrokerProcess> broker_;
  std::unique_ptr<chaos::ChaosProxy> proxy_;
  std::unique_ptr<testing::ServiceProcess> order_;
  std::unique_ptr<testing::ServiceProcess> stock_;
  bool started_ = false;
  int startup_crashes_ = 0;
};

// Orders submitted from kClientThreads client threads; records the accepted ones.
class Workload {
 public:
  static constexpr int kClientThreads = 4;

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

// The invariants of docs/design.md, checked once the system is quiet (no
// order PENDING, or `quiet_timeout` passed); fault_invariants.cc. Counts
// orders, messages and duplicates into `report`; returns the violations.
std::vector<std::string> CheckInvariants(System& sys, const std::vector<std::string>& accepted,
                                         std::chrono::milliseconds quiet_timeout, Report* report);

// Runs systems through faults for one test and counts what happened.
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
                               std::chrono::milliseconds quiet_timeout = kDefaultQuietTimeout,
                               std::optional<chaos::ChaosOptions> chaos = std::nullopt,
                               std::map<System::Which, std::string> wrappers = {});

  // Restarts any process of `watch` that exits while the workload runs.
  void RestartWhenDead(System& sys, Workload& load, std::vector<System::Which> watch);

  uint64_t seed() const { return seed_; }
  // A new seed for the next soak pass; that seed alone replays the pass.
  void Reseed();
  // The seed of scenario `name`'s own generator: each scenario draws from
  // its own, so replaying one alone (TXMSG_FAULT_ONLY) makes the same choices.
  uint64_t ScenarioSeed(const std::string& name) const;

 private:
  uint64_t seed_;
  Report report_;
  std::map<std::string, int> runs_of_;  // workload seeds: by name, not by position
};

// A field of a flat JSON object: the number (-1 if absent) or string ("").
int64_t JsonNumber(const std::string& json, const std::string& name);
std::string JsonString(const std::string& json, const std::string& name);

// Waits until `load` accepted `orders` orders (kStepWait at most); false
// if it finished first or the wait timed out.
bool Reached(Workload& load, size_t orders);

// 1 to `max_bytes` random bytes.
std::string RandomBytes(std::mt19937_64& rng, uint64_t max_bytes);

// Appends `from` to `to`.
void Append(Violations& to, const Violations& from);

// Environment arming a crash point and/or a test mutation ("" for none).
std::vector<std::string> Env(const std::string& crash_at, const std::string& mutation = "");

// The newest segment file of the broker's log in `dir` ("" if none).
std::string LastSegment(const std::string& dir);

// TXMSG_FAULT_ONLY=name[,name...] runs only those scenarios (crash-points,
// random-kills, pauses, bad-input, network, storage, descriptors, idle-flood,
// db-full, poison, mutations): for
// replaying one failure with its seed.
bool Selected(const std::string& scenario);

}  // namespace txmsg::fault

#endif  // TXMSG_TESTS_FAULT_FAULT_HARNESS_H_
