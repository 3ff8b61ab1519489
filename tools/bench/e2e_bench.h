// `txmsg-bench e2e`: orders through order-service and stock-service.
#ifndef TXMSG_TOOLS_BENCH_E2E_BENCH_H_
#define TXMSG_TOOLS_BENCH_E2E_BENCH_H_

#include <cstdint>
#include <string>

namespace txmsg::bench {

struct E2eBenchOptions {
  std::string order = "127.0.0.1:8081";
  std::string stock = "127.0.0.1:8082";
  int64_t orders = 10'000;
  int concurrency = 32;
  int64_t product = 1;
  int64_t initial_stock = -1;  // -1: 90% of the orders, so some are cancelled
  int settle_timeout_s = 120;
};

int RunE2eBench(const E2eBenchOptions& options);

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_E2E_BENCH_H_
