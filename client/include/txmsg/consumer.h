// Consumer: receives the messages of one topic as a member of one consumer
// group, and acks or nacks each according to its handler.
//
// Flow control: the broker never has more than `max_unacked` deliveries
// outstanding with this consumer. Delivery is at least once: a message may
// arrive again (after a crash, a timeout, a lost ack); handlers must be
// idempotent.
//
// Thread-safety: Start/Stop from any thread. A Handler runs on the consumer's
// handler thread, one delivery at a time, and may block. An AsyncHandler runs
// on the network thread and must not block; it calls `done` exactly once,
// from any thread, when it has decided (this lets an application batch many
// deliveries into one database commit).
//
// Reconnects with backoff after the broker restarts and subscribes again; a
// result reported for a delivery of a lost connection is dropped (the broker
// redelivers it).
#ifndef TXMSG_CLIENT_INCLUDE_TXMSG_CONSUMER_H_
#define TXMSG_CLIENT_INCLUDE_TXMSG_CONSUMER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "txmsg/types.h"

namespace txmsg {

namespace internal {
class ConsumerImpl;
}

struct ConsumerOptions {
  ClientOptions client;
  std::string topic;
  std::string group;
  uint32_t max_unacked = 256;
};

class Consumer {
 public:
  using Handler = std::function<ConsumeResult(const Delivery&)>;
  using AsyncHandler = std::function<void(Delivery, std::function<void(ConsumeResult)> done)>;

  Consumer(ConsumerOptions options, Handler handler);
  Consumer(ConsumerOptions options, AsyncHandler handler);
  // Stops: no handler runs after the destructor returns.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Starts connecting and subscribing; waits up to `wait` for the first
  // subscription. An error means not subscribed yet: it keeps trying.
  absl::Status Start(std::chrono::milliseconds wait = std::chrono::seconds(5));
  void Stop();
  bool subscribed() const;
  // Connected, and the broker answers (see TransactionProducer::responsive).
  bool responsive() const;

 private:
  std::shared_ptr<internal::ConsumerImpl> impl_;
};

}  // namespace txmsg

#endif  // TXMSG_CLIENT_INCLUDE_TXMSG_CONSUMER_H_
