#include "service/service_util.h"

#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "base/fd_limit.h"
#include "base/listen.h"
#include "proto/json/proto_json.h"
#include "service/db/database_health.h"

namespace txmsg::service {

std::string TlsFlagsProblem(const ServiceTls& tls, const std::string& bind, bool insecure) {
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return "--tls_cert and --tls_key go together: give both or neither";
  }
  if (tls.broker.cert_file.empty() != tls.broker.key_file.empty()) {
    return "--broker_tls_cert and --broker_tls_key go together: give both or neither";
  }
  if (tls.broker.ca_file.empty() && !tls.broker.cert_file.empty()) {
    return "--broker_tls_cert needs --broker_tls_ca (the CA of the broker's certificate)";
  }
  return base::UnsafeBindReason(
      "HTTP", bind, {{!tls.cert_file.empty(), "--tls_cert FILE --tls_key FILE"}}, insecure);
}

absl::Status MaybeEnableHttps(const ServiceTls& tls, http::Server& server) {
  if (tls.cert_file.empty()) return absl::OkStatus();
  return server.EnableTls(tls.cert_file, tls.key_file);
}

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

void RaiseFdLimitOrWarn(const char* service) {
  absl::StatusOr<base::FdLimit> limit = base::RaiseFdLimit();
  if (!limit.ok()) {
    std::fprintf(stderr, "%s: %s\n", service, std::string(limit.status().message()).c_str());
  }
}

BrokerState BrokerStateOf(bool ready, bool responsive) {
  if (!ready) return BrokerState::kDisconnected;
  return responsive ? BrokerState::kConnected : BrokerState::kUnresponsive;
}

BrokerState Worst(BrokerState a, BrokerState b) {
  return static_cast<int>(a) > static_cast<int>(b) ? a : b;
}

http::Response HealthResponse(BrokerState broker, bool database_available) {
  const char* broker_text = broker == BrokerState::kConnected      ? "connected"
                            : broker == BrokerState::kUnresponsive ? "unresponsive"
                                                                   : "disconnected";
  const bool ok = broker == BrokerState::kConnected && database_available;
  return http::Response{ok ? 200 : 503,
                        json::Object({{"status", ok ? "ok" : "degraded"},
                                      {"broker", broker_text},
                                      {"database", database_available ? "ok" : "unavailable"}}) +
                            "\n"};
}

http::Response DatabaseErrorResponse(const absl::Status& s) {
  return http::JsonError(sql::DatabaseHealth::IsOutage(s) ? 503 : 500, std::string(s.message()));
}

}  // namespace txmsg::service
