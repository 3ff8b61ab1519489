// The fault-injection suite: the three real binaries under a workload of
// orders, broken on purpose (crash points, random kill -9, SIGSTOP pauses,
// hostile input, a mistreated network, failing storage), then checked
// against the invariants of docs/design.md once the system goes quiet.
// One test per scenario, so a failure names it; mutation controls (test-only
// switches that break a guarantee) prove the checks can fail. Each test
// adds its part to fault-report.json in the build directory (fault_report.h).
//
// TXMSG_FAULT_SEED=N fixes the seed (each test prints its own);
// TXMSG_FAULT_ONLY=name[,name] skips the other scenarios;
// TXMSG_SOAK_MINUTES=N makes the Soak test repeat every scenario but the
// mutations, a fresh printed seed each pass, for N minutes (tools/fault.sh
// --soak N); unset, Soak is skipped.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/fault/fault_harness.h"
#include "tests/fault/fault_mutations.h"
#include "tests/fault/fault_report.h"
#include "tests/fault/fault_scenarios.h"

namespace txmsg::fault {
namespace {

::testing::Environment* const kReportEnvironment =
    ::testing::AddGlobalTestEnvironment(new ReportEnvironment);

const Scenario& Find(const std::string& name) {
  for (const Scenario& s : kScenarios) {
    if (name == s.name) return s;
  }
  std::abort();  // a test names a scenario that kScenarios lacks
}

class FaultSuiteTest : public ::testing::Test {
 protected:
  // Runs scenario `name` once with its own generator, stores its part of
  // the report, and fails naming the scenario and how to replay it.
  // With `postgres`, the services keep their data in PostgreSQL.
  // With `secured`, with authentication and TLS on (UseSecurity).
  void RunScenario(const std::string& scenario, bool postgres = false, bool secured = false) {
    if (!Selected(scenario)) GTEST_SKIP() << scenario << " is not in TXMSG_FAULT_ONLY";
    std::string name = postgres ? scenario + "-postgresql" : scenario;
    if (secured) name += "-secured";
    UsePostgres(postgres);
    UseSecurity(secured);
    FaultSuite suite;
    std::mt19937_64 rng(suite.ScenarioSeed(name));
    const Violations v = Find(scenario).run(suite, rng);
    UsePostgres(false);
    UseSecurity(false);
    Report& report = suite.report();
    report.violations += static_cast<int>(v.size());
    report.scenarios.insert(name);
    report.seeds[name] = suite.seed();
    SaveReportPart(name, report);
    EXPECT_TRUE(v.empty()) << name << ": " << v.size() << " violations (listed above); replay: "
                           << "TXMSG_FAULT_SEED=" << suite.seed()
                           << " TXMSG_FAULT_ONLY=" << scenario;
  }
};

TEST_F(FaultSuiteTest, CrashPoints) { RunScenario("crash-points"); }
TEST_F(FaultSuiteTest, RandomKills) { RunScenario("random-kills"); }
// The same on PostgreSQL (the storage scenario's faults are SQLite's and the broker's).
TEST_F(FaultSuiteTest, CrashPointsOnPostgres) { RunScenario("crash-points", true); }
TEST_F(FaultSuiteTest, RandomKillsOnPostgres) { RunScenario("random-kills", true); }
// With authentication and TLS on: every client a principal, every broker
// connection TLS (not the network scenario: its proxy reads frames).
TEST_F(FaultSuiteTest, CrashPointsSecured) { RunScenario("crash-points", false, true); }
TEST_F(FaultSuiteTest, RandomKillsSecured) { RunScenario("random-kills", false, true); }
TEST_F(FaultSuiteTest, PausesSecured) { RunScenario("pauses", false, true); }
TEST_F(FaultSuiteTest, DbFullSecured) { RunScenario("db-full", false, true); }
TEST_F(FaultSuiteTest, PoisonSecured) { RunScenario("poison", false, true); }
TEST_F(FaultSuiteTest, Pauses) { RunScenario("pauses"); }
TEST_F(FaultSuiteTest, BadInput) { RunScenario("bad-input"); }
TEST_F(FaultSuiteTest, Network) { RunScenario("network"); }
TEST_F(FaultSuiteTest, Storage) { RunScenario("storage"); }
TEST_F(FaultSuiteTest, Descriptors) { RunScenario("descriptors"); }
TEST_F(FaultSuiteTest, IdleFlood) { RunScenario("idle-flood"); }
TEST_F(FaultSuiteTest, DbFull) { RunScenario("db-full"); }
TEST_F(FaultSuiteTest, Poison) { RunScenario("poison"); }

TEST_F(FaultSuiteTest, MutationsAreCaught) {
  if (!Selected(kMutationsScenario)) GTEST_SKIP() << "mutations is not in TXMSG_FAULT_ONLY";
  FaultSuite suite;
  const std::vector<std::string> uncaught = UncaughtMutations(suite);
  Report& report = suite.report();
  report.scenarios.insert(kMutationsScenario);
  report.seeds[kMutationsScenario] = suite.seed();
  SaveReportPart(kMutationsScenario, report);
  EXPECT_TRUE(uncaught.empty()) << "the suite did not catch mutation(s) "
                                << absl::StrJoin(uncaught, ", ");
}

// Every selected scenario but the mutations, pass after pass, each pass with
// a fresh seed (printed; TXMSG_FAULT_SEED=that TXMSG_FAULT_ONLY=scenario
// replays one) until TXMSG_SOAK_MINUTES have passed.
TEST_F(FaultSuiteTest, Soak) {
  const char* minutes = std::getenv("TXMSG_SOAK_MINUTES");
  if (minutes == nullptr || std::atoi(minutes) <= 0)
    GTEST_SKIP() << "set TXMSG_SOAK_MINUTES=N (tools/fault.sh --soak N) to soak";
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(std::atoi(minutes));
  FaultSuite suite;
  suite.report().seeds["soak"] = suite.seed();
  int passes = 0;
  Violations all;
  while (std::chrono::steady_clock::now() < until) {
    suite.Reseed();  // the scenario tests ran the first seed already
    ++passes;
    for (const Scenario& s : kScenarios) {
      if (!Selected(s.name)) continue;
      std::mt19937_64 rng(suite.ScenarioSeed(s.name));
      for (const std::string& x : s.run(suite, rng))
        all.push_back(absl::StrCat(s.name, " (TXMSG_FAULT_SEED=", suite.seed(), "): ", x));
      suite.report().scenarios.insert(s.name);
    }
  }
  suite.report().violations += static_cast<int>(all.size());
  SaveReportPart("soak", suite.report());
  std::printf("soak: %d passes in %s minutes\n", passes, minutes);
  EXPECT_TRUE(all.empty()) << absl::StrJoin(all, "\n");
}

}  // namespace
}  // namespace txmsg::fault
