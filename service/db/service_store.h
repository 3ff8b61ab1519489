// A service's database as both services use it, opened from --db: a SQLite
// file path, or a PostgreSQL URI / libpq conninfo (pg_database.h).
// `prepare` (schema, seed data) runs first on one write connection; the
// write connections then belong to a BatchWriter, and one more connection
// serves reads.
//  - SQLite: one write connection (batches with savepoints) and a read
//    connection beside it (WAL lets reads run beside the writer).
//  - PostgreSQL: `pool` write connections, each committing batches of up to
//    `max_batch` pieces (batch_writer.h), and a read connection.
#ifndef TXMSG_SERVICE_DB_SERVICE_STORE_H_
#define TXMSG_SERVICE_DB_SERVICE_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/db/batch_writer.h"
#include "service/db/database.h"

namespace txmsg::sql {

struct StoreOptions {
  int pool = 4;           // PostgreSQL write connections
  size_t max_batch = 64;  // PostgreSQL pieces per transaction
};

struct ServiceStore {
  std::vector<std::unique_ptr<Database>> write;
  std::unique_ptr<Database> read;
  std::unique_ptr<BatchWriter> writer;  // destroy before `write`
  std::string description;              // for log lines: never a password
};

[[nodiscard]] absl::StatusOr<ServiceStore> OpenServiceStore(
    const std::string& db, const std::function<absl::Status(Database&)>& prepare,
    StoreOptions options = {});

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_SERVICE_STORE_H_
