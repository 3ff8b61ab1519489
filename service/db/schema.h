// Schema versions: each service's tables are created or brought up to date
// on start by numbered migrations, and the version reached is recorded in
// the table txmsg_schema (service, version). A database whose recorded
// version is newer than the binary knows is refused, never guessed at; so
// is a database that another service already uses (each service keeps its
// own database, as in the reference: both have a tx_log keyed by tx_no).
//
// Migrations run in one transaction; on PostgreSQL under an advisory lock,
// so that instances starting together take turns.
#ifndef TXMSG_SERVICE_DB_SCHEMA_H_
#define TXMSG_SERVICE_DB_SCHEMA_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "service/db/database.h"

namespace txmsg::sql {

struct Migration {
  int version;  // 1, 2, ... in order
  std::function<absl::Status(Database&)> apply;
};

// Applies the migrations newer than the recorded version. FAILED_PRECONDITION
// (with what to do) if the database is newer or belongs to another service.
[[nodiscard]] absl::Status Migrate(Database& db, const std::string& service,
                                   const std::vector<Migration>& migrations);

// The recorded version for `service`, 0 if none (for tests and tools).
[[nodiscard]] absl::StatusOr<int> SchemaVersion(Database& db, const std::string& service);

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_SCHEMA_H_
