// stock-service's data: the `stock` table (the reference's columns) and
// tx_log, whose state is the outcome and whose detail is the outcome event,
// so a redelivered order republishes it instead of deducting again.
#ifndef TXMSG_STOCK_STOCK_REPOSITORY_H_
#define TXMSG_STOCK_STOCK_REPOSITORY_H_

#include <optional>

#include "absl/status/statusor.h"
#include "service/db/database.h"
#include "txmsg/events.pb.h"

namespace txmsg::stock {

class StockRepository {
 public:
  [[nodiscard]] static absl::Status CreateSchema(sql::Database& db);
  // Sets a product's stock (creating the product).
  [[nodiscard]] static absl::Status SetStock(sql::Database& db, int64_t product_id, int64_t total);
  // Creates the product with `total` units unless it exists (a restart with
  // the same --seed_stock must not undo what was sold).
  [[nodiscard]] static absl::Status SeedStock(sql::Database& db, int64_t product_id, int64_t total);
  [[nodiscard]] static absl::StatusOr<std::optional<int64_t>> GetStock(sql::Database& db,
                                                                       int64_t product_id);

  // The local transaction for one order: if tx_log has its tx_no, the stored
  // outcome (nothing deducted again); otherwise one conditional UPDATE (never
  // read-then-write, so two consumers cannot oversell) and the tx_log row
  // with the outcome. `*fresh` says whether this call decided it.
  [[nodiscard]] static absl::StatusOr<events::StockOutcome> Deduct(sql::Database& db,
                                                                   const events::OrderPlaced& order,
                                                                   bool* fresh);
  // Deduct on PostgreSQL: the same rules in one round trip.
  [[nodiscard]] static absl::StatusOr<events::StockOutcome> DeductInOneStatement(
      sql::Database& db, const events::OrderPlaced& order, bool* fresh);
  // Whether tx_log has `tx_no` (the check-back of the outcome message).
  [[nodiscard]] static absl::StatusOr<bool> HasTx(sql::Database& db, const std::string& tx_no);
};

}  // namespace txmsg::stock

#endif  // TXMSG_STOCK_STOCK_REPOSITORY_H_
