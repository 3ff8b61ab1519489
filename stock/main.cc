// stock-service: parse flags, start the service, stop on SIGTERM/SIGINT.
#include <algorithm>
#include <cstdio>

#include "absl/flags/flag.h"
#include "base/flags.h"
#include "base/signals.h"
#include "service/credential_flags.h"
#include "service/tls_flags.h"
#include "stock/stock_service.h"
#include "txmsg/broker_address.h"

ABSL_FLAG(int32_t, port, 8082, "HTTP port (0: pick a free one and print it)");
ABSL_FLAG(std::string, bind, "127.0.0.1", "HTTP listen address");
ABSL_FLAG(std::string, broker, "127.0.0.1:9876", "broker address HOST:PORT");
ABSL_FLAG(std::string, admin_token_file, "",
          "file holding the bearer token that PUT /stock/products/{id} needs (mode 0600); "
          "another valid token gets 403. Empty: PUT needs only the API token, if any");
ABSL_FLAG(std::string, db, "./stock.db",
          "SQLite database file (created if missing), or a PostgreSQL database: a "
          "postgresql://USER@HOST:PORT/DBNAME URI or a libpq conninfo 'host=... dbname=...' "
          "(password from PGPASSWORD or ~/.pgpass, never here)");
ABSL_FLAG(int32_t, db_pool, 4, "PostgreSQL only: write connections (1-64)");
ABSL_FLAG(int32_t, db_batch, 64, "PostgreSQL only: most local transactions per commit");
ABSL_FLAG(std::string, seed_stock, "",
          "products to create at start: PRODUCT:UNITS[,...], e.g. 1:100,2:50 (existing products "
          "keep their stock; PUT /stock/products/{id} changes it); PRODUCT 1-9007199254740991, "
          "UNITS 0-2000000000");

int main(int argc, char** argv) {
  const std::vector<std::string> args = txmsg::base::ParseFlags(
      argc, argv,
      "deducts stock for orders from the txmsg broker and publishes each outcome.\n"
      "HTTP: GET /stock/products/{productId}, PUT /stock/products/{productId} {\"totalCount\": "
      "n},\n"
      "GET /healthz, GET /metrics.\n"
      "Usage: stock-service [--port 8082] [--broker 127.0.0.1:9876] [--db ./stock.db] "
      "[--seed_stock 1:100,2:50]");
  if (!args.empty()) {
    std::fprintf(stderr, "stock-service: unexpected argument '%s' (see --help)\n", args[0].c_str());
    return 2;
  }
  txmsg::stock::StockServiceOptions o;
  const int port = absl::GetFlag(FLAGS_port);
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "stock-service: --port must be 0-65535\n");
    return 2;
  }
  absl::StatusOr<std::map<int64_t, int64_t>> seed =
      txmsg::stock::StockService::ParseSeedStock(absl::GetFlag(FLAGS_seed_stock));
  if (!seed.ok()) {
    std::fprintf(stderr, "stock-service: %s\n", std::string(seed.status().message()).c_str());
    return 2;
  }
  o.seed_stock = *std::move(seed);
  txmsg::service::RaiseFdLimitOrWarn("stock-service");
  if (absl::StatusOr<txmsg::BrokerAddress> a =
          txmsg::ParseBrokerAddress(absl::GetFlag(FLAGS_broker));
      !a.ok()) {
    std::fprintf(stderr, "stock-service: --broker: %s\n",
                 std::string(a.status().message()).c_str());
    return 2;
  }
  if (const std::string bad =
          txmsg::service::ServiceTlsFromFlags(absl::GetFlag(FLAGS_bind), &o.tls);
      !bad.empty()) {
    std::fprintf(stderr, "stock-service: %s\n", bad.c_str());
    return 2;
  }
  txmsg::base::BlockStopSignals();
  o.port = static_cast<uint16_t>(port);
  o.bind = absl::GetFlag(FLAGS_bind);
  o.broker = absl::GetFlag(FLAGS_broker);
  o.db = absl::GetFlag(FLAGS_db);
  absl::StatusOr<txmsg::service::ServiceCredentials> credentials =
      txmsg::service::CredentialsFromFlags(absl::GetFlag(FLAGS_admin_token_file));
  if (!credentials.ok()) {
    std::fprintf(stderr, "stock-service: %s\n",
                 std::string(credentials.status().message()).c_str());
    return 2;
  }
  o.credentials = *std::move(credentials);
  o.store.pool = absl::GetFlag(FLAGS_db_pool);
  o.store.max_batch = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_db_batch)));
  txmsg::stock::StockService service(o);
  if (absl::Status s = service.Start(); !s.ok()) {
    std::fprintf(stderr, "stock-service: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("stock-service listening on %s:%u\n", o.bind.c_str(), service.port());
  std::fflush(stdout);
  const int sig = txmsg::base::WaitForStopSignal();
  std::fprintf(stderr, "stock-service: signal %d, stopping\n", sig);
  service.Stop();
  return 0;
}
