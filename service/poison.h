// Messages a consumer can never process ("poison"): a body that does not
// parse, a required field missing, a value out of range, an enum value this
// build does not know, an event about an order that does not exist. No
// message content may crash a consumer or loop it: each is counted by
// reason (txmsg_poison_messages_total{reason=...} in /metrics), logged at
// most once per 10 s per reason with its text escaped, and dead-lettered
// (ConsumeResult::DeadLetter), so it leaves the delivery path at once and an
// operator finds it in `txmsgctl dlq list` (and can replay it once the
// cause is fixed) instead of it being dropped without a trace.
// Thread-safe.
#ifndef TXMSG_SERVICE_POISON_H_
#define TXMSG_SERVICE_POISON_H_

#include <array>
#include <atomic>
#include <string>
#include <string_view>

#include "base/log_limiter.h"
#include "base/prometheus.h"
#include "txmsg/types.h"

namespace txmsg::service {

enum class PoisonReason {
  kUnparsable,    // the body is not the event it should be
  kMissingField,  // a field every such event has is empty
  kInvalidValue,  // a field out of range (a count <= 0, an id <= 0)
  kUnknownEnum,   // an enum value this build does not know (or none)
  kUnknownOrder,  // the event is about an order that does not exist here
};
inline constexpr int kPoisonReasons = 5;

// The label value: "unparsable", "missing_field", ...
const char* PoisonReasonName(PoisonReason reason);

class PoisonMessages {
 public:
  // `service` prefixes log lines ("order-service").
  explicit PoisonMessages(std::string service) : service_(std::move(service)) {}
  PoisonMessages(const PoisonMessages&) = delete;
  PoisonMessages& operator=(const PoisonMessages&) = delete;

  // Counts and logs `d` as poison; `detail` says what is wrong (escaped
  // before it is logged). Returns the result to give the broker.
  ConsumeResult Reject(const Delivery& d, PoisonReason reason, std::string_view detail);

  uint64_t count(PoisonReason reason) const { return counts_[static_cast<int>(reason)].load(); }
  // txmsg_poison_messages_total, one sample per reason (zeros included).
  void Render(base::PrometheusWriter& w) const;

 private:
  const std::string service_;
  base::LogLimiter log_;
  std::array<std::atomic<uint64_t>, kPoisonReasons> counts_{};
};

}  // namespace txmsg::service

#endif  // TXMSG_SERVICE_POISON_H_
