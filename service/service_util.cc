#include "service/service_util.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "proto/json/proto_json.h"

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

http::Response HealthResponse(bool broker_up) {
  return http::Response{broker_up ? 200 : 503,
                        json::Object({{"status", broker_up ? "ok" : "degraded"},
                                      {"broker", broker_up ? "connected" : "disconnected"}}) +
                            "\n"};
}

}  // namespace txmsg::service
