#include "base/prometheus.h"

#include "absl/strings/str_cat.h"

namespace txmsg::base {

void PrometheusWriter::Metric(const std::string& name, const char* type, const std::string& help,
                              double value, const std::string& labels) {
  Family(name, type, help);
  Sample(name, labels, value);
}

void PrometheusWriter::Metric(const std::string& name, const char* type, const std::string& help,
                              uint64_t value, const std::string& labels) {
  Family(name, type, help);
  Sample(name, labels, value);
}

void PrometheusWriter::Family(const std::string& name, const char* type,
                              const std::string& help) {
  absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void PrometheusWriter::Sample(const std::string& name, const std::string& labels, double value) {
  absl::StrAppend(&out_, name, labels, " ", value, "\n");
}

void PrometheusWriter::Sample(const std::string& name, const std::string& labels,
                              uint64_t value) {
  absl::StrAppend(&out_, name, labels, " ", value, "\n");
}

void LatencyHistogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string LatencyHistogram::Render(const std::string& name, const std::string& help) const {
  std::string out = absl::StrCat("# HELP ", name, " ", help, "\n# TYPE ", name, " histogram\n");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    absl::StrAppend(&out, name, "_bucket{le=\"",
                    i < kBounds.size() ? absl::StrCat(kBounds[i]) : "+Inf", "\"} ", cumulative,
                    "\n");
  }
  absl::StrAppend(&out, name, "_sum ", sum_us_.load() / 1e6, "\n", name, "_count ", cumulative,
                  "\n");
  return out;
}

}  // namespace txmsg::base
