#include "service/db/tx_log.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "service/db/dialect.h"

namespace txmsg::sql {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status TxLog::CreateTable(Database& db) {
  const SqlTypes& t = TypesOf(db.dialect());
  return db.Exec(absl::StrCat("CREATE TABLE IF NOT EXISTS tx_log (id ", t.auto_id,
                              ", tx_no VARCHAR(64) NOT NULL UNIQUE, create_time ", t.int64,
                              " NOT NULL, state TEXT NOT NULL, detail ", t.blob,
                              " NOT NULL DEFAULT '')"));
}

absl::StatusOr<std::optional<TxLog::Entry>> TxLog::Find(Database& db, const std::string& tx_no) {
  absl::StatusOr<Statement*> st = db.Prepare("SELECT state, detail FROM tx_log WHERE tx_no = ?");
  if (!st.ok()) return st.status();
  (*st)->Bind(1, tx_no);
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::nullopt;
  Entry e{(*st)->Text(0), (*st)->Text(1)};
  (*st)->Reset();
  return e;
}

absl::Status TxLog::Insert(Database& db, const std::string& tx_no, const std::string& state,
                           const std::string& detail) {
  absl::StatusOr<Statement*> st =
      db.Prepare("INSERT INTO tx_log (tx_no, create_time, state, detail) VALUES (?, ?, ?, ?)");
  if (!st.ok()) return st.status();
  return (*st)->Bind(1, tx_no).Bind(2, NowMs()).Bind(3, state).Bind(4, detail).Run();
}

absl::StatusOr<bool> TxLog::InsertIfAbsent(Database& db, const std::string& tx_no,
                                           const std::string& state) {
  absl::StatusOr<Statement*> st = db.Prepare(
      "INSERT INTO tx_log (tx_no, create_time, state, detail) VALUES (?, ?, ?, '')"
      " ON CONFLICT(tx_no) DO NOTHING");
  if (!st.ok()) return st.status();
  if (absl::Status s = (*st)->Bind(1, tx_no).Bind(2, NowMs()).Bind(3, state).Run(); !s.ok()) {
    return s;
  }
  return db.Changes() == 1;
}

}  // namespace txmsg::sql
