// txmsg-bench e2e: submits orders over keep-alive HTTP connections, waits
// until every one is CONFIRMED or CANCELLED, then reads each order's final
// time to measure submit-to-final latency. Measures the CPU each server
// process used over the run (from /proc), per order settled.
//
// Closed loop (the default): each connection submits its next order as soon
// as the last is answered. With a rate: open loop, order i is due at a fixed
// time, latency counts from then, and at most `concurrency` are in flight.
#include "tools/bench/e2e_bench.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "tools/bench/e2e_report.h"
#include "tools/bench/http_client.h"
#include "tools/bench/json_text.h"
#include "tools/bench/latency_histogram.h"
#include "tools/bench/open_loop.h"
#include "tools/bench/proc_stats.h"
#include "tools/bench/progress.h"
#include "tools/bench/zipf.h"

namespace txmsg::bench {
namespace {

namespace http = boost::beast::http;

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Orders asked for per poll of the PENDING list.
constexpr size_t kPollLimit = 1000;

class E2eRun {
 public:
  explicit E2eRun(const E2eBenchOptions& o)
      : o_(o), order_nos_(o.orders), product_of_(o.orders), intended_us_(o.orders, 0) {}
  int Run();

 private:
  void PlanOrders();
  bool SetUpStock();
  void FindProcesses();
  void SubmitAll();
  void ShowSubmitProgress(const absl::Notification& submitted);
  void SubmitFrom(HttpClient& client, const std::optional<OpenLoopSchedule>& schedule);
  void WaitSettled();
  void ReadFinal();
  void Report() const;

  const E2eBenchOptions& o_;
  std::vector<std::string> order_nos_;  // "" until accepted
  std::vector<int64_t> product_of_;
  std::vector<int64_t> intended_us_;  // wall clock: when each order was due or submitted
  std::map<int64_t, int64_t> stock_of_;
  ConcurrentLatencyHistogram accept_us_;  // intended -> submitOrder answered
  LatencyHistogram settle_ms_;            // intended -> final status (the server's time)
  CpuMeter cpu_;
  std::atomic<int64_t> next_{0}, accepted_{0}, refused_{0};
  int64_t start_us_ = 0;
  int64_t pending_ = -1;  // ours still PENDING after the wait: 0 or unknown (-1)
  int64_t confirmed_ = 0, cancelled_ = 0, still_pending_ = 0, last_final_ms_ = 0;
};

// The product of each order (a Zipf choice), and the stock of each product:
// 90% of the orders it gets unless --initial_stock says otherwise.
void E2eRun::PlanOrders() {
  ZipfPicker zipf(o_.products, o_.zipf_s);
  std::mt19937_64 rng(o_.seed);
  std::map<int64_t, int64_t> orders_of;
  for (int64_t p = 0; p < o_.products; ++p) orders_of[o_.product + p] = 0;
  for (int64_t& product : product_of_) {
    product = o_.product + zipf.Pick(rng) - 1;
    ++orders_of[product];
  }
  for (const auto& [product, n] : orders_of) {
    stock_of_[product] = o_.initial_stock >= 0 ? o_.initial_stock : n * 9 / 10;
  }
}

bool E2eRun::SetUpStock() {
  HttpClient admin(o_.stock, o_.tls_ca);
  for (const auto& [product, stock] : stock_of_) {
    auto [status, body] = admin.Call(http::verb::put, absl::StrCat("/stock/products/", product),
                                     absl::StrCat("{\"totalCount\": ", stock, "}"));
    if (status != 200) {
      std::fprintf(stderr, "txmsg-bench: cannot set stock at %s (status %d): %s\n",
                   o_.stock.c_str(), status, body.c_str());
      return false;
    }
  }
  return true;
}

// The three server processes (and this one), by pid or by listening port.
void E2eRun::FindProcesses() {
  const std::vector<std::tuple<const char*, pid_t, std::string>> roles = {
      {"broker", o_.broker_pid, o_.broker},
      {"order", o_.order_pid, o_.order},
      {"stock", o_.stock_pid, o_.stock}};
  for (const auto& [role, given, address] : roles) {
    pid_t pid = given;
    if (pid <= 0) {
      absl::StatusOr<uint16_t> port = PortOf(address);
      absl::StatusOr<pid_t> found = port.ok() ? FindListeningPid(*port) : port.status();
      if (!found.ok()) {
        std::fprintf(stderr, "  cpu: %s not measured: %s\n", role,
                     found.status().ToString().c_str());
      }
      pid = found.value_or(-1);
    }
    if (pid > 0) {
      std::fprintf(stderr, "  cpu: %s is pid %d (%s)\n", role, static_cast<int>(pid),
                   ProcessName(pid).c_str());
    }
    cpu_.Add(role, pid);
  }
  cpu_.Add("bench", getpid());
}

void E2eRun::SubmitFrom(HttpClient& client, const std::optional<OpenLoopSchedule>& schedule) {
  for (int64_t i = next_++; i < o_.orders; i = next_++) {
    BenchClock::time_point intended = BenchClock::now();
    if (schedule) {
      intended = schedule->Due(static_cast<uint64_t>(i));
      std::this_thread::sleep_until(intended);
    }
    // The same moment on the wall clock, which the services' times use.
    intended_us_[i] =
        WallUs() -
        std::chrono::duration_cast<std::chrono::microseconds>(BenchClock::now() - intended).count();
    const std::string body = absl::StrCat("{\"productId\": ", product_of_[i], ", \"payCount\": 1}");
    auto [status, reply] = client.Call(http::verb::post, "/order/submitOrder", body);
    accept_us_.Record(
        std::chrono::duration_cast<std::chrono::microseconds>(BenchClock::now() - intended)
            .count());
    if (status == 200) {
      order_nos_[i] = JsonStringField(reply, "orderNo");
      ++accepted_;
    } else {
      ++refused_;
    }
  }
}

// Progress once a second while orders are submitted, and once at the end.
void E2eRun::ShowSubmitProgress(const absl::Notification& submitted) {
  ProgressLine line(static_cast<uint64_t>(o_.orders));
  LatencyHistogram seen;
  int64_t last_done = 0;
  double last_secs = 0;
  for (bool finished = false; !finished;) {
    finished = submitted.WaitForNotificationWithTimeout(absl::Seconds(1));
    const double secs = (WallUs() - start_us_) / 1e6;
    LatencyHistogram interval = accept_us_.Snapshot();
    const LatencyHistogram all = interval;
    interval.Subtract(seen);
    seen = all;
    const int64_t done = accepted_ + refused_;
    if (finished && done == last_done && last_secs > 0) break;  // shown already
    // Each second the last second's figures; at the end the whole run's.
    const LatencyHistogram& latency = finished ? all : interval;
    const double rate = finished ? done / std::max(1e-3, secs)
                                 : (done - last_done) / std::max(1e-3, secs - last_secs);
    line.Show(
        secs, static_cast<uint64_t>(done),
        absl::StrFormat("submitted=%d refused=%d %.0f orders/s accept p99=%s%s", accepted_.load(),
                        refused_.load(), rate,
                        latency.count() == 0 ? "-" : HumanMicros(latency.ValueAtPercentile(99)),
                        finished ? " (whole run)" : ""));
    last_done = done;
    last_secs = secs;
  }
}

void E2eRun::SubmitAll() {
  std::optional<OpenLoopSchedule> schedule;
  if (o_.rate > 0) schedule.emplace(o_.rate, BenchClock::now());
  start_us_ = WallUs();
  cpu_.Start();
  std::vector<std::thread> workers;
  for (int c = 0; c < o_.concurrency; ++c) {
    workers.emplace_back([this, &schedule] {
      HttpClient client(o_.order, o_.tls_ca);
      SubmitFrom(client, schedule);
    });
  }
  absl::Notification submitted;
  std::thread progress_thread([this, &submitted] { ShowSubmitProgress(submitted); });
  for (auto& w : workers) w.join();
  submitted.Notify();
  progress_thread.join();
  std::fprintf(stderr,
               "  all submitted in %.2f s (%lld accepted, %lld refused); waiting to settle\n",
               (WallUs() - start_us_) / 1e6, static_cast<long long>(accepted_.load()),
               static_cast<long long>(refused_.load()));
}

// Waits until none of this run's orders is PENDING. Other PENDING orders
// (another client's, or a killed earlier run's) are not ours to wait for.
void E2eRun::WaitSettled() {
  const std::unordered_set<std::string> ours(order_nos_.begin(), order_nos_.end());
  HttpClient poll(o_.order, o_.tls_ca);
  const int64_t since_us = WallUs();
  int64_t last_shown_us = since_us;
  while (WallUs() - since_us < o_.settle_timeout_s * 1'000'000LL) {
    auto [status, reply] =
        poll.Call(http::verb::get, absl::StrCat("/order/orders?status=PENDING&limit=", kPollLimit));
    if (status == 200) {
      const std::vector<std::string> listed = JsonStringFields(reply, "orderNo");
      const auto ours_pending = std::count_if(
          listed.begin(), listed.end(), [&](const std::string& no) { return ours.count(no) > 0; });
      // A full page may hide ours behind others: then look again.
      if (ours_pending == 0 && listed.size() < kPollLimit) {
        pending_ = 0;
        break;
      }
      if (WallUs() - last_shown_us >= 1'000'000) {
        last_shown_us = WallUs();
        std::fprintf(stderr, "  %5.1fs settling: %lld of ours pending\n",
                     (last_shown_us - start_us_) / 1e6, static_cast<long long>(ours_pending));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  cpu_.Stop();  // before the final reads below, which are not order processing
}

// Each order's final status and time.
void E2eRun::ReadFinal() {
  std::vector<int64_t> latency_ms(o_.orders, -1);
  std::atomic<int64_t> confirmed{0}, cancelled{0}, still_pending{0}, last_final{0};
  next_ = 0;
  std::vector<std::thread> workers;
  for (int c = 0; c < o_.concurrency; ++c) {
    workers.emplace_back([&] {
      HttpClient client(o_.order, o_.tls_ca);
      for (int64_t i = next_++; i < o_.orders; i = next_++) {
        if (order_nos_[i].empty()) continue;
        auto [status, reply] = client.Call(http::verb::get, "/order/orders/" + order_nos_[i]);
        const std::string s = JsonStringField(reply, "status");
        if (s != "CONFIRMED" && s != "CANCELLED") {
          ++still_pending;
          continue;
        }
        ++(s == "CONFIRMED" ? confirmed : cancelled);
        const int64_t final_ms = JsonIntField(reply, "updateTimeMs").value_or(-1);
        latency_ms[i] = std::max<int64_t>(0, final_ms - intended_us_[i] / 1000);
        int64_t prev = last_final.load();
        while (final_ms > prev && !last_final.compare_exchange_weak(prev, final_ms)) {
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  for (int64_t l : latency_ms) {
    if (l >= 0) settle_ms_.Record(l);
  }
  confirmed_ = confirmed;
  cancelled_ = cancelled;
  still_pending_ = still_pending;
  last_final_ms_ = last_final;
}

void E2eRun::Report() const {
  auto r = std::make_unique<E2eResult>();  // two histograms: 114 KiB
  r->accepted = accepted_;
  r->refused = refused_;
  r->confirmed = confirmed_;
  r->cancelled = cancelled_;
  r->pending = still_pending_;
  r->settle_wait_ok = pending_ == 0;
  r->elapsed_s = std::max<int64_t>(1, last_final_ms_ - start_us_ / 1000) / 1000.0;
  r->settle_ms = settle_ms_;
  r->accept_us = accept_us_.Snapshot();
  r->cpu = cpu_.processes();
  PrintE2eResult(o_, *r);
}

int E2eRun::Run() {
  PlanOrders();
  if (!SetUpStock()) return 2;
  std::string pacing = "closed loop";
  if (o_.rate > 0) pacing = absl::StrFormat("open loop at %.0f orders/s", o_.rate);
  std::fprintf(
      stderr,
      "txmsg-bench e2e: %lld orders of 1 unit over %lld product(s) from %lld (zipf s=%.2f), "
      "%d connections, %s\n",
      static_cast<long long>(o_.orders), static_cast<long long>(o_.products),
      static_cast<long long>(o_.product), o_.zipf_s, o_.concurrency, pacing.c_str());
  FindProcesses();
  SubmitAll();
  WaitSettled();
  ReadFinal();
  Report();
  return still_pending_ == 0 && pending_ == 0 ? 0 : 1;
}

}  // namespace

int RunE2eBench(const E2eBenchOptions& options) {
  auto run = std::make_unique<E2eRun>(options);
  return run->Run();
}

}  // namespace txmsg::bench
