#include "tools/bench/latency_histogram.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace txmsg::bench {
namespace {

// Within `rel` of `expected`, relative.
void ExpectNear(int64_t actual, double expected, double rel) {
  EXPECT_NEAR(static_cast<double>(actual), expected, expected * rel)
      << "actual " << actual << ", expected " << expected;
}

TEST(LatencyHistogramTest, EmptyHistogramReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_EQ(h.ValueAtPercentile(99.9), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.ValueAtPercentile(50), 50);
  EXPECT_EQ(h.ValueAtPercentile(90), 90);
  EXPECT_EQ(h.ValueAtPercentile(99), 99);
  EXPECT_EQ(h.ValueAtPercentile(100), 100);
  EXPECT_EQ(h.min(), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogramTest, PercentilesOfAUniformMillionAreWithinOnePercent) {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 1'000'000; ++v) h.Record(v);
  ExpectNear(h.ValueAtPercentile(50), 500'000, 0.01);
  ExpectNear(h.ValueAtPercentile(90), 900'000, 0.01);
  ExpectNear(h.ValueAtPercentile(99), 990'000, 0.01);
  ExpectNear(h.ValueAtPercentile(99.9), 999'000, 0.01);
  EXPECT_EQ(h.max(), 1'000'000);
  EXPECT_EQ(h.ValueAtPercentile(100), 1'000'000);
  EXPECT_EQ(h.count(), 1'000'000u);
}

TEST(LatencyHistogramTest, APercentileIsNeverBelowTheTrueValueNorAboveTheMax) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(8.0, 1.5);  // latencies in us, long tail
  std::vector<int64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 200'000; ++i) {
    values.push_back(static_cast<int64_t>(dist(rng)));
    h.Record(values.back());
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const int64_t truth = values[static_cast<size_t>(p / 100 * values.size()) - 1];
    const int64_t got = h.ValueAtPercentile(p);
    EXPECT_GE(got, truth) << "p" << p;
    EXPECT_LE(static_cast<double>(got), truth * 1.01 + 1) << "p" << p;
  }
  EXPECT_EQ(h.max(), values.back());
}

TEST(LatencyHistogramTest, EveryValueLandsInABucketThatHoldsIt) {
  using namespace histogram_internal;
  for (int64_t v :
       {int64_t{0}, int64_t{127}, int64_t{128}, int64_t{129}, int64_t{255}, int64_t{256},
        int64_t{1'000'003}, int64_t{1} << 40, std::numeric_limits<int64_t>::max()}) {
    const size_t i = IndexOf(v);
    ASSERT_LT(i, kCounters) << v;
    EXPECT_LE(LowestAt(i), v);
    EXPECT_GE(HighestAt(i), v);
    EXPECT_LE(static_cast<double>(HighestAt(i) - LowestAt(i)), LowestAt(i) / 127.0 + 1) << v;
  }
}

TEST(LatencyHistogramTest, NegativeValuesCountAsZero) {
  LatencyHistogram h;
  h.Record(-5);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), 0);
}

TEST(LatencyHistogramTest, MergeAddsCountsAndKeepsExtremes) {
  LatencyHistogram a, b;
  for (int v = 1; v <= 50; ++v) a.Record(v);
  for (int v = 51; v <= 100; ++v) b.Record(v);
  a.Merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_EQ(a.min(), 1);
  EXPECT_EQ(a.max(), 100);
  EXPECT_EQ(a.ValueAtPercentile(50), 50);
}

TEST(LatencyHistogramTest, SubtractingAnEarlierSnapshotLeavesTheInterval) {
  ConcurrentLatencyHistogram h;
  for (int i = 0; i < 1000; ++i) h.Record(10);
  const LatencyHistogram before = h.Snapshot();
  for (int i = 0; i < 100; ++i) h.Record(5000);
  LatencyHistogram interval = h.Snapshot();
  interval.Subtract(before);
  EXPECT_EQ(interval.count(), 100u);
  ExpectNear(interval.ValueAtPercentile(50), 5000, 0.01);
  EXPECT_GE(interval.min(), 4900);
}

TEST(LatencyHistogramTest, ConcurrentRecordsFromManyThreadsAreAllCounted) {
  ConcurrentLatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int64_t v = 1; v <= 100'000; ++v) h.Record(v + t);
    });
  }
  for (auto& t : threads) t.join();
  const LatencyHistogram s = h.Snapshot();
  EXPECT_EQ(s.count(), 400'000u);
  EXPECT_EQ(s.min(), 1);
  EXPECT_EQ(s.max(), 100'003);
  ExpectNear(s.ValueAtPercentile(50), 50'000, 0.01);
  EXPECT_NEAR(s.mean(), 50'002.0, 1.0);
}

}  // namespace
}  // namespace txmsg::bench
