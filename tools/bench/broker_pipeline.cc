#include "tools/bench/broker_pipeline.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace txmsg::bench {

constexpr std::chrono::milliseconds kRetryDelay{100};

int64_t MicrosOf(BenchClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

int64_t NowUs() { return MicrosOf(BenchClock::now()); }

std::string MakeBody(uint64_t run, uint64_t seq, int64_t intended_us, size_t size) {
  std::string body(std::max(size, kBodyHeader), 'p');
  std::memcpy(body.data(), &run, 8);
  std::memcpy(body.data() + 8, &seq, 8);
  std::memcpy(body.data() + 16, &intended_us, 8);
  return body;
}

bool ParseBody(const std::string& body, uint64_t run, uint64_t* seq, int64_t* intended_us) {
  if (body.size() < kBodyHeader) return false;
  uint64_t body_run = 0;
  std::memcpy(&body_run, body.data(), 8);
  if (body_run != run) return false;
  std::memcpy(seq, body.data() + 8, 8);
  std::memcpy(intended_us, body.data() + 16, 8);
  return true;
}

void TransactionPipeline::StartNext() {
  const uint64_t seq = counters_.next_seq.fetch_add(1);
  if (seq < options_.messages) Send(seq, NowUs());
}

void TransactionPipeline::Send(uint64_t seq, int64_t intended_us) {
  ++counters_.sent;
  SendHalf(seq, intended_us);
}

std::string TransactionPipeline::TxId(uint64_t seq) const {
  return absl::StrCat("bench-", absl::Hex(counters_.run), "-", seq);
}

void TransactionPipeline::SendHalf(uint64_t seq, int64_t intended_us) {
  Message m;
  m.topic = options_.topic;
  m.key = absl::StrCat("k", seq);
  m.body = MakeBody(counters_.run, seq, intended_us, options_.size);
  producer_.SendHalfAsync(
      std::move(m), TxId(seq), [this, seq, intended_us](absl::StatusOr<uint64_t> id) {
        if (!id.ok()) return Retry([this, seq, intended_us] { SendHalf(seq, intended_us); });
        EndTx(seq, *id);  // the local transaction is a no-op that commits
      });
}

void TransactionPipeline::EndTx(uint64_t seq, uint64_t id) {
  producer_.EndTxAsync(id, TxId(seq), TxOutcome::kCommit,
                       [this, seq, id](absl::StatusOr<EndTxResult> r) {
                         if (!r.ok()) return Retry([this, seq, id] { EndTx(seq, id); });
                         counters_.committed_id[seq] = id;
                         ++counters_.committed;
                         if (pacer_ != nullptr) {
                           pacer_->Done();
                         } else {
                           StartNext();
                         }
                       });
}

void TransactionPipeline::Retry(std::function<void()> fn) {
  ++counters_.retries;
  retrier_.After(kRetryDelay, std::move(fn));
}

}  // namespace txmsg::bench
