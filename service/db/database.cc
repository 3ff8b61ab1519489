#include "service/db/database.h"

#include <sqlite3.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "service/db/test_faults.h"

namespace txmsg::sql {
namespace {

absl::Status Error(sqlite3* db, int rc, const std::string& what) {
  const std::string msg = absl::StrCat(what, ": ", sqlite3_errmsg(db), " (", rc, ")");
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(msg);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

class SqliteStatement : public Statement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  Statement& Bind(int index, int64_t value) override;
  Statement& Bind(int index, const std::string& value) override;
  absl::StatusOr<bool> Step() override;
  absl::Status Run() override;
  int64_t Int(int column) const override;
  std::string Text(int column) const override;
  void Reset() override;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDatabase : public Database {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  ~SqliteDatabase() override;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  Dialect dialect() const override { return Dialect::kSqlite; }
  absl::Status Exec(const std::string& sql) override;
  absl::StatusOr<Statement*> Prepare(const std::string& sql) override;
  int64_t Changes() const override;
  absl::Status Begin() override { return Exec("BEGIN IMMEDIATE"); }
  absl::Status Commit() override { return Exec("COMMIT"); }
  void Rollback() override { (void)Exec("ROLLBACK"); }

 private:
  sqlite3* db_;
  std::map<std::string, std::unique_ptr<SqliteStatement>> statements_;
};

}  // namespace

Statement& SqliteStatement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& SqliteStatement::Bind(int index, const std::string& value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

absl::StatusOr<bool> SqliteStatement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  absl::Status s = Error(db_, rc, absl::StrCat("sqlite step of '", sqlite3_sql(stmt_), "'"));
  sqlite3_reset(stmt_);
  return s;
}

absl::Status SqliteStatement::Run() {
  absl::StatusOr<bool> r = Step();
  Reset();
  return r.status();
}

int64_t SqliteStatement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string SqliteStatement::Text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, column))
           : "";
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  InstallTestStorageFaults();  // nothing unless a test asked for it
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = absl::UnavailableError(absl::StrCat(
        "cannot open database ", path, ": ", db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<Database> out = std::make_unique<SqliteDatabase>(db);
  sqlite3_busy_timeout(db, 5000);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    if (absl::Status s = out->Exec(pragma); !s.ok()) return s;
  }
  return out;
}

SqliteDatabase::~SqliteDatabase() {
  statements_.clear();
  sqlite3_close(db_);
}

namespace {

// Statements the batch writer runs for every item (a savepoint each) and
// every batch: compiled once and kept, instead of parsed again on each call
// (sqlite3_exec compiled them from text every time: about 38,000
// instructions per order in order-service, BENCHMARKS.md).
bool IsTransactionControl(const std::string& sql) {
  for (const char* hot : {"SAVEPOINT item", "RELEASE item", "ROLLBACK TO item", "BEGIN IMMEDIATE",
                          "COMMIT", "ROLLBACK"}) {
    if (sql == hot) return true;
  }
  return false;
}

}  // namespace

absl::Status SqliteDatabase::Exec(const std::string& sql) {
  if (IsTransactionControl(sql)) {
    absl::StatusOr<Statement*> statement = Prepare(sql);
    if (!statement.ok()) return statement.status();
    return (*statement)->Run();
  }
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return absl::OkStatus();
  absl::Status s = Error(db_, rc, absl::StrCat("sqlite exec '", sql.substr(0, 60), "'"));
  sqlite3_free(err);
  return s;
}

absl::StatusOr<Statement*> SqliteDatabase::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(db_, rc, absl::StrCat("sqlite prepare '", sql, "'"));
  auto [pos, inserted] = statements_.emplace(sql, std::make_unique<SqliteStatement>(db_, stmt));
  return pos->second.get();
}

int64_t SqliteDatabase::Changes() const { return sqlite3_changes(db_); }

bool IsConstraintViolation(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAlreadyExists;
}

}  // namespace txmsg::sql
