#include "tools/bench/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace txmsg::bench {

namespace histogram_internal {

size_t IndexOf(int64_t value) {
  if (value < kSubBuckets) return static_cast<size_t>(std::max<int64_t>(value, 0));
  const int msb = 63 - __builtin_clzll(static_cast<uint64_t>(value));  // >= kSubBucketBits
  const int shift = msb - kSubBucketBits;
  const int64_t sub = (value >> shift) - kSubBuckets;  // 0 .. kSubBuckets - 1
  return static_cast<size_t>((shift + 1) * kSubBuckets + sub);
}

int64_t LowestAt(size_t index) {
  const int64_t bucket = static_cast<int64_t>(index) / kSubBuckets;
  const int64_t sub = static_cast<int64_t>(index) % kSubBuckets;
  if (bucket == 0) return sub;
  return (kSubBuckets + sub) << (bucket - 1);
}

int64_t HighestAt(size_t index) {
  const int64_t bucket = static_cast<int64_t>(index) / kSubBuckets;
  if (bucket == 0) return LowestAt(index);
  return LowestAt(index) + ((int64_t{1} << (bucket - 1)) - 1);
}

}  // namespace histogram_internal

namespace hi = histogram_internal;

void LatencyHistogram::Record(int64_t value) {
  value = std::max<int64_t>(value, 0);
  ++counts_[hi::IndexOf(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += value;
}

void LatencyHistogram::Reset() {
  counts_.fill(0);
  count_ = 0;
  min_ = std::numeric_limits<int64_t>::max();
  max_ = 0;
  sum_ = 0;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < hi::kCounters; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  if (other.count_ > 0) {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  sum_ += other.sum_;
}

void LatencyHistogram::Subtract(const LatencyHistogram& earlier) {
  count_ = 0;
  min_ = std::numeric_limits<int64_t>::max();
  max_ = 0;
  for (size_t i = 0; i < hi::kCounters; ++i) {
    counts_[i] -= std::min(counts_[i], earlier.counts_[i]);
    if (counts_[i] == 0) continue;
    count_ += counts_[i];
    min_ = std::min(min_, hi::LowestAt(i));
    max_ = std::max(max_, hi::HighestAt(i));
  }
  sum_ = std::max<long double>(0, sum_ - earlier.sum_);
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / count_);
}

int64_t LatencyHistogram::ValueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  if (percentile <= 0) return min();
  if (percentile >= 100) return max();
  const auto wanted = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < hi::kCounters; ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::max(min(), std::min(hi::HighestAt(i), max()));
  }
  return max();
}

ConcurrentLatencyHistogram::ConcurrentLatencyHistogram() {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
}

void ConcurrentLatencyHistogram::Record(int64_t value) {
  value = std::max<int64_t>(value, 0);
  counts_[hi::IndexOf(value)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(static_cast<uint64_t>(value), std::memory_order_relaxed);
  int64_t seen = min_.load(std::memory_order_relaxed);
  while (value < seen && !min_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
  seen = max_.load(std::memory_order_relaxed);
  while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

LatencyHistogram ConcurrentLatencyHistogram::Snapshot() const {
  LatencyHistogram h;
  for (size_t i = 0; i < hi::kCounters; ++i) {
    h.counts_[i] = counts_[i].load(std::memory_order_relaxed);
    h.count_ += h.counts_[i];
  }
  h.min_ = min_.load(std::memory_order_relaxed);
  h.max_ = max_.load(std::memory_order_relaxed);
  h.sum_ = sum_.load(std::memory_order_relaxed);
  return h;
}

}  // namespace txmsg::bench
