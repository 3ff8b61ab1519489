#include "stock/stock_repository.h"

#include "absl/strings/str_cat.h"
#include "base/crash_point.h"
#include "service/db/dialect.h"
#include "service/db/schema.h"
#include "service/db/tx_log.h"

namespace txmsg::stock {

using sql::Database;
using sql::Statement;

namespace {

absl::Status CreateTablesV1(Database& db) {
  const sql::SqlTypes& t = sql::TypesOf(db.dialect());
  if (absl::Status s =
          db.Exec(absl::StrCat("CREATE TABLE IF NOT EXISTS stock (id ", t.auto_id,
                               ", product_id BIGINT NOT NULL UNIQUE,"
                               " total_count INT NOT NULL CHECK (total_count >= 0), create_time ",
                               t.int64, " NOT NULL)"));
      !s.ok()) {
    return s;
  }
  return sql::TxLog::CreateTable(db);
}

}  // namespace

absl::Status StockRepository::CreateSchema(Database& db) {
  return sql::Migrate(db, "stock-service", {{1, &CreateTablesV1}});
}

absl::Status StockRepository::SetStock(Database& db, int64_t product_id, int64_t total) {
  absl::StatusOr<Statement*> st = db.Prepare(
      "INSERT INTO stock (product_id, total_count, create_time) VALUES (?, ?, ?)"
      " ON CONFLICT(product_id) DO UPDATE SET total_count = excluded.total_count");
  if (!st.ok()) return st.status();
  return (*st)->Bind(1, product_id).Bind(2, total).Bind(3, sql::NowMs()).Run();
}

absl::Status StockRepository::SeedStock(Database& db, int64_t product_id, int64_t total) {
  absl::StatusOr<Statement*> st = db.Prepare(
      "INSERT INTO stock (product_id, total_count, create_time) VALUES (?, ?, ?)"
      " ON CONFLICT(product_id) DO NOTHING");
  if (!st.ok()) return st.status();
  return (*st)->Bind(1, product_id).Bind(2, total).Bind(3, sql::NowMs()).Run();
}

absl::StatusOr<std::optional<int64_t>> StockRepository::GetStock(Database& db, int64_t product_id) {
  absl::StatusOr<Statement*> st = db.Prepare("SELECT total_count FROM stock WHERE product_id = ?");
  if (!st.ok()) return st.status();
  (*st)->Bind(1, product_id);
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::nullopt;
  const int64_t total = (*st)->Int(0);
  (*st)->Reset();
  return total;
}

absl::StatusOr<events::StockOutcome> StockRepository::Deduct(Database& db,
                                                             const events::OrderPlaced& order,
                                                             bool* fresh) {
  *fresh = false;
  // The skip_idempotency mutation (a fault-suite control) forgets tx_log.
  const bool skip = TestMutation("skip_idempotency");
  if (db.dialect() == sql::Dialect::kPostgres && !skip)
    return DeductInOneStatement(db, order, fresh);
  absl::StatusOr<std::optional<sql::TxLog::Entry>> done =
      skip ? absl::StatusOr<std::optional<sql::TxLog::Entry>>(std::nullopt)
           : sql::TxLog::Find(db, order.tx_no());
  if (!done.ok()) return done.status();
  events::StockOutcome outcome;
  if (*done) {
    if (!outcome.ParseFromString((*done)->detail)) {
      return absl::DataLossError("tx_log detail of " + order.tx_no() + " is not an outcome");
    }
    return outcome;
  }
  outcome.set_tx_no(order.tx_no());
  outcome.set_order_no(order.order_no());
  outcome.set_product_id(order.product_id());
  outcome.set_pay_count(order.pay_count());
  absl::StatusOr<Statement*> st = db.Prepare(
      "UPDATE stock SET total_count = total_count - ?1 WHERE product_id = ?2 AND total_count >= "
      "?1");
  if (!st.ok()) return st.status();
  if (absl::Status s = (*st)->Bind(1, order.pay_count()).Bind(2, order.product_id()).Run();
      !s.ok()) {
    return s;
  }
  if (db.Changes() == 1) {
    outcome.set_outcome(events::STOCK_DEDUCTED);
  } else {
    absl::StatusOr<std::optional<int64_t>> exists = GetStock(db, order.product_id());
    if (!exists.ok()) return exists.status();
    outcome.set_outcome(*exists ? events::STOCK_INSUFFICIENT : events::STOCK_UNKNOWN_PRODUCT);
  }
  if (absl::Status s =
          sql::TxLog::Insert(db, order.tx_no(), events::StockOutcomeKind_Name(outcome.outcome()),
                             outcome.SerializeAsString());
      !s.ok()) {
    return s;
  }
  *fresh = true;
  return outcome;
}

namespace {

// The same rules as Deduct's statements, in one statement (one round trip)
// for PostgreSQL: the row lock on a popular product is held from the UPDATE
// to the batch's COMMIT, so every round trip after it delays every other
// batch that wants the product. The tx_log lookup, the conditional UPDATE
// and the tx_log row with the outcome (whose event comes pre-serialized
// for each possible outcome) are CTEs of one INSERT; a concurrent attempt
// at the same tx_no fails on the UNIQUE key and rolls back its UPDATE.
constexpr char kDeductOnce[] =
    "WITH prior AS (SELECT state, detail FROM tx_log WHERE tx_no = ?1),"
    " upd AS (UPDATE stock SET total_count = total_count - ?2"
    "  WHERE product_id = ?3 AND total_count >= ?2 AND NOT EXISTS (SELECT 1 FROM prior)"
    "  RETURNING 1),"
    " kind AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM upd) THEN 0"
    "  WHEN EXISTS (SELECT 1 FROM stock WHERE product_id = ?3) THEN 1 ELSE 2 END AS k),"
    " ins AS (INSERT INTO tx_log (tx_no, create_time, state, detail)"
    "  SELECT ?1, ?4, (ARRAY[?5::text, ?6::text, ?7::text])[k + 1],"
    "   (ARRAY[?8::bytea, ?9::bytea, ?10::bytea])[k + 1]"
    "  FROM kind WHERE NOT EXISTS (SELECT 1 FROM prior) RETURNING detail)"
    " SELECT detail, 0 FROM prior UNION ALL SELECT detail, 1 FROM ins";

}  // namespace

absl::StatusOr<events::StockOutcome> StockRepository::DeductInOneStatement(
    Database& db, const events::OrderPlaced& order, bool* fresh) {
  const events::StockOutcomeKind kinds[] = {events::STOCK_DEDUCTED, events::STOCK_INSUFFICIENT,
                                            events::STOCK_UNKNOWN_PRODUCT};
  absl::StatusOr<Statement*> st = db.Prepare(kDeductOnce);
  if (!st.ok()) return st.status();
  (*st)->Bind(1, order.tx_no()).Bind(2, order.pay_count()).Bind(3, order.product_id());
  (*st)->Bind(4, sql::NowMs());
  for (int i = 0; i < 3; ++i) {
    events::StockOutcome o;
    o.set_tx_no(order.tx_no());
    o.set_order_no(order.order_no());
    o.set_product_id(order.product_id());
    o.set_pay_count(order.pay_count());
    o.set_outcome(kinds[i]);
    (*st)->Bind(5 + i, events::StockOutcomeKind_Name(kinds[i]));
    (*st)->Bind(8 + i, o.SerializeAsString());
  }
  absl::StatusOr<bool> row = (*st)->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError("the deduct statement returned no row");
  events::StockOutcome outcome;
  const bool parsed = outcome.ParseFromString((*st)->Text(0));
  *fresh = (*st)->Int(1) == 1;
  (*st)->Reset();
  if (!parsed)
    return absl::DataLossError("tx_log detail of " + order.tx_no() + " is not an outcome");
  return outcome;
}

absl::StatusOr<bool> StockRepository::HasTx(Database& db, const std::string& tx_no) {
  absl::StatusOr<std::optional<sql::TxLog::Entry>> e = sql::TxLog::Find(db, tx_no);
  if (!e.ok()) return e.status();
  return e->has_value();
}

}  // namespace txmsg::stock
