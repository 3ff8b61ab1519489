// TransactionProducer: sends half messages, runs the caller's local
// transaction, reports its outcome, and answers the broker's check-backs.
//
// Thread-safety: every method may be called from any thread. Asynchronous
// callbacks run on the producer's network thread: keep them short and never
// block there (hand work to your own thread). The check-back handler runs on
// a separate handler thread, one check at a time, so it may block (on a
// database, say).
//
// Connection: the producer connects in the background and reconnects with
// backoff after the broker restarts, re-registering its producer group; the
// application does nothing. A request made while disconnected fails at once
// with UNAVAILABLE.
#ifndef TXMSG_CLIENT_INCLUDE_TXMSG_PRODUCER_H_
#define TXMSG_CLIENT_INCLUDE_TXMSG_PRODUCER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "txmsg/types.h"

namespace txmsg {

namespace internal {
class ProducerImpl;
}

class TransactionProducer {
 public:
  // Answers a check-back from what the application stored. Must give the
  // truth: COMMIT if the local transaction committed, ROLLBACK if it never
  // will, UNKNOWN only if it cannot tell yet.
  using CheckHandler = std::function<TxOutcome(const CheckRequest&)>;

  TransactionProducer(ClientOptions options, std::string producer_group, CheckHandler on_check);
  // Stops: outstanding requests fail with CANCELLED.
  ~TransactionProducer();
  TransactionProducer(const TransactionProducer&) = delete;
  TransactionProducer& operator=(const TransactionProducer&) = delete;

  // Starts connecting; waits up to `wait` for the first connection. An error
  // means not connected yet: the producer keeps trying.
  absl::Status Start(std::chrono::milliseconds wait = std::chrono::seconds(5));
  bool connected() const;
  // Connected, and the broker answers: false while a connected broker
  // leaves requests (or the heartbeat Ping) unanswered past the request
  // timeout, e.g. a frozen broker. For health checks.
  bool responsive() const;

  // Stores a half message; `done` gets its broker id once it is durable.
  void SendHalfAsync(Message message, std::string tx_id,
                     std::function<void(absl::StatusOr<uint64_t>)> done);
  // Reports the outcome of the local transaction of `message_id`.
  void EndTxAsync(uint64_t message_id, std::string tx_id, TxOutcome outcome,
                  std::function<void(absl::StatusOr<EndTxResult>)> done);
  // Stores a plain message, deliverable at once.
  void SendAsync(Message message, std::function<void(absl::StatusOr<uint64_t>)> done);

  // Blocking forms of the above.
  absl::StatusOr<uint64_t> SendHalf(Message message, std::string tx_id);
  absl::StatusOr<EndTxResult> EndTx(uint64_t message_id, std::string tx_id, TxOutcome outcome);
  absl::StatusOr<uint64_t> Send(Message message);

  // The whole transactional send: half message, then `local_tx(message_id)`
  // on the calling thread, then EndTx with its outcome. If the half is not
  // stored, local_tx is not run and the error is returned. If EndTx fails
  // (timeout, lost connection), the result still says what local_tx decided:
  // the broker's check-back settles it; nothing is guessed.
  struct TransactionResult {
    uint64_t message_id = 0;
    TxOutcome local_outcome = TxOutcome::kUnknown;
    absl::StatusOr<EndTxResult> end_tx = absl::UnknownError("not sent");
  };
  absl::StatusOr<TransactionResult> ExecuteTransaction(
      Message message, std::string tx_id, const std::function<TxOutcome(uint64_t)>& local_tx);

 private:
  std::shared_ptr<internal::ProducerImpl> impl_;
};

}  // namespace txmsg

#endif  // TXMSG_CLIENT_INCLUDE_TXMSG_PRODUCER_H_
