#include "tests/fault/fault_mutations.h"

#include <signal.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "base/crash_points.h"

namespace txmsg::fault {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;
using Which = System::Which;

// mutations: each gets kMutationAttempts runs to be caught.
constexpr int kMutationAttempts = 3;
constexpr auto kMutationQuietTimeout = 8s;
constexpr int kMutationCrashOrders = 40;
constexpr int kMutationKillOrders = 120;
constexpr size_t kMutationKills = 4;
constexpr size_t kOrdersPerMutationKill = 25;

struct Mutation {
  std::string name;  // TXMSG_TEST_MUTATION's value
  Which process;
  std::string crash_at;  // "" for random kills of the process
};

// One run of `m` against the fault it is vulnerable to; its violations.
Violations RunMutation(FaultSuite& suite, const Mutation& m) {
  const std::string name = "mutation-" + m.name;
  if (!m.crash_at.empty()) {
    return suite.Run(
        name, {{m.process, Env(m.crash_at, m.name)}}, kMutationCrashOrders,
        [&](System& s, Workload& l) { suite.RestartWhenDead(s, l, {m.process}); },
        kMutationQuietTimeout);
  }
  return suite.Run(
      name, {{m.process, Env("", m.name)}}, kMutationKillOrders,
      [&](System& s, Workload& l) {
        for (size_t k = 1; k <= kMutationKills; ++k) {
          if (!Reached(l, k * kOrdersPerMutationKill)) return;
          ++suite.report().kills;
          s.Signal(m.process, SIGKILL);  // comes back with the mutation still on
          WaitFor([&] { return s.Exited(m.process); }, kExitWait);
          s.Restart(m.process);
        }
      },
      kMutationQuietTimeout);
}

}  // namespace

std::vector<std::string> UncaughtMutations(FaultSuite& suite) {
  const std::vector<Mutation> mutations = {
      {"skip_idempotency", System::kStock,
       absl::StrCat(crash_points::kStockDeductedBeforePublish, ":1")},
      {"ack_before_commit", System::kStock,
       absl::StrCat(crash_points::kStockReceivedBeforeTx, ":1")},
      {"ack_before_fsync", System::kBroker, ""},
  };
  std::vector<std::string> uncaught;
  for (const Mutation& m : mutations) {
    ++suite.report().mutations_total;
    bool caught = false;
    for (int attempt = 0; attempt < kMutationAttempts && !caught; ++attempt)
      caught = !RunMutation(suite, m).empty();
    if (caught)
      ++suite.report().mutations_caught;
    else
      uncaught.push_back(m.name);
  }
  return uncaught;
}

}  // namespace txmsg::fault
