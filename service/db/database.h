// The services' database seam: a connection (Database) and its cached
// prepared statements (Statement), errors as absl::Status, with two
// implementations: SQLite (a file; the embedded default, below) and
// PostgreSQL (service/db/pg_database.h). Repositories write their SQL once
// with `?` placeholders; what differs between the two lives in
// service/db/dialect.h. Not thread-safe: one thread per Database.
//
// Error codes, the same for both: ALREADY_EXISTS for a UNIQUE/PRIMARY
// KEY/CHECK violation; UNAVAILABLE when the database cannot be reached or
// is busy; RESOURCE_EXHAUSTED for a full disk; UNKNOWN when the connection
// was lost during COMMIT (the transaction may or may not have committed);
// ABORTED for a deadlock or serialization failure; INTERNAL otherwise.
#ifndef TXMSG_SERVICE_DB_DATABASE_H_
#define TXMSG_SERVICE_DB_DATABASE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace txmsg::sql {

enum class Dialect { kSqlite, kPostgres };

class Statement {
 public:
  virtual ~Statement() = default;
  // Binds 1-based parameters (after Prepare, which resets the statement).
  virtual Statement& Bind(int index, int64_t value) = 0;
  virtual Statement& Bind(int index, const std::string& value) = 0;
  // Next row: true if there is one, false when done.
  [[nodiscard]] virtual absl::StatusOr<bool> Step() = 0;
  // Runs to completion (for INSERT/UPDATE/DELETE).
  [[nodiscard]] virtual absl::Status Run() = 0;
  virtual int64_t Int(int column) const = 0;
  // Text or blob bytes, exactly.
  virtual std::string Text(int column) const = 0;
  virtual void Reset() = 0;
};

class Database {
 public:
  // Opens (creating) the SQLite file `path`: WAL mode, synchronous=FULL (a
  // commit that justifies an ack or an HTTP 200 is on disk), busy timeout.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path);
  virtual ~Database() = default;

  virtual Dialect dialect() const = 0;
  [[nodiscard]] virtual absl::Status Exec(const std::string& sql) = 0;
  // A prepared statement, cached by its text and reset for reuse. Valid
  // until the next Prepare/Begin on this connection.
  [[nodiscard]] virtual absl::StatusOr<Statement*> Prepare(const std::string& sql) = 0;
  // Rows changed by the last INSERT/UPDATE/DELETE.
  virtual int64_t Changes() const = 0;
  // A write transaction (SQLite: BEGIN IMMEDIATE). On PostgreSQL a lost
  // connection is re-opened here (with backoff), never inside a transaction.
  [[nodiscard]] virtual absl::Status Begin() = 0;
  // UNKNOWN if the connection was lost while committing.
  [[nodiscard]] virtual absl::Status Commit() = 0;
  virtual void Rollback() = 0;
  // True once the connection is known to be lost (PostgreSQL only): what
  // ran in the open transaction is gone.
  virtual bool broken() const { return false; }
};

// True for a UNIQUE/PRIMARY KEY/CHECK violation (status code ALREADY_EXISTS).
bool IsConstraintViolation(const absl::Status& status);

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_DATABASE_H_
