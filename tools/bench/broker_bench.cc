// txmsg-bench broker: transactional messages end to end through a running
// broker. Producers keep many transactions in flight (half -> no-op local
// transaction -> commit) with the SDK's asynchronous API; consumers ack every
// delivery. Measures msgs/s from the first send to the last delivery,
// send-to-delivery latency, and the check-backs received (for a message whose
// EndTx was already answered they are unexpected: must be 0).
//
// Closed loop (the default): each finished transaction starts the next, and
// latency counts from the first send. With a rate: open loop, each message is
// due at a fixed time and its latency counts from then (see open_loop.h).
#include "tools/bench/broker_bench.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/bench/broker_pipeline.h"
#include "tools/bench/json_text.h"
#include "tools/bench/progress.h"
#include "txmsg/consumer.h"

namespace txmsg::bench {
namespace {

// What the progress line showed last: the next shows the interval since.
struct ShownSoFar;

// One run: connects, sends, watches progress, reports.
class BrokerRun {
 public:
  explicit BrokerRun(const BrokerBenchOptions& o) : options_(o), counters_(o.messages) {
    counters_.run = std::random_device{}() | (static_cast<uint64_t>(std::random_device{}()) << 32);
    client_.broker = o.broker;
    client_.tls = o.tls;
    client_.request_timeout = std::chrono::seconds(30);
    client_.user = o.user;
    client_.secret = o.secret;
  }
  ~BrokerRun() { Shutdown(); }
  int Run();

 private:
  absl::Status StartConsumers();
  absl::Status StartProducers();
  void StartSending();
  void WaitUntilDone();
  bool Finished() const;
  // The last second's figures, or with `whole_run` the whole run's.
  void ShowProgress(ProgressLine& line, ShownSoFar& last, bool whole_run = false) const;
  // Stops everything that sends or receives; idempotent.
  void Shutdown();
  void Report() const;
  void OnDelivery(const Delivery& d);
  TxOutcome OnCheck(const CheckRequest& req);
  uint64_t Lost() const;

  const BrokerBenchOptions& options_;
  BrokerRunCounters counters_;
  ClientOptions client_;
  Retrier retrier_;
  std::unique_ptr<OpenLoopPacer> pacer_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  std::vector<std::unique_ptr<TransactionProducer>> producers_;
  std::vector<std::unique_ptr<TransactionPipeline>> pipelines_;
  int64_t start_us_ = 0;
  int64_t end_us_ = 0;
};

void BrokerRun::OnDelivery(const Delivery& d) {
  uint64_t seq;
  int64_t sent;
  const int64_t now = NowUs();
  if (!ParseBody(d.message.body, counters_.run, &seq, &sent)) {
    ++counters_.foreign;  // left by an earlier run: acked away
  } else if (seq < counters_.delivered.size()) {
    if (counters_.delivered[seq].exchange(1) == 0) {
      counters_.latency_us.Record(now - sent);
      ++counters_.unique;
      counters_.last_delivery_us = now;
    } else {
      ++counters_.duplicates;
    }
  }
}

TxOutcome BrokerRun::OnCheck(const CheckRequest& req) {
  uint64_t seq;
  int64_t sent;
  if (!ParseBody(req.message.body, counters_.run, &seq, &sent) ||
      seq >= counters_.committed_id.size()) {
    ++counters_.foreign;  // an earlier run's half: its producer is gone
    return TxOutcome::kRollback;
  }
  if (counters_.committed_id[seq] == req.message_id) {
    ++counters_.unexpected_checks;  // the broker had our answer already
  } else {
    ++counters_.expected_checks;  // not answered yet, or a half stored twice by a retry
  }
  return TxOutcome::kCommit;
}

absl::Status BrokerRun::StartConsumers() {
  for (int c = 0; c < options_.consumers; ++c) {
    ConsumerOptions co{client_, options_.topic, options_.group, options_.max_unacked};
    co.client.client_id = absl::StrCat("bench-consumer-", c);
    consumers_.push_back(
        std::make_unique<Consumer>(co, [this](Delivery d, std::function<void(ConsumeResult)> done) {
          OnDelivery(d);
          done(ConsumeResult::Success());
        }));
    if (absl::Status s = consumers_.back()->Start(); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("consumer cannot subscribe: ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status BrokerRun::StartProducers() {
  if (options_.rate > 0) {
    const uint64_t cap = static_cast<uint64_t>(options_.producers) * options_.inflight;
    pacer_ = std::make_unique<OpenLoopPacer>(
        options_.rate, options_.messages, cap, [this](uint64_t seq, BenchClock::time_point due) {
          pipelines_[seq % pipelines_.size()]->Send(seq, MicrosOf(due));
        });
  }
  for (int p = 0; p < options_.producers; ++p) {
    ClientOptions po = client_;
    po.client_id = absl::StrCat("bench-producer-", p);
    producers_.push_back(std::make_unique<TransactionProducer>(
        po, options_.group + "-producers",
        [this](const CheckRequest& req) { return OnCheck(req); }));
    if (absl::Status s = producers_.back()->Start(); !s.ok()) return s;
    pipelines_.push_back(std::make_unique<TransactionPipeline>(*producers_.back(), counters_,
                                                               retrier_, options_, pacer_.get()));
  }
  return absl::OkStatus();
}

void BrokerRun::StartSending() {
  std::string pacing = "closed loop";
  if (pacer_) pacing = absl::StrFormat("open loop at %.0f msgs/s", options_.rate);
  std::fprintf(stderr,
               "txmsg-bench broker: %llu messages of %zu bytes, %d producers x %d in flight, "
               "%d consumers, topic %s, %s\n",
               static_cast<unsigned long long>(options_.messages), options_.size,
               options_.producers, options_.inflight, options_.consumers, options_.topic.c_str(),
               pacing.c_str());
  start_us_ = NowUs();
  if (pacer_) {
    pacer_->Start();
    return;
  }
  for (auto& pipeline : pipelines_) {
    for (int i = 0; i < options_.inflight; ++i) pipeline->StartNext();
  }
}

struct ShownSoFar {
  LatencyHistogram latency;
  uint64_t done = 0;
  double secs = 0;
};

void BrokerRun::ShowProgress(ProgressLine& line, ShownSoFar& last, bool whole_run) const {
  const uint64_t unique = counters_.unique.load();
  const uint64_t committed = counters_.committed.load();
  const double secs = (NowUs() - start_us_) / 1e6;
  LatencyHistogram interval = counters_.latency_us.Snapshot();
  const LatencyHistogram all = interval;
  interval.Subtract(last.latency);
  const uint64_t done = options_.consumers == 0 ? committed : unique;
  const LatencyHistogram& latency = whole_run ? all : interval;
  const double rate = whole_run ? done / std::max(1e-3, secs)
                                : (done - last.done) / std::max(1e-3, secs - last.secs);
  line.Show(secs, done,
            absl::StrFormat("sent=%d committed=%d delivered=%d %.0f msgs/s p99=%s retries=%d%s",
                            counters_.sent.load(), committed, unique, rate,
                            latency.count() == 0 ? "-" : HumanMicros(latency.ValueAtPercentile(99)),
                            counters_.retries.load(), whole_run ? " (whole run)" : ""));
  last.latency = all;
  last.done = done;
  last.secs = secs;
}

bool BrokerRun::Finished() const {
  const uint64_t committed = counters_.committed.load();
  return counters_.sent.load() >= options_.messages && committed >= options_.messages &&
         (options_.consumers == 0 || counters_.unique.load() >= committed);
}

// Progress once a second until everything committed is delivered, or no
// progress for `idle_timeout`.
void BrokerRun::WaitUntilDone() {
  ProgressLine line(options_.messages);
  auto shown = std::make_unique<ShownSoFar>();
  uint64_t last_unique = 0;
  auto last_progress = BenchClock::now();
  auto next_show = BenchClock::now() + std::chrono::seconds(1);
  while (!Finished()) {
    // Looks often for the end, shows progress once a second.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (BenchClock::now() < next_show) continue;
    next_show += std::chrono::seconds(1);
    ShowProgress(line, *shown);
    const uint64_t unique = counters_.unique.load();
    if (unique != last_unique || options_.consumers == 0) {
      last_unique = unique;
      last_progress = BenchClock::now();
    }
    if (BenchClock::now() - last_progress > options_.idle_timeout) {
      line.Note(absl::StrFormat(
          "no progress for %d s: giving up waiting",
          std::chrono::duration_cast<std::chrono::seconds>(options_.idle_timeout).count()));
      break;
    }
  }
  // The final figures, unless the last line already had them.
  const uint64_t done =
      options_.consumers == 0 ? counters_.committed.load() : counters_.unique.load();
  if (done != shown->done || shown->secs == 0) ShowProgress(line, *shown, true);
}

void BrokerRun::Shutdown() {
  if (pacer_) pacer_->Stop();  // sends nothing more
  retrier_.Stop();             // no retry may reach a producer that is going away
  producers_.clear();          // their last callbacks still use the pipelines and the pacer
  pipelines_.clear();
  consumers_.clear();
}

uint64_t BrokerRun::Lost() const {
  // Without consumers nothing is delivered: nothing counts as lost.
  const uint64_t unique = counters_.unique.load();
  const uint64_t committed = counters_.committed.load();
  return options_.consumers == 0 || committed <= unique ? 0 : committed - unique;
}

void BrokerRun::Report() const {
  const LatencyHistogram lat = counters_.latency_us.Snapshot();
  const uint64_t unique = counters_.unique.load();
  const uint64_t committed = counters_.committed.load();
  const uint64_t lost = Lost();
  const double secs = (end_us_ - start_us_) / 1e6;
  // Without consumers the rate is of commits.
  const double rate = (options_.consumers == 0 ? committed : unique) / secs;
  const auto u = [](const std::atomic<uint64_t>& v) { return static_cast<int64_t>(v.load()); };
  if (options_.json) {
    JsonObjectWriter o;
    o.Str("bench", "broker").Str("run_id", absl::StrCat(absl::Hex(counters_.run)));
    o.Str("topic", options_.topic).Int("messages", static_cast<int64_t>(options_.messages));
    o.Int("size", static_cast<int64_t>(options_.size)).Int("producers", options_.producers);
    o.Int("inflight", options_.inflight).Int("consumers", options_.consumers);
    if (options_.rate > 0)
      o.Num("rate_target", options_.rate);
    else
      o.Null("rate_target");
    o.Num("elapsed_s", secs).Num("msgs_per_s", rate).Int("sent", u(counters_.sent));
    o.Int("committed", static_cast<int64_t>(committed))
        .Int("delivered", static_cast<int64_t>(unique));
    o.Int("lost", static_cast<int64_t>(lost)).Int("duplicates", u(counters_.duplicates));
    o.Int("retries", u(counters_.retries)).Int("expected_checks", u(counters_.expected_checks));
    o.Int("unexpected_checks", u(counters_.unexpected_checks)).Int("foreign", u(counters_.foreign));
    o.Int("cap_waits", pacer_ ? static_cast<int64_t>(pacer_->cap_waits()) : 0);
    o.Obj("latency_us", LatencyJson(lat));
    std::printf("%s\n", o.str().c_str());
    return;
  }
  std::printf("delivered %llu of %llu committed in %.2f s\n",
              static_cast<unsigned long long>(unique), static_cast<unsigned long long>(committed),
              secs);
  std::printf(
      "check-backs: expected=%lld unexpected=%lld; duplicate deliveries=%lld; retries=%lld; "
      "left by earlier runs=%lld\n",
      static_cast<long long>(u(counters_.expected_checks)),
      static_cast<long long>(u(counters_.unexpected_checks)),
      static_cast<long long>(u(counters_.duplicates)), static_cast<long long>(u(counters_.retries)),
      static_cast<long long>(u(counters_.foreign)));
  std::printf(
      "RESULT msgs_per_s=%.0f p50_us=%lld p99_us=%lld p999_us=%lld unexpected_checks=%lld "
      "lost=%llu p90_us=%lld max_us=%lld\n",
      rate, static_cast<long long>(lat.ValueAtPercentile(50)),
      static_cast<long long>(lat.ValueAtPercentile(99)),
      static_cast<long long>(lat.ValueAtPercentile(99.9)),
      static_cast<long long>(u(counters_.unexpected_checks)), static_cast<unsigned long long>(lost),
      static_cast<long long>(lat.ValueAtPercentile(90)), static_cast<long long>(lat.max()));
}

int BrokerRun::Run() {
  absl::Status s = StartConsumers();
  if (s.ok()) s = StartProducers();
  if (!s.ok()) {
    std::fprintf(stderr, "txmsg-bench: %s\n", s.ToString().c_str());
    return 2;
  }
  StartSending();
  WaitUntilDone();
  end_us_ = options_.consumers == 0 ? NowUs()
                                    : std::max(counters_.last_delivery_us.load(), start_us_ + 1);
  Shutdown();
  Report();
  return Lost() == 0 && counters_.unexpected_checks == 0 ? 0 : 1;
}

}  // namespace

int RunBrokerBench(const BrokerBenchOptions& options) {
  auto run = std::make_unique<BrokerRun>(options);
  return run->Run();
}

}  // namespace txmsg::bench
