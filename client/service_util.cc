#include "client/service_util.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "client/json/proto_json.h"

namespace txmsg::service {

std::string NewUuid() {
  static absl::Mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  uint64_t a, b;
  {
    absl::MutexLock lock(&mu);
    a = rng();
    b = rng();
  }
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                         b >> 48, b & 0xffffffffffffULL);
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

std::string PromLine(const std::string& name, const std::string& type, const std::string& help,
                     double value, const std::string& labels) {
  return absl::StrCat("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, labels,
                      " ", value, "\n");
}

http::Response HealthResponse(bool broker_up) {
  return http::Response{broker_up ? 200 : 503,
                        json::Object({{"status", broker_up ? "ok" : "degraded"},
                                      {"broker", broker_up ? "connected" : "disconnected"}}) +
                            "\n"};
}

}  // namespace txmsg::service
