// txmsg-bench broker: transactional messages end to end through a running
// broker. Producers keep many transactions in flight (half -> no-op local
// transaction -> commit) with the SDK's asynchronous API; consumers ack every
// delivery. Measures msgs/s from the first send to the last delivery,
// send-to-delivery latency, and the check-backs received (for a message whose
// EndTx was already answered they are unexpected: must be 0).
#include "tools/bench/broker_bench.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "txmsg/consumer.h"
#include "txmsg/producer.h"

namespace txmsg::bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

// Body: run id (8 bytes) | seq (8 bytes) | send time in us (8 bytes) | padding.
// The run id tells this run's messages from those an earlier, killed run
// left behind in the same group.
constexpr size_t kBodyHeader = 24;

std::string MakeBody(uint64_t run, uint64_t seq, size_t size) {
  std::string body(std::max(size, kBodyHeader), 'p');
  const int64_t now = NowUs();
  std::memcpy(body.data(), &run, 8);
  std::memcpy(body.data() + 8, &seq, 8);
  std::memcpy(body.data() + 16, &now, 8);
  return body;
}

// False for a body that is not this run's.
bool ParseBody(const std::string& body, uint64_t run, uint64_t* seq, int64_t* sent_us) {
  if (body.size() < kBodyHeader) return false;
  uint64_t body_run = 0;
  std::memcpy(&body_run, body.data(), 8);
  if (body_run != run) return false;
  std::memcpy(seq, body.data() + 8, 8);
  std::memcpy(sent_us, body.data() + 16, 8);
  return true;
}

// Runs callbacks after a delay on its own thread: a send or EndTx that
// failed (the broker is restarting, say) is tried again instead of being
// given up, so a run measures a restart under load.
class Retrier {
 public:
  Retrier() : thread_([this] { Run(); }) {}
  ~Retrier() { Stop(); }
  // Drops what is waiting; After() does nothing from now on.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      due_.clear();
    }
    if (thread_.joinable()) thread_.join();
  }
  void After(std::chrono::milliseconds delay, std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    if (!stopping_) due_.emplace(Clock::now() + delay, std::move(fn));
  }

 private:
  void Run() {
    while (true) {
      std::vector<std::function<void()>> ready;
      {
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(this, &Retrier::Woken), absl::Milliseconds(20));
        if (stopping_) return;
        const auto now = Clock::now();
        while (!due_.empty() && due_.begin()->first <= now) {
          ready.push_back(std::move(due_.begin()->second));
          due_.erase(due_.begin());
        }
      }
      for (auto& fn : ready) fn();
    }
  }
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; }

  absl::Mutex mu_;
  std::multimap<Clock::time_point, std::function<void()>> due_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

constexpr std::chrono::milliseconds kRetryDelay{100};

struct Shared {
  explicit Shared(uint64_t n) : delivered(n), committed_id(n), latency_us(n, 0) {}
  uint64_t run = 0;
  std::vector<std::atomic<uint8_t>> delivered;
  std::vector<std::atomic<uint64_t>> committed_id;  // 0 until its EndTx was answered
  std::vector<uint32_t> latency_us;                 // written once per seq, by its first delivery
  std::atomic<uint64_t> next_seq{0};
  std::atomic<uint64_t> committed{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> foreign{0};  // deliveries and checks of another run's messages
  std::atomic<uint64_t> unique{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> expected_checks{0};
  std::atomic<uint64_t> unexpected_checks{0};
  std::atomic<int64_t> last_delivery_us{0};
};

// One producer's pipeline: `window` transactions in flight, each starting the
// next from its completion. A failed SendHalf or EndTx is retried after a
// moment (the SDK reconnects meanwhile), never given up.
class Pipeline {
 public:
  Pipeline(TransactionProducer& p, Shared& s, Retrier& r, const BrokerBenchOptions& o)
      : producer_(p), shared_(s), retrier_(r), options_(o) {}

  void StartOne() {
    const uint64_t seq = shared_.next_seq.fetch_add(1);
    if (seq < options_.messages) SendHalf(seq);
  }

 private:
  std::string TxId(uint64_t seq) const {
    return absl::StrCat("bench-", absl::Hex(shared_.run), "-", seq);
  }

  void SendHalf(uint64_t seq) {
    Message m;
    m.topic = options_.topic;
    m.key = absl::StrCat("k", seq);
    m.body = MakeBody(shared_.run, seq, options_.size);
    producer_.SendHalfAsync(std::move(m), TxId(seq), [this, seq](absl::StatusOr<uint64_t> id) {
      if (!id.ok()) return Retry([this, seq] { SendHalf(seq); });
      EndTx(seq, *id);  // the local transaction is a no-op that commits
    });
  }

  void EndTx(uint64_t seq, uint64_t id) {
    producer_.EndTxAsync(id, TxId(seq), TxOutcome::kCommit,
                         [this, seq, id](absl::StatusOr<EndTxResult> r) {
                           if (!r.ok()) return Retry([this, seq, id] { EndTx(seq, id); });
                           shared_.committed_id[seq] = id;
                           ++shared_.committed;
                           StartOne();
                         });
  }

  void Retry(std::function<void()> fn) {
    ++shared_.retries;
    retrier_.After(kRetryDelay, std::move(fn));
  }

  TransactionProducer& producer_;
  Shared& shared_;
  Retrier& retrier_;
  const BrokerBenchOptions& options_;
};

uint32_t Percentile(std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t idx = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[idx];
}

}  // namespace

int RunBrokerBench(const BrokerBenchOptions& options) {
  Shared shared(options.messages);
  shared.run = std::random_device{}() | (static_cast<uint64_t>(std::random_device{}()) << 32);
  Retrier retrier;
  ClientOptions client;
  client.broker = options.broker;
  client.request_timeout = std::chrono::seconds(30);

  std::vector<std::unique_ptr<Consumer>> consumers;
  for (int c = 0; c < options.consumers; ++c) {
    ConsumerOptions co{client, options.topic, options.group, options.max_unacked};
    co.client.client_id = absl::StrCat("bench-consumer-", c);
    consumers.push_back(std::make_unique<Consumer>(
        co, [&shared](Delivery d, std::function<void(ConsumeResult)> done) {
          uint64_t seq;
          int64_t sent;
          const int64_t now = NowUs();
          if (!ParseBody(d.message.body, shared.run, &seq, &sent)) {
            ++shared.foreign;  // left by an earlier run: acked away
          } else if (seq < shared.delivered.size()) {
            if (shared.delivered[seq].exchange(1) == 0) {
              shared.latency_us[seq] = static_cast<uint32_t>(std::max<int64_t>(0, now - sent));
              ++shared.unique;
              shared.last_delivery_us = now;
            } else {
              ++shared.duplicates;
            }
          }
          done(ConsumeResult::Success());
        }));
    if (absl::Status s = consumers.back()->Start(); !s.ok()) {
      std::fprintf(stderr, "txmsg-bench: consumer cannot subscribe: %s\n", s.ToString().c_str());
      return 2;
    }
  }

  std::vector<std::unique_ptr<TransactionProducer>> producers;
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  for (int p = 0; p < options.producers; ++p) {
    ClientOptions po = client;
    po.client_id = absl::StrCat("bench-producer-", p);
    producers.push_back(std::make_unique<TransactionProducer>(
        po, options.group + "-producers", [&shared](const CheckRequest& req) {
          uint64_t seq;
          int64_t sent;
          if (!ParseBody(req.message.body, shared.run, &seq, &sent) ||
              seq >= shared.committed_id.size()) {
            ++shared.foreign;  // an earlier run's half: its producer is gone
            return TxOutcome::kRollback;
          }
          if (shared.committed_id[seq] == req.message_id) {
            ++shared.unexpected_checks;  // the broker had our answer already
          } else {
            ++shared.expected_checks;  // not answered yet, or a half stored twice by a retry
          }
          return TxOutcome::kCommit;
        }));
    if (absl::Status s = producers.back()->Start(); !s.ok()) {
      std::fprintf(stderr, "txmsg-bench: %s\n", s.ToString().c_str());
      return 2;
    }
    pipelines.push_back(std::make_unique<Pipeline>(*producers.back(), shared, retrier, options));
  }

  std::fprintf(stderr,
               "txmsg-bench broker: %llu messages of %zu bytes, %d producers x %d in flight, "
               "%d consumers, topic %s\n",
               static_cast<unsigned long long>(options.messages), options.size, options.producers,
               options.inflight, options.consumers, options.topic.c_str());
  const int64_t start_us = NowUs();
  for (auto& pipeline : pipelines) {
    for (int i = 0; i < options.inflight; ++i) pipeline->StartOne();
  }

  // Progress once a second until everything committed is delivered, or no
  // progress for `idle_timeout`.
  uint64_t last_unique = 0;
  auto last_progress = Clock::now();
  while (true) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const uint64_t unique = shared.unique.load();
    const uint64_t committed = shared.committed.load();
    const double secs = (NowUs() - start_us) / 1e6;
    std::fprintf(stderr, "  %5.1fs committed=%llu delivered=%llu (%.0f msgs/s) retries=%llu\n",
                 secs, static_cast<unsigned long long>(committed),
                 static_cast<unsigned long long>(unique), unique / secs,
                 static_cast<unsigned long long>(shared.retries.load()));
    if (unique != last_unique) {
      last_unique = unique;
      last_progress = Clock::now();
    }
    const bool all_sent = shared.next_seq.load() >= options.messages;
    const bool all_settled = committed >= options.messages;
    if (all_sent && all_settled && (options.consumers == 0 || unique >= committed)) break;
    if (options.consumers == 0) last_progress = Clock::now();
    if (Clock::now() - last_progress > options.idle_timeout) {
      std::fprintf(
          stderr, "  no progress for %lld s: giving up waiting\n",
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::seconds>(options.idle_timeout).count()));
      break;
    }
  }
  const int64_t end_us =
      options.consumers == 0 ? NowUs() : std::max(shared.last_delivery_us.load(), start_us + 1);
  retrier.Stop();     // no retry may reach a producer that is going away
  producers.clear();  // their last callbacks still use the pipelines
  pipelines.clear();
  consumers.clear();

  std::vector<uint32_t> lat;
  lat.reserve(options.messages);
  for (uint64_t i = 0; i < options.messages; ++i) {
    if (shared.delivered[i]) lat.push_back(shared.latency_us[i]);
  }
  std::sort(lat.begin(), lat.end());
  const uint64_t unique = shared.unique.load();
  const uint64_t committed = shared.committed.load();
  // Without consumers nothing is delivered: the rate is of commits, and
  // nothing counts as lost.
  const uint64_t lost = options.consumers == 0 || committed <= unique ? 0 : committed - unique;
  const double rate = (options.consumers == 0 ? committed : unique) / ((end_us - start_us) / 1e6);
  std::printf("delivered %llu of %llu committed in %.2f s\n",
              static_cast<unsigned long long>(unique), static_cast<unsigned long long>(committed),
              (end_us - start_us) / 1e6);
  std::printf(
      "check-backs: expected=%llu unexpected=%llu; duplicate deliveries=%llu; retries=%llu; "
      "left by earlier runs=%llu\n",
      static_cast<unsigned long long>(shared.expected_checks.load()),
      static_cast<unsigned long long>(shared.unexpected_checks.load()),
      static_cast<unsigned long long>(shared.duplicates.load()),
      static_cast<unsigned long long>(shared.retries.load()),
      static_cast<unsigned long long>(shared.foreign.load()));
  std::printf(
      "RESULT msgs_per_s=%.0f p50_us=%u p99_us=%u p999_us=%u unexpected_checks=%llu lost=%llu\n",
      rate, Percentile(lat, 0.50), Percentile(lat, 0.99), Percentile(lat, 0.999),
      static_cast<unsigned long long>(shared.unexpected_checks.load()),
      static_cast<unsigned long long>(lost));
  return lost == 0 && shared.unexpected_checks == 0 ? 0 : 1;
}

}  // namespace txmsg::bench
