// The services' PostgreSQL backend (libpq): one connection as a
// sql::Database. Statements are prepared on the server once per connection,
// parameters and results travel in binary (so blobs stay exact), and `?`
// placeholders are rewritten to `$n` (service/db/dialect.h).
//
// A lost connection (the server restarted, the network dropped) is opened
// again by the next Begin, Exec or Prepare outside a transaction, at most
// once per backoff interval (50 ms doubling to 2 s); in between, those fail
// at once with UNAVAILABLE, so callers answer 503 / nack instead of waiting.
// Inside a transaction nothing reconnects: the transaction is gone.
#ifndef TXMSG_SERVICE_DB_PG_DATABASE_H_
#define TXMSG_SERVICE_DB_PG_DATABASE_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/db/database.h"

struct pg_conn;

namespace txmsg::sql {

// True if `db` names a PostgreSQL database rather than a SQLite file: a
// postgresql:// or postgres:// URI, or a libpq conninfo ("host=... dbname=...").
bool IsPostgresTarget(const std::string& db);

// OK if `target` parses as a libpq URI/conninfo and holds no password (a
// password belongs in PGPASSWORD or ~/.pgpass, never on a command line).
[[nodiscard]] absl::Status CheckPostgresTarget(const std::string& target);

// "database NAME on HOST:PORT as USER", for log lines (never the password).
std::string DescribePostgresTarget(const std::string& target);

class PgStatement;

class PgDatabase : public Database {
 public:
  // Connects to `target` (checked with CheckPostgresTarget first).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PgDatabase>> Connect(
      const std::string& target);
  ~PgDatabase() override;
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  Dialect dialect() const override { return Dialect::kPostgres; }
  absl::Status Exec(const std::string& sql) override;
  absl::StatusOr<Statement*> Prepare(const std::string& sql) override;
  int64_t Changes() const override { return changes_; }
  absl::Status Begin() override;
  absl::Status Commit() override;
  void Rollback() override;
  bool broken() const override;

 private:
  friend class PgStatement;
  explicit PgDatabase(std::string target);
  // OK if the connection is up or could be opened again just now.
  absl::Status EnsureConnected();
  absl::Status Reconnect();
  void Drop();

  const std::string target_;
  pg_conn* conn_ = nullptr;
  bool in_tx_ = false;
  int64_t changes_ = 0;
  uint64_t next_name_ = 0;
  std::string last_error_;
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point next_attempt_{};
  std::map<std::string, std::unique_ptr<PgStatement>> statements_;
};

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_PG_DATABASE_H_
