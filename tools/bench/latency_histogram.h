// Latency histograms in the manner of HdrHistogram: log-linear buckets, fixed
// memory, bounded relative error.
//
// Values are non-negative integers in any unit (the bench records
// microseconds or milliseconds). Values below 128 are counted exactly; above,
// each power of two [2^k, 2^(k+1)) is cut into 128 equal sub-buckets, so a
// value is known to within 1/128 (0.78%) of itself. A percentile is reported
// as the upper end of its bucket (never below the true value, at most 0.78%
// above it) and never above the largest value recorded. The whole int64
// range fits in 7,296 counters (57 KiB).
#ifndef TXMSG_TOOLS_BENCH_LATENCY_HISTOGRAM_H_
#define TXMSG_TOOLS_BENCH_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace txmsg::bench {

namespace histogram_internal {
constexpr int kSubBucketBits = 7;
constexpr int64_t kSubBuckets = int64_t{1} << kSubBucketBits;  // 128
// Bucket 0 holds [0, 128) one by one; bucket b >= 1 holds [2^(b+6), 2^(b+7)).
constexpr size_t kCounters = static_cast<size_t>((63 - kSubBucketBits + 1) * kSubBuckets);

// Index of the counter for `value` (>= 0).
size_t IndexOf(int64_t value);
// Smallest and largest value that land in counter `index`.
int64_t LowestAt(size_t index);
int64_t HighestAt(size_t index);
}  // namespace histogram_internal

// A histogram for one thread (not thread-safe). Copyable; cheap to merge.
class LatencyHistogram {
 public:
  LatencyHistogram() { Reset(); }

  // Counts `value` (negative values count as 0).
  void Record(int64_t value);
  void Reset();
  // Adds every count of `other`.
  void Merge(const LatencyHistogram& other);
  // Removes the counts of `earlier`, an earlier snapshot of the same
  // histogram: what remains is what was recorded in between. min/max become
  // those of the remaining buckets (bucket-precise).
  void Subtract(const LatencyHistogram& earlier);

  uint64_t count() const { return count_; }
  // Exact smallest and largest value recorded; 0 when empty.
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return count_ == 0 ? 0 : max_; }
  double mean() const;
  // The value at `percentile` (0..100): the smallest value such that that
  // share of the counts is at or below it. 0 when empty; 100 gives max().
  int64_t ValueAtPercentile(double percentile) const;

 private:
  friend class ConcurrentLatencyHistogram;
  std::array<uint64_t, histogram_internal::kCounters> counts_;
  uint64_t count_ = 0;
  int64_t min_ = std::numeric_limits<int64_t>::max();
  int64_t max_ = 0;
  // Sum of values, for the mean; a long double keeps precision for long runs.
  long double sum_ = 0;
};

// The same histogram recorded from many threads at once without a lock
// (relaxed atomic counters). Snapshot() copies it into a LatencyHistogram for
// reading; a snapshot taken while others record is consistent per counter,
// which is all percentiles need.
class ConcurrentLatencyHistogram {
 public:
  ConcurrentLatencyHistogram();
  ConcurrentLatencyHistogram(const ConcurrentLatencyHistogram&) = delete;
  ConcurrentLatencyHistogram& operator=(const ConcurrentLatencyHistogram&) = delete;

  // Thread-safe and lock-free.
  void Record(int64_t value);
  LatencyHistogram Snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, histogram_internal::kCounters> counts_;
  std::atomic<int64_t> min_{std::numeric_limits<int64_t>::max()};
  std::atomic<int64_t> max_{0};
  std::atomic<uint64_t> sum_{0};  // wraps only after 2^64 units in total
};

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_LATENCY_HISTOGRAM_H_
