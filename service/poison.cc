#include "service/poison.h"

#include "absl/strings/str_cat.h"

namespace txmsg::service {

const char* PoisonReasonName(PoisonReason reason) {
  switch (reason) {
    case PoisonReason::kUnparsable:
      return "unparsable";
    case PoisonReason::kMissingField:
      return "missing_field";
    case PoisonReason::kInvalidValue:
      return "invalid_value";
    case PoisonReason::kUnknownEnum:
      return "unknown_enum";
    case PoisonReason::kUnknownOrder:
      return "unknown_order";
  }
  return "unknown";
}

ConsumeResult PoisonMessages::Reject(const Delivery& d, PoisonReason reason,
                                     std::string_view detail) {
  ++counts_[static_cast<int>(reason)];
  const char* name = PoisonReasonName(reason);
  log_.Log(name, absl::StrCat(service_, ": dead-lettering message ", d.message_id, " of topic ",
                              base::EscapeForLog(d.message.topic), " (", name,
                              "): ", base::EscapeForLog(std::string(detail)),
                              "; see txmsgctl dlq list ", base::EscapeForLog(d.group)));
  return ConsumeResult::DeadLetter();
}

void PoisonMessages::Render(base::PrometheusWriter& w) const {
  w.Family("txmsg_poison_messages_total", "counter",
           "Messages this service can never process, dead-lettered, by reason.");
  for (int i = 0; i < kPoisonReasons; ++i) {
    w.Sample("txmsg_poison_messages_total",
             absl::StrCat("{reason=\"", PoisonReasonName(static_cast<PoisonReason>(i)), "\"}"),
             counts_[i].load());
  }
}

}  // namespace txmsg::service
