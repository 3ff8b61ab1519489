// The seeded simulation of the broker core (simulation.h; docs/testing.md
// says how it works and which broken rules it was shown to catch).
//
//   TXMSG_SIM_SEED=N     replay the run of seed N exactly (default: a new seed)
//   TXMSG_SIM_STEPS=N    run N steps (default 100,000)
//   TXMSG_SIM_VERBOSE=1  keep the core's event log on stderr (default: muted)
//
// The seed is printed first; a failure prints the seed, the step and the
// last steps before it.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/broker/core/simulation.h"

namespace txmsg::broker::testing {
namespace {

constexpr uint64_t kDefaultSteps = 100'000;
constexpr uint64_t kReplaySteps = 3'000;

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  uint64_t n = 0;
  if (value == nullptr || !absl::SimpleAtoi(value, &n)) return fallback;
  return n;
}

// The core logs every check-back and connection on stderr; a long run
// would bury the test's own output.
class MutedStderr {
 public:
  MutedStderr() {
    if (std::getenv("TXMSG_SIM_VERBOSE") != nullptr) return;
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDERR_FILENO);
    ::close(null);
  }
  ~MutedStderr() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }
  MutedStderr(const MutedStderr&) = delete;
  MutedStderr& operator=(const MutedStderr&) = delete;

 private:
  int saved_ = -1;
};

TEST(CoreSimulationTest, InvariantsHoldThroughRandomStepsFaultsAndRestarts) {
  const uint64_t seed = EnvNumber("TXMSG_SIM_SEED", std::random_device{}());
  const uint64_t steps = EnvNumber("TXMSG_SIM_STEPS", kDefaultSteps);
  std::printf("simulation: TXMSG_SIM_SEED=%llu TXMSG_SIM_STEPS=%llu\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(steps));
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  SimulationResult result;
  {
    MutedStderr muted;
    Simulation sim(seed);
    result = sim.Run(steps);
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::printf("simulation: %llu steps in %lld ms, digest %016llx\n",
              static_cast<unsigned long long>(result.steps), static_cast<long long>(ms),
              static_cast<unsigned long long>(result.digest));
  for (const auto& [action, n] : result.actions) {
    std::printf("  %-22s %llu\n", action.c_str(), static_cast<unsigned long long>(n));
  }
  ASSERT_TRUE(result.violation.empty())
      << "seed " << seed << ", step " << result.steps << ": " << result.violation
      << "\nreplay with TXMSG_SIM_SEED=" << seed << "\nlast steps:\n"
      << absl::StrJoin(result.trace, "\n");
}

TEST(CoreSimulationTest, TheSameSeedReplaysTheSameRun) {
  const uint64_t seed = EnvNumber("TXMSG_SIM_SEED", std::random_device{}());
  SimulationResult first, second;
  {
    MutedStderr muted;
    first = Simulation(seed).Run(kReplaySteps);
    second = Simulation(seed).Run(kReplaySteps);
  }
  ASSERT_TRUE(first.violation.empty()) << "seed " << seed << ": " << first.violation;
  EXPECT_EQ(first.steps, second.steps);
  EXPECT_EQ(first.digest, second.digest) << "seed " << seed << " ran differently twice:\n"
                                         << absl::StrJoin(first.trace, "\n") << "\n---\n"
                                         << absl::StrJoin(second.trace, "\n");
}

}  // namespace
}  // namespace txmsg::broker::testing
