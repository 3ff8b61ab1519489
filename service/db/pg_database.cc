#include "service/db/pg_database.h"

#include <endian.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/db/dialect.h"

namespace txmsg::sql {
namespace {

constexpr Oid kInt8Oid = 20;
constexpr auto kMinBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxBackoff = std::chrono::seconds(2);

// libpq's message on one line.
std::string Trimmed(const char* msg) {
  std::string s;
  for (const char* p = msg ? msg : ""; *p != '\0'; ++p) {
    const bool space = *p == '\n' || *p == '\t' || *p == ' ';
    if (!space) {
      s += *p;
    } else if (!s.empty() && s.back() != ' ') {
      s += ' ';
    }
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// Maps a failed result (or, with `res` null, the connection's error) to the
// codes database.h promises.
absl::Status PgError(PGconn* conn, const PGresult* res, const std::string& what) {
  const std::string msg = Trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string text =
      absl::StrCat(what, ": ", msg.empty() ? Trimmed(PQerrorMessage(conn)) : msg,
                   state ? absl::StrCat(" (SQLSTATE ", state, ")") : "");
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK || state == nullptr) {
    return absl::UnavailableError(text);
  }
  const std::string code = state;
  if (code == "53100") return absl::ResourceExhaustedError(text);  // disk full
  const std::string cls = code.substr(0, 2);
  if (cls == "23") return absl::AlreadyExistsError(text);  // integrity constraint
  if (cls == "40" || cls == "25") return absl::AbortedError(text);
  if (cls == "08" || cls == "57" || cls == "53") return absl::UnavailableError(text);
  return absl::InternalError(text);
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

bool Succeeded(const PGresult* r) {
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

int64_t Affected(const PGresult* r) {
  const char* n = PQcmdTuples(const_cast<PGresult*>(r));
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

void IgnoreNotice(void*, const char*) {}  // "relation exists, skipping" and the like

struct Parsed {
  PQconninfoOption* options = nullptr;
  ~Parsed() { PQconninfoFree(options); }
  std::string Get(const char* key) const {
    for (PQconninfoOption* o = options; o && o->keyword; ++o) {
      if (std::strcmp(o->keyword, key) == 0 && o->val) return o->val;
    }
    return "";
  }
};

}  // namespace

class PgStatement : public Statement {
 public:
  PgStatement(PgDatabase* db, std::string sql, std::string name)
      : db_(db), sql_(std::move(sql)), name_(std::move(name)) {}
  ~PgStatement() override = default;

  Statement& Bind(int index, int64_t value) override {
    const uint64_t be = htobe64(static_cast<uint64_t>(value));
    Set(index, std::string(reinterpret_cast<const char*>(&be), sizeof(be)), kInt8Oid);
    return *this;
  }
  Statement& Bind(int index, const std::string& value) override {
    Set(index, value, 0);  // the server infers text or bytea from the column
    return *this;
  }
  absl::StatusOr<bool> Step() override {
    if (!result_) {
      if (absl::Status s = Execute(); !s.ok()) return s;
      row_ = 0;
    } else {
      ++row_;
    }
    return row_ < PQntuples(result_.get());
  }
  absl::Status Run() override {
    absl::Status s = Execute();
    Reset();
    return s;
  }
  int64_t Int(int column) const override {
    const char* v = PQgetvalue(result_.get(), row_, column);
    switch (PQgetlength(result_.get(), row_, column)) {
      case 8: {
        uint64_t be;
        std::memcpy(&be, v, 8);
        return static_cast<int64_t>(be64toh(be));
      }
      case 4: {
        uint32_t be;
        std::memcpy(&be, v, 4);
        return static_cast<int32_t>(be32toh(be));
      }
      case 2: {
        uint16_t be;
        std::memcpy(&be, v, 2);
        return static_cast<int16_t>(be16toh(be));
      }
      default:
        return 0;  // NULL
    }
  }
  std::string Text(int column) const override {
    return std::string(PQgetvalue(result_.get(), row_, column),
                       static_cast<size_t>(PQgetlength(result_.get(), row_, column)));
  }
  void Reset() override {
    result_.reset();
    row_ = -1;
    values_.clear();
    types_.clear();
  }

  void Set(int index, std::string value, Oid type) {
    const size_t i = static_cast<size_t>(std::max(index, 1) - 1);
    if (values_.size() <= i) {
      values_.resize(i + 1);
      types_.resize(i + 1, 0);
    }
    values_[i] = std::move(value);
    types_[i] = type;
  }
  // Forgets the server-side statement (the connection it lived on is gone).
  void Unprepare() {
    result_.reset();
    row_ = -1;
    prepared_ = false;
  }

 private:
  absl::Status Execute() {
    absl::Status s = ExecuteOnce();
    if (!s.ok() && !db_->in_tx_ && db_->broken()) {
      // A connection that died while idle (the server restarted) shows it
      // on its first use: outside a transaction, open a new one and retry once.
      db_->next_attempt_ = {};
      if (db_->Reconnect().ok()) s = ExecuteOnce();
    }
    return s;
  }
  absl::Status ExecuteOnce() {
    PGconn* conn = db_->conn_;
    if (conn == nullptr) return absl::UnavailableError("no connection to PostgreSQL");
    const int n = static_cast<int>(values_.size());
    if (!prepared_) {
      Result r(PQprepare(conn, name_.c_str(), sql_.c_str(), n, types_.data()));
      if (!Succeeded(r.get())) return PgError(conn, r.get(), "prepare '" + sql_ + "'");
      prepared_ = true;
    }
    std::vector<const char*> ptrs(values_.size());
    std::vector<int> lengths(values_.size());
    std::vector<int> formats(values_.size(), 1);
    for (size_t i = 0; i < values_.size(); ++i) {
      ptrs[i] = values_[i].data();
      lengths[i] = static_cast<int>(values_[i].size());
    }
    result_.reset(
        PQexecPrepared(conn, name_.c_str(), n, ptrs.data(), lengths.data(), formats.data(), 1));
    if (!Succeeded(result_.get())) {
      absl::Status s = PgError(conn, result_.get(), "'" + sql_.substr(0, 80) + "'");
      result_.reset();
      return s;
    }
    db_->changes_ = Affected(result_.get());
    return absl::OkStatus();
  }

  PgDatabase* const db_;
  const std::string sql_;
  const std::string name_;
  bool prepared_ = false;
  std::vector<std::string> values_;
  std::vector<Oid> types_;
  Result result_;
  int row_ = -1;
};

bool IsPostgresTarget(const std::string& db) {
  return absl::StartsWith(db, "postgresql://") || absl::StartsWith(db, "postgres://") ||
         db.find('=') != std::string::npos;
}

absl::Status CheckPostgresTarget(const std::string& target) {
  char* err = nullptr;
  Parsed p{PQconninfoParse(target.c_str(), &err)};
  if (p.options == nullptr) {
    // libpq's message may quote the input: leave it out if a secret could be in it.
    const bool secret =
        target.find('@') != std::string::npos || target.find("password") != std::string::npos;
    absl::Status s = absl::InvalidArgumentError(
        absl::StrCat("--db is neither a PostgreSQL URI nor a libpq conninfo",
                     (err && !secret) ? ": " + Trimmed(err) : std::string()));
    PQfreemem(err);
    return s;
  }
  if (!p.Get("password").empty()) {
    return absl::InvalidArgumentError(
        "--db holds a password: never put one on a command line; give it in the PGPASSWORD "
        "environment variable or a ~/.pgpass file (PGPASSFILE names another)");
  }
  return absl::OkStatus();
}

std::string DescribePostgresTarget(const std::string& target) {
  Parsed p{PQconninfoParse(target.c_str(), nullptr)};
  if (p.options == nullptr) return "PostgreSQL database (unparsable --db)";
  auto or_default = [](std::string v, const char* d) { return v.empty() ? std::string(d) : v; };
  std::string host = p.Get("host");
  if (host.empty()) host = p.Get("hostaddr");
  return absl::StrCat("PostgreSQL database ", or_default(p.Get("dbname"), "(default)"), " on ",
                      or_default(host, "the local socket"), ":", or_default(p.Get("port"), "5432"));
}

absl::StatusOr<std::unique_ptr<PgDatabase>> PgDatabase::Connect(const std::string& target) {
  if (absl::Status s = CheckPostgresTarget(target); !s.ok()) return s;
  std::unique_ptr<PgDatabase> db(new PgDatabase(target));
  if (absl::Status s = db->Reconnect(); !s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", DescribePostgresTarget(target), ": ", s.message()));
  }
  return db;
}

PgDatabase::PgDatabase(std::string target) : target_(std::move(target)) {}

PgDatabase::~PgDatabase() { Drop(); }

void PgDatabase::Drop() {
  // Statements outlive connections (a caller may hold one while it
  // reconnects): they are prepared again on the next.
  for (auto& [sql, st] : statements_) st->Unprepare();
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  in_tx_ = false;
}

absl::Status PgDatabase::Reconnect() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL unavailable (", last_error_, "); reconnecting with backoff"));
  }
  Drop();
  // Defaults first: what the target says overrides them.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"5", "txmsg", target_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    last_error_ = conn_ ? Trimmed(PQerrorMessage(conn_)) : "out of memory";
    Drop();
    backoff_ = std::clamp<std::chrono::milliseconds>(backoff_ * 2, kMinBackoff, kMaxBackoff);
    next_attempt_ = now + backoff_;
    return absl::UnavailableError(absl::StrCat("PostgreSQL unavailable: ", last_error_));
  }
  PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
  backoff_ = std::chrono::milliseconds(0);
  next_attempt_ = {};
  return absl::OkStatus();
}

bool PgDatabase::broken() const { return conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK; }

absl::Status PgDatabase::EnsureConnected() {
  if (!broken()) return absl::OkStatus();
  if (in_tx_) return absl::UnavailableError("the PostgreSQL connection was lost in a transaction");
  return Reconnect();
}

absl::Status PgDatabase::Exec(const std::string& sql) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  Result r(PQexec(conn_, sql.c_str()));
  if (!Succeeded(r.get())) return PgError(conn_, r.get(), "'" + sql.substr(0, 60) + "'");
  changes_ = Affected(r.get());
  return absl::OkStatus();
}

absl::StatusOr<Statement*> PgDatabase::Prepare(const std::string& sql) {
  if (absl::Status s = EnsureConnected(); !s.ok()) return s;
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  auto st = std::make_unique<PgStatement>(this, PostgresPlaceholders(sql),
                                          absl::StrCat("txmsg_", ++next_name_));
  return statements_.emplace(sql, std::move(st)).first->second.get();
}

absl::Status PgDatabase::Begin() {
  in_tx_ = false;
  absl::Status s = Exec("BEGIN");
  if (!s.ok() && broken()) {
    // A connection that died while idle (the server restarted) shows it on
    // its first use: open a new one at once and try again, once.
    next_attempt_ = {};
    s = Exec("BEGIN");
  }
  if (!s.ok()) return s;
  in_tx_ = true;
  return absl::OkStatus();
}

absl::Status PgDatabase::Commit() {
  in_tx_ = false;
  if (broken())
    return absl::UnavailableError("the PostgreSQL connection was lost in a transaction");
  Result r(PQexec(conn_, "COMMIT"));
  if (!Succeeded(r.get())) {
    if (broken()) {
      return absl::UnknownError(
          "the PostgreSQL connection was lost during COMMIT: the transaction may or may not "
          "have committed");
    }
    return PgError(conn_, r.get(), "COMMIT");
  }
  // COMMIT of a transaction that had failed answers ROLLBACK, not an error.
  if (std::strcmp(PQcmdStatus(r.get()), "COMMIT") != 0) {
    return absl::AbortedError("the transaction was rolled back");
  }
  return absl::OkStatus();
}

void PgDatabase::Rollback() {
  in_tx_ = false;
  if (!broken()) PQclear(PQexec(conn_, "ROLLBACK"));
}

}  // namespace txmsg::sql
