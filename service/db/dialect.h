// Everything in which the services' SQL differs between SQLite and
// PostgreSQL, in one place. Repositories write standard SQL that both
// accept (quoted "order", ON CONFLICT ... DO UPDATE/NOTHING, excluded.*,
// NULLIF, LIMIT) with `?` or `?N` placeholders, and take from here:
//  - column types: the auto-increment key, 64-bit integers, blobs;
//  - whether a table has a column (schema migrations);
//  - placeholders: PostgreSQL wants $N (PgDatabase rewrites them).
// One statement is PostgreSQL's own, for speed: stock's deduction in one
// round trip (StockRepository::DeductInOneStatement, same rules).
#ifndef TXMSG_SERVICE_DB_DIALECT_H_
#define TXMSG_SERVICE_DB_DIALECT_H_

#include <string>

#include "absl/status/statusor.h"
#include "service/db/database.h"

namespace txmsg::sql {

struct SqlTypes {
  const char* auto_id;  // the surrogate key column's type and constraint
  const char* int64;    // times in ms, ids
  const char* blob;     // exact bytes (serialized events)
};
const SqlTypes& TypesOf(Dialect dialect);

// Whether `table` has a column named `column`.
[[nodiscard]] absl::StatusOr<bool> HasColumn(Database& db, const std::string& table,
                                             const std::string& column);

// `sql` with `?` as $1, $2, ... in order and `?N` as $N; quoted strings and
// identifiers are left alone.
std::string PostgresPlaceholders(const std::string& sql);

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_DIALECT_H_
