// The contract between order-service and stock-service, written once: the
// topics and groups they meet on, the order statuses, and the reasons a
// cancelled order carries. Names of topics and groups are the reference's
// (topic_txmsg, tx_order_group, tx_stock_group, topic_tx_rollback_msg).
#ifndef TXMSG_SERVICE_CONTRACT_H_
#define TXMSG_SERVICE_CONTRACT_H_

#include <array>
#include <optional>
#include <string_view>

#include "txmsg/events.pb.h"

namespace txmsg::contract {

// order-service -> stock-service: OrderPlaced, transactional.
inline constexpr char kOrderTopic[] = "topic_txmsg";
inline constexpr char kOrderProducerGroup[] = "tx_order_group";
inline constexpr char kStockConsumerGroup[] = "tx_stock_group";

// stock-service -> order-service: StockOutcome, transactional; DEDUCTED on
// the confirm topic, anything else on the rollback topic.
inline constexpr char kConfirmTopic[] = "topic_tx_confirm_msg";
inline constexpr char kRollbackTopic[] = "topic_tx_rollback_msg";
inline constexpr char kStockProducerGroup[] = "tx_stock_outcome_group";
inline constexpr char kOrderOutcomeGroup[] = "tx_order_outcome_group";
// Outcome messages carry the order's tx_no with this prefix as their tx id.
inline constexpr char kOutcomeTxPrefix[] = "stock-";

// An order's status, as stored and as the HTTP API shows it.
inline constexpr char kPending[] = "PENDING";
inline constexpr char kConfirmed[] = "CONFIRMED";
inline constexpr char kCancelled[] = "CANCELLED";
inline constexpr std::array<const char*, 3> kStatuses = {kPending, kConfirmed, kCancelled};

inline bool IsOrderStatus(std::string_view s) {
  return s == kPending || s == kConfirmed || s == kCancelled;
}

// The reason a cancelled order shows ("INSUFFICIENT", "UNKNOWN_PRODUCT"),
// or nullopt for an outcome that does not cancel an order or that this
// build does not know (a newer stock-service's, or a corrupt message).
inline std::optional<std::string_view> CancelReason(events::StockOutcomeKind kind) {
  switch (kind) {
    case events::STOCK_INSUFFICIENT:
      return "INSUFFICIENT";
    case events::STOCK_UNKNOWN_PRODUCT:
      return "UNKNOWN_PRODUCT";
    default:
      return std::nullopt;
  }
}

}  // namespace txmsg::contract

#endif  // TXMSG_SERVICE_CONTRACT_H_
