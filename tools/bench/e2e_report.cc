#include "tools/bench/e2e_report.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "tools/bench/json_text.h"

namespace txmsg::bench {
namespace {

// CPU microseconds per settled order of one process, or -1 if not measured.
double CpuUsPerOrder(const CpuMeter::Process& p, int64_t settled) {
  return p.seconds < 0 || settled <= 0 ? -1 : p.seconds * 1e6 / static_cast<double>(settled);
}

void PrintJson(const E2eBenchOptions& o, const E2eResult& r) {
  const double rate = static_cast<double>(r.settled()) / r.elapsed_s;
  JsonObjectWriter doc;
  doc.Str("bench", "e2e").Int("orders", o.orders).Int("concurrency", o.concurrency);
  doc.Int("first_product", o.product).Int("products", o.products).Num("zipf_s", o.zipf_s);
  if (o.rate > 0) {
    doc.Num("rate_target", o.rate);
  } else {
    doc.Null("rate_target");
  }
  doc.Num("elapsed_s", r.elapsed_s).Num("orders_per_s", rate);
  doc.Int("accepted", r.accepted).Int("refused", r.refused).Int("settled", r.settled());
  doc.Int("confirmed", r.confirmed).Int("cancelled", r.cancelled).Int("pending", r.pending);
  doc.Bool("settle_wait_ok", r.settle_wait_ok);
  doc.Obj("latency_ms", LatencyJson(r.settle_ms));
  doc.Obj("accept_latency_us", LatencyJson(r.accept_us));
  JsonObjectWriter cpu;
  for (const CpuMeter::Process& p : r.cpu) {
    JsonObjectWriter one;
    if (p.seconds < 0) {
      one.Null("pid").Null("seconds").Null("us_per_order");
    } else {
      one.Int("pid", p.pid).Str("name", ProcessName(p.pid)).Num("seconds", p.seconds);
      one.Num("us_per_order", CpuUsPerOrder(p, r.settled()));
    }
    cpu.Obj(p.role.c_str(), one);
  }
  doc.Obj("cpu", cpu);
  std::printf("%s\n", doc.str().c_str());
}

}  // namespace

void PrintE2eResult(const E2eBenchOptions& o, const E2eResult& r) {
  std::string cpu_line = "  cpu per order:";
  std::string cpu_result;  // appended to the RESULT line: -1 when not measured
  for (const CpuMeter::Process& p : r.cpu) {
    const double us = CpuUsPerOrder(p, r.settled());
    absl::StrAppendFormat(&cpu_line, " %s %s", p.role,
                          us < 0 ? "?" : absl::StrFormat("%.0f us", us));
    absl::StrAppendFormat(&cpu_result, " %s_cpu_us_per_order=%.0f", p.role, us);
  }
  std::fprintf(stderr, "%s\n", cpu_line.c_str());
  if (o.json) return PrintJson(o, r);
  std::printf(
      "%lld orders settled in %.2f s: %lld confirmed, %lld cancelled, %lld pending, %lld refused\n",
      static_cast<long long>(r.settled()), r.elapsed_s, static_cast<long long>(r.confirmed),
      static_cast<long long>(r.cancelled), static_cast<long long>(r.pending),
      static_cast<long long>(r.refused));
  const auto ms = [&](double p) {
    return static_cast<long long>(r.settle_ms.ValueAtPercentile(p));
  };
  std::printf(
      "RESULT orders_per_s=%.0f p50_ms=%lld p99_ms=%lld confirmed=%lld cancelled=%lld "
      "pending=%lld p90_ms=%lld p999_ms=%lld max_ms=%lld%s\n",
      static_cast<double>(r.settled()) / r.elapsed_s, ms(50), ms(99),
      static_cast<long long>(r.confirmed), static_cast<long long>(r.cancelled),
      static_cast<long long>(r.pending), ms(90), ms(99.9),
      static_cast<long long>(r.settle_ms.max()), cpu_result.c_str());
}

}  // namespace txmsg::bench
