// `txmsg-bench broker`: end-to-end transactional messages through a broker.
#ifndef TXMSG_TOOLS_BENCH_BROKER_BENCH_H_
#define TXMSG_TOOLS_BENCH_BROKER_BENCH_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "txmsg/types.h"

namespace txmsg::bench {

struct BrokerBenchOptions {
  std::string broker = "127.0.0.1:9876";
  TlsOptions tls;  // --tls_ca etc.: measure over TLS
  uint64_t messages = 100'000;
  int producers = 2;
  int consumers = 2;
  size_t size = 200;
  int inflight = 512;  // transactions in flight per producer
  uint32_t max_unacked = 2'000;
  std::string topic;
  std::string group = "bench_group";
  std::chrono::seconds idle_timeout{30};
  // Transactions started per second, open loop (latency from each one's
  // scheduled time; at most producers x inflight in flight). 0: closed loop,
  // each finished transaction starts the next.
  double rate = 0;
  bool json = false;  // the result as one JSON document instead of text lines
  // A broker with --auth_file: the principal (produce and consume on the
  // bench's group and topic) and its secret.
  std::string user;
  std::string secret;
};

// Runs the benchmark, printing progress to stderr and results (last line:
// RESULT ...; or one JSON document with `json`) to stdout. Returns 0, or 1 if messages were lost or
// unexpected check-backs came.
int RunBrokerBench(const BrokerBenchOptions& options);

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_BROKER_BENCH_H_
