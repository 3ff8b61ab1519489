#include "service/db/dialect.h"

#include <cctype>

namespace txmsg::sql {

const SqlTypes& TypesOf(Dialect dialect) {
  // SQLite's are what its databases were always created with.
  static const SqlTypes kSqlite{"INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "BLOB"};
  static const SqlTypes kPostgres{"BIGSERIAL PRIMARY KEY", "BIGINT", "BYTEA"};
  return dialect == Dialect::kSqlite ? kSqlite : kPostgres;
}

absl::StatusOr<bool> HasColumn(Database& db, const std::string& table, const std::string& column) {
  absl::StatusOr<Statement*> st =
      db.dialect() == Dialect::kSqlite
          ? db.Prepare("SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?")
          : db.Prepare(
                "SELECT COUNT(*) FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?");
  if (!st.ok()) return st.status();
  (*st)->Bind(1, table).Bind(2, column);
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  const bool has = *row && (*st)->Int(0) > 0;
  (*st)->Reset();
  return has;
}

std::string PostgresPlaceholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int next = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      size_t j = i + 1;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      if (j > i + 1) {
        out += "$" + sql.substr(i + 1, j - i - 1);
        i = j - 1;
      } else {
        out += "$" + std::to_string(++next);
      }
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace txmsg::sql
