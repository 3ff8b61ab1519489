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
  // Creates the tables, or brings an older database up to date (adds the
  // idempotency_key column and its index if missing); records the schema
  // version and refuses a newer one (service/db/schema.h).
  [[nodiscard]] static absl::Status CreateSchema(sql::Database& db);

  // The local transaction of a submitted order: the PENDING order and its
  // tx_log row, together. FAILED_PRECONDITION if a check-back already
  // recorded this tx_no as rolled back (the order must then not exist).
  // With a non-empty `idempotency_key` (the client's Idempotency-Key),
  // ALREADY_EXISTS if an order with that key exists already: nothing is
  // stored, and FindByIdempotencyKey gives the original.
  [[nodiscard]] static absl::Status InsertPendingOrder(sql::Database& db,
                                                       const api::OrderView& order,
                                                       const std::string& idempotency_key = "");
  [[nodiscard]] static absl::StatusOr<std::optional<api::OrderView>> FindByIdempotencyKey(
      sql::Database& db, const std::string& idempotency_key);

  // The check-back's final answer: COMMIT if the local transaction
  // committed; otherwise records the tx_no as rolled back (so a local
  // transaction still running fails on the key) and answers ROLLBACK.
  [[nodiscard]] static absl::StatusOr<TxOutcome> ResolveCheck(sql::Database& db,
                                                              const std::string& tx_no);

  // The stock outcome for order `order_no` with transaction `tx_no`:
  // PENDING -> CONFIRMED or CANCELLED (with a reason). Idempotent: an order
  // no longer PENDING is left alone.
  enum class Applied { kChanged, kAlreadySettled, kNoSuchOrder };
  [[nodiscard]] static absl::StatusOr<Applied> ApplyOutcome(sql::Database& db,
                                                            const std::string& order_no,
                                                            const std::string& tx_no,
                                                            bool confirmed,
                                                            const std::string& reason);

  [[nodiscard]] static absl::StatusOr<std::optional<api::OrderView>> Find(
      sql::Database& db, const std::string& order_no);
  // Newest first; `status` empty for all.
  [[nodiscard]] static absl::StatusOr<std::vector<api::OrderView>> List(sql::Database& db,
                                                                        const std::string& status,
                                                                        int limit);
  [[nodiscard]] static absl::StatusOr<std::map<std::string, int64_t>> CountByStatus(
      sql::Database& db);

 private:
  [[nodiscard]] static absl::Status CreateTablesV1(sql::Database& db);
  [[nodiscard]] static absl::Status AddIdempotencyKey(sql::Database& db);
};

}  // namespace txmsg::order

#endif  // TXMSG_ORDER_ORDER_REPOSITORY_H_
