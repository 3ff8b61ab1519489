#include "service/db/schema.h"

#include "absl/strings/str_cat.h"

namespace txmsg::sql {
namespace {

// Any constant: the key of the advisory lock migrations hold on PostgreSQL.
constexpr char kMigrationLock[] = "SELECT pg_advisory_xact_lock(7240412001)";

absl::Status Apply(Database& db, const std::string& service,
                   const std::vector<Migration>& migrations) {
  if (db.dialect() == Dialect::kPostgres) {
    if (absl::Status s = db.Exec(kMigrationLock); !s.ok()) return s;
  }
  if (absl::Status s = db.Exec("CREATE TABLE IF NOT EXISTS txmsg_schema (service TEXT PRIMARY KEY, "
                               "version INT NOT NULL)");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<Statement*> st = db.Prepare("SELECT service FROM txmsg_schema WHERE service <> ?");
  if (!st.ok()) return st.status();
  (*st)->Bind(1, service);
  absl::StatusOr<bool> other = (*st)->Step();
  if (!other.ok()) return other.status();
  if (*other) {
    const std::string owner = (*st)->Text(0);
    (*st)->Reset();
    return absl::FailedPreconditionError(
        absl::StrCat("this database holds ", owner, "'s tables; give ", service,
                     " a database of its own (both keep a tx_log keyed by tx_no)"));
  }
  (*st)->Reset();
  absl::StatusOr<int> current = SchemaVersion(db, service);
  if (!current.ok()) return current.status();
  const int newest = migrations.empty() ? 0 : migrations.back().version;
  if (*current > newest) {
    return absl::FailedPreconditionError(
        absl::StrCat("the database's schema is version ", *current, ", newer than this ", service,
                     " knows (", newest, "): run a newer ", service, " (this one will not guess)"));
  }
  for (const Migration& m : migrations) {
    if (m.version <= *current) continue;
    if (absl::Status s = m.apply(db); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("schema migration to version ", m.version,
                                                 " failed: ", s.message()));
    }
  }
  if (newest == *current) return absl::OkStatus();
  st = db.Prepare(
      "INSERT INTO txmsg_schema (service, version) VALUES (?, ?)"
      " ON CONFLICT(service) DO UPDATE SET version = excluded.version");
  if (!st.ok()) return st.status();
  return (*st)->Bind(1, service).Bind(2, newest).Run();
}

}  // namespace

absl::StatusOr<int> SchemaVersion(Database& db, const std::string& service) {
  absl::StatusOr<Statement*> st = db.Prepare("SELECT version FROM txmsg_schema WHERE service = ?");
  if (!st.ok()) return st.status();
  (*st)->Bind(1, service);
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  const int version = *row ? static_cast<int>((*st)->Int(0)) : 0;
  (*st)->Reset();
  return version;
}

absl::Status Migrate(Database& db, const std::string& service,
                     const std::vector<Migration>& migrations) {
  if (absl::Status s = db.Begin(); !s.ok()) return s;
  absl::Status s = Apply(db, service, migrations);
  if (!s.ok()) {
    db.Rollback();
    return s;
  }
  return db.Commit();
}

}  // namespace txmsg::sql
