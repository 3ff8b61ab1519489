#include "service/db/service_store.h"

#include "absl/strings/str_cat.h"
#include "service/db/pg_database.h"

namespace txmsg::sql {
namespace {

absl::StatusOr<std::unique_ptr<Database>> Connect(const std::string& db) {
  if (!IsPostgresTarget(db)) return Database::Open(db);
  absl::StatusOr<std::unique_ptr<PgDatabase>> pg = PgDatabase::Connect(db);
  if (!pg.ok()) return pg.status();
  return std::unique_ptr<Database>(*std::move(pg));
}

}  // namespace

absl::StatusOr<ServiceStore> OpenServiceStore(const std::string& db,
                                              const std::function<absl::Status(Database&)>& prepare,
                                              StoreOptions options) {
  const bool pg = IsPostgresTarget(db);
  if (pg && (options.pool < 1 || options.pool > 64 || options.max_batch < 1)) {
    return absl::InvalidArgumentError("the PostgreSQL pool wants 1-64 connections, batches >= 1");
  }
  ServiceStore store;
  store.description = pg ? DescribePostgresTarget(db) : absl::StrCat("SQLite file ", db);
  const int writers = pg ? options.pool : 1;
  for (int i = 0; i < writers; ++i) {
    absl::StatusOr<std::unique_ptr<Database>> conn = Connect(db);
    if (!conn.ok()) return conn.status();
    store.write.push_back(*std::move(conn));
    if (i == 0) {
      if (absl::Status s = prepare(*store.write[0]); !s.ok()) return s;
    }
  }
  absl::StatusOr<std::unique_ptr<Database>> read = Connect(db);
  if (!read.ok()) return read.status();
  store.read = *std::move(read);
  std::vector<Database*> conns;
  for (auto& c : store.write) conns.push_back(c.get());
  store.writer = std::make_unique<BatchWriter>(std::move(conns), pg ? options.max_batch : 1024);
  return store;
}

}  // namespace txmsg::sql
