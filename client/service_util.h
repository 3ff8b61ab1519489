// Small pieces both services need: UUIDs, a Prometheus line writer, a
// latency histogram, and parsing "1:100,2:50" style flags.
#ifndef TXMSG_CLIENT_SERVICE_UTIL_H_
#define TXMSG_CLIENT_SERVICE_UTIL_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "client/http/http_server.h"

namespace txmsg::service {

// A random (version 4) UUID. Thread-safe.
std::string NewUuid();

// Handler latency in buckets, lock-free. Render() gives Prometheus text.
class LatencyHistogram {
 public:
  void Observe(double seconds);
  std::string Render(const std::string& name, const std::string& help) const;

 private:
  static constexpr std::array<double, 10> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                     0.025,  0.05,  0.1,    0.5,   2.5};
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<uint64_t> sum_us_{0};
};

// "# HELP/# TYPE" + one sample line.
std::string PromLine(const std::string& name, const std::string& type, const std::string& help,
                     double value, const std::string& labels = "");

// The answer to GET /healthz: 200 {"status":"ok","broker":"connected"} while
// the service's broker clients are up, 503 "degraded"/"disconnected" if not.
http::Response HealthResponse(bool broker_up);

}  // namespace txmsg::service

#endif  // TXMSG_CLIENT_SERVICE_UTIL_H_
