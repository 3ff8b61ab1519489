#include "tools/bench/open_loop.h"

#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace txmsg::bench {
namespace {

using namespace std::chrono_literals;

struct Sent {
  uint64_t i;
  BenchClock::time_point due;
  BenchClock::time_point at;
};

TEST(OpenLoopScheduleTest, ItemsAreDueEvenlyFromTheStart) {
  const auto start = BenchClock::now();
  OpenLoopSchedule s(2000, start);
  EXPECT_EQ(s.Due(0), start);
  EXPECT_EQ(s.Due(1) - start, 500us);
  EXPECT_EQ(s.Due(2000) - start, 1s);
}

TEST(OpenLoopPacerTest, EveryItemGoesOutAtOrAfterItsDueTime) {
  absl::Mutex mu;
  std::vector<Sent> sent;
  OpenLoopPacer* pacer_ptr = nullptr;
  OpenLoopPacer pacer(1000, 50, 10, [&](uint64_t i, BenchClock::time_point due) {
    absl::MutexLock lock(&mu);
    sent.push_back({i, due, BenchClock::now()});
    pacer_ptr->Done();
  });
  pacer_ptr = &pacer;
  const auto start = BenchClock::now();
  pacer.Start();
  pacer.WaitAllSent();
  pacer.Stop();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(sent.size(), 50u);
  for (size_t k = 0; k < sent.size(); ++k) {
    EXPECT_EQ(sent[k].i, k);
    EXPECT_GE(sent[k].at, sent[k].due);
    EXPECT_GE(sent[k].due, start);
  }
  EXPECT_EQ(sent[49].due - sent[0].due, 49ms);
  EXPECT_EQ(pacer.cap_waits(), 0u);
}

TEST(OpenLoopPacerTest, AStallKeepsTheScheduleSoWaitingItemsCarryTheirWait) {
  absl::Mutex mu;
  std::vector<Sent> sent;
  OpenLoopPacer* pacer_ptr = nullptr;
  // One in flight at a time; the first item is not finished until the test
  // says so: the system under test "stalls".
  OpenLoopPacer pacer(1000, 20, 1, [&](uint64_t i, BenchClock::time_point due) {
    absl::MutexLock lock(&mu);
    sent.push_back({i, due, BenchClock::now()});
    if (i > 0) pacer_ptr->Done();
  });
  pacer_ptr = &pacer;
  pacer.Start();
  std::this_thread::sleep_for(30ms);  // the stall itself
  EXPECT_EQ(pacer.sent(), 1u);
  pacer.Done();
  pacer.WaitAllSent();
  pacer.Stop();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(sent.size(), 20u);
  EXPECT_EQ(pacer.cap_waits(), 1u);
  // Item 1 was due 1 ms in and went out after the stall; its due time stays.
  EXPECT_EQ(sent[1].due - sent[0].due, 1ms);
  EXPECT_GE(sent[1].at - sent[1].due, 25ms);
  EXPECT_EQ(sent[19].due - sent[0].due, 19ms);
}

TEST(OpenLoopPacerTest, StopEndsARunEarly) {
  OpenLoopPacer pacer(10, 1000, 1000, [](uint64_t, BenchClock::time_point) {});
  pacer.Start();
  pacer.Stop();
  EXPECT_LT(pacer.sent(), 1000u);
}

}  // namespace
}  // namespace txmsg::bench
