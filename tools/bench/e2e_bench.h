// `txmsg-bench e2e`: orders through order-service and stock-service.
#ifndef TXMSG_TOOLS_BENCH_E2E_BENCH_H_
#define TXMSG_TOOLS_BENCH_E2E_BENCH_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace txmsg::bench {

struct E2eBenchOptions {
  std::string order = "127.0.0.1:8081";
  std::string stock = "127.0.0.1:8082";
  std::string broker = "127.0.0.1:9876";  // only to find its process for the CPU figures
  std::string tls_ca;  // the services serve HTTPS: trust this PEM CA ("" : plain HTTP)
  int64_t orders = 10'000;
  int concurrency = 32;  // HTTP connections, each with one order in flight at most
  // Orders go to products product .. product + products - 1, the first the
  // most often: a Zipf choice with exponent zipf_s (0: uniform).
  int64_t product = 1;
  int64_t products = 1;
  double zipf_s = 1.0;
  uint64_t seed = 1;           // of the product choice
  int64_t initial_stock = -1;  // per product; -1: 90% of the orders it gets, so some cancel
  int settle_timeout_s = 120;
  // Orders submitted per second, open loop (latency from each one's scheduled
  // time; at most `concurrency` in flight). 0: closed loop.
  double rate = 0;
  bool json = false;  // the result as one JSON document instead of text lines
  // The processes whose CPU is measured; 0: the one listening on the
  // address's port (on this machine).
  pid_t broker_pid = 0, order_pid = 0, stock_pid = 0;
};

// Runs the benchmark, printing progress to stderr and results (last line:
// RESULT ...; or one JSON document with `json`) to stdout. Returns 0, 1 if
// orders were left PENDING, 2 if the run could not start.
int RunE2eBench(const E2eBenchOptions& options);

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_E2E_BENCH_H_
