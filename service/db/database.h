// A small SQLite layer for the services: one connection, cached prepared
// statements, errors as absl::Status. Opened in WAL mode with
// synchronous=FULL (a commit that justifies an ack or an HTTP 200 is on
// disk) and a busy timeout. Not thread-safe: one thread per Database.
#ifndef TXMSG_SERVICE_DB_DATABASE_H_
#define TXMSG_SERVICE_DB_DATABASE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct sqlite3;
struct sqlite3_stmt;

namespace txmsg::sql {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds 1-based parameters; resets the statement first on the first bind.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, const std::string& value);
  // Next row: true if there is one, false when done.
  [[nodiscard]] absl::StatusOr<bool> Step();
  // Runs to completion (for INSERT/UPDATE/DELETE).
  [[nodiscard]] absl::Status Run();
  int64_t Int(int column) const;
  std::string Text(int column) const;
  void Reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens (creating) `path`.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  [[nodiscard]] absl::Status Exec(const std::string& sql);
  // A prepared statement, cached by its text and reset for reuse.
  [[nodiscard]] absl::StatusOr<Statement*> Prepare(const std::string& sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Statement>> statements_;
};

// True for a UNIQUE/PRIMARY KEY/CHECK violation (status code ALREADY_EXISTS).
bool IsConstraintViolation(const absl::Status& status);

}  // namespace txmsg::sql

#endif  // TXMSG_SERVICE_DB_DATABASE_H_
