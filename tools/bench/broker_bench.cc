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
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "txmsg/consumer.h"
#include "txmsg/producer.h"

namespace txmsg::bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

// Body: seq (8 bytes) | send time in us (8 bytes) | padding.
std::string MakeBody(uint64_t seq, size_t size) {
  std::string body(std::max<size_t>(size, 16), 'p');
  const int64_t now = NowUs();
  std::memcpy(body.data(), &seq, 8);
  std::memcpy(body.data() + 8, &now, 8);
  return body;
}

bool ParseBody(const std::string& body, uint64_t* seq, int64_t* sent_us) {
  if (body.size() < 16) return false;
  std::memcpy(seq, body.data(), 8);
  std::memcpy(sent_us, body.data() + 8, 8);
  return true;
}

struct Shared {
  explicit Shared(uint64_t n) : delivered(n), settled(n), latency_us(n, 0) {}
  std::vector<std::atomic<uint8_t>> delivered;
  std::vector<std::atomic<uint8_t>> settled;
  std::vector<uint32_t> latency_us;  // written once per seq, by its first delivery
  std::atomic<uint64_t> next_seq{0};
  std::atomic<uint64_t> committed{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> unique{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> expected_checks{0};
  std::atomic<uint64_t> unexpected_checks{0};
  std::atomic<int64_t> last_delivery_us{0};
};

// One producer's pipeline: `window` transactions in flight, each starting the
// next from its completion.
class Pipeline {
 public:
  Pipeline(TransactionProducer& p, Shared& s, const BrokerBenchOptions& o)
      : producer_(p), shared_(s), options_(o) {}

  void StartOne() {
    const uint64_t seq = shared_.next_seq.fetch_add(1);
    if (seq >= options_.messages) return;
    Message m;
    m.topic = options_.topic;
    m.key = absl::StrCat("k", seq);
    m.body = MakeBody(seq, options_.size);
    const std::string tx = absl::StrCat("bench-", seq);
    producer_.SendHalfAsync(std::move(m), tx, [this, seq, tx](absl::StatusOr<uint64_t> id) {
      if (!id.ok()) {
        ++shared_.failed;
        return StartOne();
      }
      // The local transaction is a no-op that commits.
      producer_.EndTxAsync(*id, tx, TxOutcome::kCommit, [this, seq](absl::StatusOr<EndTxResult> r) {
        if (r.ok()) {
          shared_.settled[seq] = 1;
          ++shared_.committed;
        } else {
          ++shared_.failed;  // left to the check-back
        }
        StartOne();
      });
    });
  }

 private:
  TransactionProducer& producer_;
  Shared& shared_;
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
          if (ParseBody(d.message.body, &seq, &sent) && seq < shared.delivered.size()) {
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
          if (ParseBody(req.message.body, &seq, &sent) && seq < shared.settled.size() &&
              shared.settled[seq]) {
            ++shared.unexpected_checks;  // the broker had our answer already
          } else {
            ++shared.expected_checks;
          }
          return TxOutcome::kCommit;
        }));
    if (absl::Status s = producers.back()->Start(); !s.ok()) {
      std::fprintf(stderr, "txmsg-bench: %s\n", s.ToString().c_str());
      return 2;
    }
    pipelines.push_back(std::make_unique<Pipeline>(*producers.back(), shared, options));
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
    std::fprintf(stderr, "  %5.1fs committed=%llu delivered=%llu (%.0f msgs/s) failed=%llu\n", secs,
                 static_cast<unsigned long long>(committed),
                 static_cast<unsigned long long>(unique), unique / secs,
                 static_cast<unsigned long long>(shared.failed.load()));
    if (unique != last_unique) {
      last_unique = unique;
      last_progress = Clock::now();
    }
    const bool all_sent = shared.next_seq.load() >= options.messages;
    const bool all_settled = committed + shared.failed.load() >= options.messages;
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
  pipelines.clear();
  producers.clear();
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
  std::printf("delivered %llu of %llu committed (%llu failed to send or commit) in %.2f s\n",
              static_cast<unsigned long long>(unique), static_cast<unsigned long long>(committed),
              static_cast<unsigned long long>(shared.failed.load()), (end_us - start_us) / 1e6);
  std::printf("check-backs: expected=%llu unexpected=%llu; duplicate deliveries=%llu\n",
              static_cast<unsigned long long>(shared.expected_checks.load()),
              static_cast<unsigned long long>(shared.unexpected_checks.load()),
              static_cast<unsigned long long>(shared.duplicates.load()));
  std::printf(
      "RESULT msgs_per_s=%.0f p50_us=%u p99_us=%u p999_us=%u unexpected_checks=%llu lost=%llu\n",
      rate, Percentile(lat, 0.50), Percentile(lat, 0.99), Percentile(lat, 0.999),
      static_cast<unsigned long long>(shared.unexpected_checks.load()),
      static_cast<unsigned long long>(lost));
  return lost == 0 && shared.unexpected_checks == 0 ? 0 : 1;
}

}  // namespace txmsg::bench
