// The tx_log table both services keep (the reference's idempotency table,
// with a state and a detail column): one row per transaction number, its
// UNIQUE key the point where concurrent attempts at the same tx_no meet.
#ifndef TXMSG_SERVICE_DB_TX_LOG_H_
#define TXMSG_SERVICE_DB_TX_LOG_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "service/db/database.h"

namespace txmsg::sql {

class TxLog {
 public:
  struct Entry {
    std::string state;   // what the service decided for this tx_no
    std::string detail;  // e.g. the serialized event to publish again
  };
  [[nodiscard]] static absl::Status CreateTable(Database& db);
  [[nodiscard]] static absl::StatusOr<std::optional<Entry>> Find(Database& db,
                                                                 const std::string& tx_no);
  // ALREADY_EXISTS if the tx_no is there already: the caller lost the race.
  [[nodiscard]] static absl::Status Insert(Database& db, const std::string& tx_no,
                                           const std::string& state,
                                           const std::string& detail = "");
  // The barrier: inserts the row unless the tx_no is there. True if this
  // call inserted it. On PostgreSQL a concurrent uncommitted insert of the
  // same tx_no makes this wait for it, so two transactions never both win.
  [[nodiscard]] static absl::StatusOr<bool> InsertIfAbsent(Database& db, const std::string& tx_no,
                                                           const std::string& state);
};

int64_t NowMs();

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_TX_LOG_H_
