// Kills a real process that appends to the log with SIGKILL at random moments
// and checks, after each kill, that every append it had reported durable
// reads back intact.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "broker/log/log.h"
#include "gtest/gtest.h"
#include "tests/broker/log/log_test_util.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/subprocess.h"
#include "tests/testutil/temp_dir.h"

namespace txmsg::log {
namespace {

using namespace std::chrono_literals;
using txmsg::testing::Subprocess;

TEST(LogKillTest, EveryReportedAppendSurvivesSigkillAtRandomMoments) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  txmsg::testing::TempDir tmp;
  const std::string child = txmsg::testing::TestBinaryDir() + "/log_append_child";
  std::map<uint64_t, uint64_t> durable;  // position -> id, over every run
  constexpr int kKills = 60;
  for (int run = 0; run < kKills; ++run) {
    SCOPED_TRACE("run " + std::to_string(run) + ", seed " + std::to_string(seed));
    const int threads = 1 + static_cast<int>(rng() % 8);
    Subprocess proc(
        {child, tmp.path(), std::to_string(threads), std::to_string(uint64_t(run) * 100'000'000)});
    // Wait for a random number of durable appends, then kill on the spot.
    const int wait_for = static_cast<int>(rng() % 400);
    for (int i = 0; i < wait_for; ++i) {
      auto line = proc.ReadLine(10s);
      ASSERT_TRUE(line.has_value()) << "child stopped reporting";
      uint64_t pos, id;
      std::istringstream(*line) >> pos >> id;
      durable[pos] = id;
    }
    proc.Signal(SIGKILL);
    const int status = proc.Wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited: " << status;
    // Lines written before the kill are durable too.
    std::istringstream rest(proc.ReadAll(1s));
    uint64_t pos, id;
    while (rest >> pos >> id) durable[pos] = id;

    LogOptions options;
    options.dir = tmp.path();
    options.segment_size = 16 * 1024;
    ASSERT_OK_AND_ASSIGN(auto recovered, testing::OpenAndReplay(options));
    for (const auto& [p, i] : durable) {
      auto it = recovered.records.find(p);
      ASSERT_NE(it, recovered.records.end()) << "durable append " << i << " at " << p << " lost";
      ASSERT_EQ(it->second, testing::PayloadFor(i, 40 + i % 300)) << "at " << p;
    }
  }
  EXPECT_GT(durable.size(), 1000u);
}

}  // namespace
}  // namespace txmsg::log
