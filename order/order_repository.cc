#include "order/order_repository.h"

#include "absl/strings/str_cat.h"
#include "service/contract.h"
#include "service/db/dialect.h"
#include "service/db/schema.h"
#include "service/db/tx_log.h"

namespace txmsg::order {

using sql::Database;
using sql::Statement;

absl::Status OrderRepository::CreateSchema(Database& db) {
  return sql::Migrate(db, "order-service", {{1, &CreateTablesV1}});
}

absl::Status OrderRepository::CreateTablesV1(Database& db) {
  // Idempotent: databases made before versions were recorded pass here too.
  const sql::SqlTypes& t = sql::TypesOf(db.dialect());
  if (absl::Status s =
          db.Exec(absl::StrCat("CREATE TABLE IF NOT EXISTS \"order\" (id ", t.auto_id,
                               ", order_no VARCHAR(64) NOT NULL UNIQUE, product_id BIGINT NOT NULL,"
                               " pay_count INT NOT NULL, create_time ",
                               t.int64,
                               " NOT NULL, status TEXT NOT NULL, tx_no VARCHAR(64) NOT NULL UNIQUE,"
                               " reason TEXT NOT NULL DEFAULT '', update_time ",
                               t.int64, " NOT NULL)"));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = db.Exec("CREATE INDEX IF NOT EXISTS order_status ON \"order\"(status, id)");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AddIdempotencyKey(db); !s.ok()) return s;
  return sql::TxLog::CreateTable(db);
}

absl::Status OrderRepository::AddIdempotencyKey(Database& db) {
  // Databases made before the key existed lack the column: add it. NULL
  // (no key) is never equal to anything, so the UNIQUE index allows any
  // number of orders without a key.
  absl::StatusOr<bool> has_column = sql::HasColumn(db, "order", "idempotency_key");
  if (!has_column.ok()) return has_column.status();
  if (!*has_column) {
    if (absl::Status s = db.Exec("ALTER TABLE \"order\" ADD COLUMN idempotency_key TEXT");
        !s.ok()) {
      return s;
    }
  }
  return db.Exec(
      "CREATE UNIQUE INDEX IF NOT EXISTS order_idempotency_key ON \"order\"(idempotency_key)");
}

absl::Status OrderRepository::InsertPendingOrder(Database& db, const api::OrderView& o,
                                                 const std::string& idempotency_key) {
  // tx_log first: if a check-back already answered ROLLBACK for this tx_no,
  // its row holds the key and this transaction must fail before anything.
  if (absl::Status s = sql::TxLog::Insert(db, o.tx_no(), kCommitted); !s.ok()) {
    if (sql::IsConstraintViolation(s)) {
      return absl::FailedPreconditionError(
          "the broker was already told this transaction rolled back");
    }
    return s;
  }
  absl::StatusOr<Statement*> st = db.Prepare(
      "INSERT INTO \"order\" (order_no, product_id, pay_count, create_time, status, tx_no, "
      "update_time, idempotency_key)"
      " VALUES (?, ?, ?, ?, 'PENDING', ?, ?, NULLIF(?, ''))");
  if (!st.ok()) return st.status();
  absl::Status s = (*st)
                       ->Bind(1, o.order_no())
                       .Bind(2, o.product_id())
                       .Bind(3, o.pay_count())
                       .Bind(4, o.create_time_ms())
                       .Bind(5, o.tx_no())
                       .Bind(6, o.create_time_ms())
                       .Bind(7, idempotency_key)
                       .Run();
  if (sql::IsConstraintViolation(s) && !idempotency_key.empty()) {
    return absl::AlreadyExistsError("an order with this Idempotency-Key exists already");
  }
  return s;
}

absl::StatusOr<TxOutcome> OrderRepository::ResolveCheck(Database& db, const std::string& tx_no) {
  // Insert-or-read on the tx_log key: the ROLLED_BACK row goes in unless
  // the local transaction's row is there; one still in flight on another
  // connection makes the insert wait for it (PostgreSQL) or cannot run
  // beside it (SQLite's one writer). Whoever inserts first wins.
  absl::StatusOr<bool> inserted = sql::TxLog::InsertIfAbsent(db, tx_no, kRolledBack);
  if (!inserted.ok()) return inserted.status();
  if (*inserted) return TxOutcome::kRollback;
  absl::StatusOr<std::optional<sql::TxLog::Entry>> found = sql::TxLog::Find(db, tx_no);
  if (!found.ok()) return found.status();
  if (!*found) return absl::AbortedError("tx_log row of " + tx_no + " vanished");
  return (*found)->state == kCommitted ? TxOutcome::kCommit : TxOutcome::kRollback;
}

absl::StatusOr<OrderRepository::Applied> OrderRepository::ApplyOutcome(Database& db,
                                                                       const std::string& order_no,
                                                                       const std::string& tx_no,
                                                                       bool confirmed,
                                                                       const std::string& reason) {
  absl::StatusOr<Statement*> st = db.Prepare(
      "UPDATE \"order\" SET status = ?, reason = ?, update_time = ?"
      " WHERE order_no = ? AND tx_no = ? AND status = 'PENDING'");
  if (!st.ok()) return st.status();
  absl::Status s =
      (*st)
          ->Bind(1, std::string(confirmed ? contract::kConfirmed : contract::kCancelled))
          .Bind(2, reason)
          .Bind(3, sql::NowMs())
          .Bind(4, order_no)
          .Bind(5, tx_no)
          .Run();
  if (!s.ok()) return s;
  if (db.Changes() > 0) return Applied::kChanged;
  st = db.Prepare("SELECT COUNT(*) FROM \"order\" WHERE order_no = ? AND tx_no = ?");
  if (!st.ok()) return st.status();
  (*st)->Bind(1, order_no).Bind(2, tx_no);
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  const bool exists = *row && (*st)->Int(0) > 0;
  (*st)->Reset();
  return exists ? Applied::kAlreadySettled : Applied::kNoSuchOrder;
}

namespace {

constexpr char kColumns[] =
    "SELECT order_no, tx_no, product_id, pay_count, status, reason, create_time, update_time"
    " FROM \"order\" ";

api::OrderView Row(const Statement& st) {
  api::OrderView o;
  o.set_order_no(st.Text(0));
  o.set_tx_no(st.Text(1));
  o.set_product_id(st.Int(2));
  o.set_pay_count(static_cast<int32_t>(st.Int(3)));
  o.set_status(st.Text(4));
  o.set_reason(st.Text(5));
  o.set_create_time_ms(st.Int(6));
  o.set_update_time_ms(st.Int(7));
  return o;
}

}  // namespace

namespace {

// The one order whose `column` equals `value`, if any.
absl::StatusOr<std::optional<api::OrderView>> FindOneWhere(Database& db, const char* column,
                                                           const std::string& value) {
  absl::StatusOr<Statement*> st = db.Prepare(absl::StrCat(kColumns, "WHERE ", column, " = ?"));
  if (!st.ok()) return st.status();
  (*st)->Bind(1, value);
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::nullopt;
  api::OrderView o = Row(**st);
  (*st)->Reset();
  return o;
}

}  // namespace

absl::StatusOr<std::optional<api::OrderView>> OrderRepository::Find(Database& db,
                                                                    const std::string& order_no) {
  return FindOneWhere(db, "order_no", order_no);
}

absl::StatusOr<std::optional<api::OrderView>> OrderRepository::FindByIdempotencyKey(
    Database& db, const std::string& idempotency_key) {
  return FindOneWhere(db, "idempotency_key", idempotency_key);
}

absl::StatusOr<std::vector<api::OrderView>> OrderRepository::List(Database& db,
                                                                  const std::string& status,
                                                                  int limit) {
  absl::StatusOr<Statement*> st =
      status.empty()
          ? db.Prepare(std::string(kColumns) + "ORDER BY id DESC LIMIT ?")
          : db.Prepare(std::string(kColumns) + "WHERE status = ? ORDER BY id DESC LIMIT ?");
  if (!st.ok()) return st.status();
  if (status.empty()) {
    (*st)->Bind(1, limit);
  } else {
    (*st)->Bind(1, status).Bind(2, limit);
  }
  std::vector<api::OrderView> out;
  while (true) {
    absl::StatusOr<bool> row = (*st)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(Row(**st));
  }
  (*st)->Reset();
  return out;
}

absl::StatusOr<std::map<std::string, int64_t>> OrderRepository::CountByStatus(Database& db) {
  absl::StatusOr<Statement*> st =
      db.Prepare("SELECT status, COUNT(*) FROM \"order\" GROUP BY status");
  if (!st.ok()) return st.status();
  std::map<std::string, int64_t> out = {
      {contract::kPending, 0}, {contract::kConfirmed, 0}, {contract::kCancelled, 0}};
  while (true) {
    absl::StatusOr<bool> row = (*st)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out[(*st)->Text(0)] = (*st)->Int(1);
  }
  (*st)->Reset();
  return out;
}

}  // namespace txmsg::order
