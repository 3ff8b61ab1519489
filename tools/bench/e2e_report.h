// How `txmsg-bench e2e` reports a run: text lines ending in the RESULT line
// that scripts parse, or one JSON document (--json).
#ifndef TXMSG_TOOLS_BENCH_E2E_REPORT_H_
#define TXMSG_TOOLS_BENCH_E2E_REPORT_H_

#include <cstdint>
#include <vector>

#include "tools/bench/e2e_bench.h"
#include "tools/bench/latency_histogram.h"
#include "tools/bench/proc_stats.h"

namespace txmsg::bench {

struct E2eResult {
  int64_t accepted = 0, refused = 0;
  int64_t confirmed = 0, cancelled = 0;
  int64_t pending = 0;          // still PENDING when read at the end
  bool settle_wait_ok = false;  // none of ours was PENDING before the timeout
  double elapsed_s = 0;         // first submit -> last final status
  LatencyHistogram settle_ms;   // intended submit -> final status, ms
  LatencyHistogram accept_us;   // intended submit -> submitOrder answered, us
  std::vector<CpuMeter::Process> cpu;
  int64_t settled() const { return confirmed + cancelled; }
};

// Prints `r` to stdout (text or, with options.json, JSON), and the CPU per
// order on stderr as well.
void PrintE2eResult(const E2eBenchOptions& options, const E2eResult& r);

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_E2E_REPORT_H_
