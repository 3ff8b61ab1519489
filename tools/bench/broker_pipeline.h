// The moving parts of `txmsg-bench broker`: the message body that carries a
// message's identity and intended send time, the counters a run shares
// between its producer and consumer threads, and one producer's pipeline of
// transactions.
#ifndef TXMSG_TOOLS_BENCH_BROKER_PIPELINE_H_
#define TXMSG_TOOLS_BENCH_BROKER_PIPELINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tools/bench/broker_bench.h"
#include "tools/bench/latency_histogram.h"
#include "tools/bench/open_loop.h"
#include "tools/bench/retrier.h"
#include "txmsg/producer.h"

namespace txmsg::bench {

// Microseconds on the bench's steady clock.
int64_t MicrosOf(BenchClock::time_point t);
int64_t NowUs();

// Body: run id (8 bytes) | seq (8 bytes) | intended send time in us (8 bytes)
// | padding. The run id tells this run's messages from those an earlier,
// killed run left behind in the same group. The intended time is the first
// attempt's (closed loop) or the scheduled one (open loop); a retry keeps it.
constexpr size_t kBodyHeader = 24;
std::string MakeBody(uint64_t run, uint64_t seq, int64_t intended_us, size_t size);
// False for a body that is not this run's.
bool ParseBody(const std::string& body, uint64_t run, uint64_t* seq, int64_t* intended_us);

// What the threads of one run count together. Everything is atomic.
struct BrokerRunCounters {
  explicit BrokerRunCounters(uint64_t n) : delivered(n), committed_id(n) {}
  uint64_t run = 0;  // random, set before anything is sent
  std::vector<std::atomic<uint8_t>> delivered;
  std::vector<std::atomic<uint64_t>> committed_id;  // 0 until its EndTx was answered
  ConcurrentLatencyHistogram latency_us;            // intended send -> first delivery
  std::atomic<uint64_t> next_seq{0};                // closed loop: the next to start
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> committed{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> foreign{0};  // deliveries and checks of another run's messages
  std::atomic<uint64_t> unique{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> expected_checks{0};
  std::atomic<uint64_t> unexpected_checks{0};
  std::atomic<int64_t> last_delivery_us{0};
};

// One producer's transactions: half, then commit. A failed SendHalf or EndTx
// is retried after a moment (the SDK reconnects meanwhile), never given up.
// When one commits, the next starts (closed loop) or the pacer is told that
// one fewer is in flight (open loop). Everything passed in must outlive it.
class TransactionPipeline {
 public:
  // `pacer`: null for closed loop.
  TransactionPipeline(TransactionProducer& p, BrokerRunCounters& c, Retrier& r,
                      const BrokerBenchOptions& o, OpenLoopPacer* pacer)
      : producer_(p), counters_(c), retrier_(r), options_(o), pacer_(pacer) {}

  // Closed loop: starts the next message now, if any is left.
  void StartNext();
  // Starts message `seq`; its latency counts from `intended_us`.
  void Send(uint64_t seq, int64_t intended_us);

 private:
  std::string TxId(uint64_t seq) const;
  void SendHalf(uint64_t seq, int64_t intended_us);
  void EndTx(uint64_t seq, uint64_t id);
  void Retry(std::function<void()> fn);

  TransactionProducer& producer_;
  BrokerRunCounters& counters_;
  Retrier& retrier_;
  const BrokerBenchOptions& options_;
  OpenLoopPacer* const pacer_;
};

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_BROKER_PIPELINE_H_
