// Prometheus text exposition format (version 0.0.4), written by hand: a
// metric is "# HELP", "# TYPE" and one or more sample lines. Used by the
// broker's and the services' /metrics.
#ifndef TXMSG_BASE_PROMETHEUS_H_
#define TXMSG_BASE_PROMETHEUS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace txmsg::base {

// Appends metrics to one text. Not thread-safe; build one per scrape.
class PrometheusWriter {
 public:
  // One metric with one sample; `labels` is "" or "{k=\"v\",...}".
  // Counters and gauges of whole numbers print exactly (no exponent).
  void Metric(const std::string& name, const char* type, const std::string& help, double value,
              const std::string& labels = "");
  void Metric(const std::string& name, const char* type, const std::string& help, uint64_t value,
              const std::string& labels = "");
  // The "# HELP"/"# TYPE" header of a metric whose samples follow.
  void Family(const std::string& name, const char* type, const std::string& help);
  void Sample(const std::string& name, const std::string& labels, double value);
  void Sample(const std::string& name, const std::string& labels, uint64_t value);
  // Raw text (e.g. a histogram's Render()).
  void Append(const std::string& text) { out_ += text; }

  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// Handler latency in buckets, lock-free: Observe from any thread.
class LatencyHistogram {
 public:
  void Observe(double seconds);
  // The histogram as Prometheus text (buckets, _sum, _count).
  std::string Render(const std::string& name, const std::string& help) const;

 private:
  static constexpr std::array<double, 10> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                     0.025,  0.05,  0.1,    0.5,   2.5};
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<uint64_t> sum_us_{0};
};

}  // namespace txmsg::base

#endif  // TXMSG_BASE_PROMETHEUS_H_
