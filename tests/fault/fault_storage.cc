// The storage scenario: the broker's log on a file system that fails.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/crash_points.h"
#include "tests/fault/fault_scenarios.h"

namespace txmsg::fault {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;

// Orders per run.
constexpr int kPowerCutOrders = 40;
constexpr int kTornTailOrders = 60;
constexpr int kFsyncFailOrders = 60;
constexpr int kDiskFullOrders = 80;

constexpr int kPowerCuts = 3;
// Torn tails: the broker is killed kTornTails times, kOrdersPerTornTail
// accepted orders apart, and up to kMaxTornTailBytes of garbage appended.
constexpr size_t kTornTails = 2;
constexpr size_t kOrdersPerTornTail = 20;
constexpr uint64_t kMaxTornTailBytes = 200;
// fsyncs fail after kMinSyncsBeforeFailure + [0, kSyncsBeforeFailureRange) succeeded.
constexpr uint64_t kMinSyncsBeforeFailure = 5;
constexpr uint64_t kSyncsBeforeFailureRange = 30;
// The disk fills once this many orders were accepted.
constexpr size_t kOrdersBeforeDiskFull = 20;

// Power cuts at a random broker crash point: every byte not yet synced is
// lost, the tail torn at a random length.
Violations PowerCuts(FaultSuite& suite, std::mt19937_64& rng) {
  const std::vector<std::string> points(crash_points::kBroker.begin(), crash_points::kBroker.end());
  Violations v;
  for (int i = 0; i < kPowerCuts; ++i) {
    const std::string armed =
        absl::StrCat(points[rng() % points.size()], ":", 1 + rng() % kCrashHits);
    Append(v, suite.Run("power-cut-at-" + armed,
                        {{System::kBroker, {"TXMSG_CRASH_AT=" + armed, "TXMSG_TEST_POWER_CUT=1"}}},
                        kPowerCutOrders, [&](System& s, Workload& l) {
                          suite.RestartWhenDead(s, l, {System::kBroker});
                        }));
  }
  return v;
}

// kill -9 of the broker with random garbage appended to its last segment.
// `lost` collects what went wrong while disturbing.
Violations TornTails(FaultSuite& suite, std::mt19937_64& rng, Violations& lost) {
  return suite.Run("torn-tail", {}, kTornTailOrders, [&](System& s, Workload& l) {
    for (size_t k = 1; k <= kTornTails; ++k) {
      if (!WaitFor([&] { return l.accepted() >= k * kOrdersPerTornTail || l.done(); }, kStepWait))
        return;
      s.Signal(System::kBroker, SIGKILL);
      WaitFor([&] { return s.Exited(System::kBroker); }, kExitWait);
      ++suite.report().kills;
      const std::string tail = LastSegment(s.broker_dir());
      std::ofstream(tail, std::ios::binary | std::ios::app) << RandomBytes(rng, kMaxTornTailBytes);
      if (!s.Restart(System::kBroker))
        lost.push_back("broker did not start after a torn tail in " + tail);
    }
  });
}

// fsyncs fail after a few succeeded: the broker must stop, and recover
// once restarted on a sound disk.
Violations FsyncFails(FaultSuite& suite, std::mt19937_64& rng, Violations& lost) {
  const int kills_before = suite.report().kills;
  const uint64_t after = kMinSyncsBeforeFailure + rng() % kSyncsBeforeFailureRange;
  Violations v = suite.Run(
      "fsync-fails", {{System::kBroker, {absl::StrCat("TXMSG_TEST_FSYNC_FAIL_AFTER=", after)}}},
      kFsyncFailOrders,
      [&](System& s, Workload& l) { suite.RestartWhenDead(s, l, {System::kBroker}); });
  if (suite.report().kills == kills_before) lost.push_back("fsync-fails: the broker never stopped");
  return v;
}

// The disk full for a while: the broker must refuse, stay up, and resume
// once space is freed.
Violations DiskFull(FaultSuite& suite, Violations& lost) {
  testing::TempDir flags;
  const std::string full = flags.File("disk-full");
  return suite.Run(
      "disk-full", {{System::kBroker, {"TXMSG_TEST_DISK_FULL_FLAG=" + full}}}, kDiskFullOrders,
      [&](System& s, Workload& l) {
        if (!WaitFor([&] { return l.accepted() >= kOrdersBeforeDiskFull || l.done(); }, kStepWait))
          return;
        const int refused = l.refused();
        std::ofstream(full) << "full\n";
        std::this_thread::sleep_for(kLongFault);  // the fault: past the timeouts
        if (s.Exited(System::kBroker)) lost.push_back("disk-full: the broker died");
        if (l.refused() == refused && !l.done())
          lost.push_back("disk-full: no order was refused while the disk was full");
        std::filesystem::remove(full);
      });
}

}  // namespace

// Corruption inside a sealed segment is the broker integration test's: it
// must refuse to start, not lose data here.
Violations Storage(FaultSuite& suite, std::mt19937_64& rng) {
  Violations lost;  // seen while disturbing
  Violations v = PowerCuts(suite, rng);
  Append(v, TornTails(suite, rng, lost));
  Append(v, FsyncFails(suite, rng, lost));
  Append(v, DiskFull(suite, lost));
  for (const std::string& x : lost) std::printf("  [storage] violation: %s\n", x.c_str());
  Append(v, lost);
  return v;
}

}  // namespace txmsg::fault
