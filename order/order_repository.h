// order-service's data: the `order` table (the reference's columns plus
// status, tx_no and times) and tx_log. Every method runs on the caller's
// Database (the batch writer's for writes, a read connection for reads).
#ifndef TXMSG_ORDER_ORDER_REPOSITORY_H_
#define TXMSG_ORDER_ORDER_REPOSITORY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/db/database.h"
#include "txmsg/http_api.pb.h"
#include "txmsg/types.h"

namespace txmsg::order {

inline constexpr char kCommitted[] = "COMMITTED";
inline constexpr char kRolledBack[] = "ROLLED_BACK";

class OrderRepository {
 public:
  [[nodiscard]] static absl::Status CreateSchema(sql::Database& db);

  // The local transaction of a submitted order: the PENDING order and its
  // tx_log row, together. FAILED_PRECONDITION if a check-back already
  // recorded this tx_no as rolled back (the order must then not exist).
  [[nodiscard]] static absl::Status InsertPendingOrder(sql::Database& db,
                                                       const api::OrderView& order);

  // The check-back's final answer: COMMIT if the local transaction
  // committed; otherwise records the tx_no as rolled back (so a local
  // transaction still running fails on the key) and answers ROLLBACK.
  [[nodiscard]] static absl::StatusOr<TxOutcome> ResolveCheck(sql::Database& db,
                                                              const std::string& tx_no);

  // The stock outcome: PENDING -> CONFIRMED or CANCELLED (with a reason).
  // Idempotent: an order no longer PENDING is left alone. Returns whether
  // it changed anything.
  [[nodiscard]] static absl::StatusOr<bool> ApplyOutcome(sql::Database& db,
                                                         const std::string& order_no,
                                                         bool confirmed, const std::string& reason);

  [[nodiscard]] static absl::StatusOr<std::optional<api::OrderView>> Find(
      sql::Database& db, const std::string& order_no);
  // Newest first; `status` empty for all.
  [[nodiscard]] static absl::StatusOr<std::vector<api::OrderView>> List(sql::Database& db,
                                                                        const std::string& status,
                                                                        int limit);
  [[nodiscard]] static absl::StatusOr<std::map<std::string, int64_t>> CountByStatus(
      sql::Database& db);
};

}  // namespace txmsg::order

#endif  // TXMSG_ORDER_ORDER_REPOSITORY_H_
