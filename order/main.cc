// order-service: parse flags, start the service, stop on SIGTERM/SIGINT.
#include <algorithm>
#include <cstdio>

#include "absl/flags/flag.h"
#include "base/flags.h"
#include "base/signals.h"
#include "order/order_service.h"
#include "service/credential_flags.h"
#include "service/tls_flags.h"
#include "txmsg/broker_address.h"

ABSL_FLAG(int32_t, port, 8081, "HTTP port (0: pick a free one and print it)");
ABSL_FLAG(std::string, bind, "127.0.0.1", "HTTP listen address");
ABSL_FLAG(std::string, broker, "127.0.0.1:9876", "broker address HOST:PORT");
ABSL_FLAG(std::string, db, "./order.db",
          "SQLite database file (created if missing), or a PostgreSQL database: a "
          "postgresql://USER@HOST:PORT/DBNAME URI or a libpq conninfo 'host=... dbname=...' "
          "(password from PGPASSWORD or ~/.pgpass, never here)");
ABSL_FLAG(int32_t, db_pool, 4, "PostgreSQL only: write connections (1-64)");
ABSL_FLAG(int32_t, db_batch, 64, "PostgreSQL only: most local transactions per commit");
ABSL_FLAG(int32_t, max_pay_count, 10000, "largest payCount one order may ask for");

int main(int argc, char** argv) {
  const std::vector<std::string> args = txmsg::base::ParseFlags(
      argc, argv,
      "places orders as reliable-message transactions through the txmsg broker.\n"
      "HTTP: POST /order/submitOrder {\"productId\":1,\"payCount\":2} (optional header "
      "Idempotency-Key), GET "
      "/order/orders/{orderNo},\n"
      "GET /order/orders?status=&limit=, GET /healthz, GET /metrics.\n"
      "Usage: order-service [--port 8081] [--broker 127.0.0.1:9876] [--db ./order.db]");
  if (!args.empty()) {
    std::fprintf(stderr, "order-service: unexpected argument '%s' (see --help)\n", args[0].c_str());
    return 2;
  }
  const int port = absl::GetFlag(FLAGS_port);
  if (port < 0 || port > 65535 || absl::GetFlag(FLAGS_max_pay_count) < 1) {
    std::fprintf(stderr, "order-service: --port must be 0-65535 and --max_pay_count >= 1\n");
    return 2;
  }
  if (absl::StatusOr<txmsg::BrokerAddress> a =
          txmsg::ParseBrokerAddress(absl::GetFlag(FLAGS_broker));
      !a.ok()) {
    std::fprintf(stderr, "order-service: --broker: %s\n",
                 std::string(a.status().message()).c_str());
    return 2;
  }
  txmsg::service::RaiseFdLimitOrWarn("order-service");
  txmsg::order::OrderServiceOptions o;
  if (const std::string bad =
          txmsg::service::ServiceTlsFromFlags(absl::GetFlag(FLAGS_bind), &o.tls);
      !bad.empty()) {
    std::fprintf(stderr, "order-service: %s\n", bad.c_str());
    return 2;
  }
  txmsg::base::BlockStopSignals();
  o.port = static_cast<uint16_t>(port);
  o.bind = absl::GetFlag(FLAGS_bind);
  o.broker = absl::GetFlag(FLAGS_broker);
  o.db = absl::GetFlag(FLAGS_db);
  absl::StatusOr<txmsg::service::ServiceCredentials> credentials =
      txmsg::service::CredentialsFromFlags();
  if (!credentials.ok()) {
    std::fprintf(stderr, "order-service: %s\n",
                 std::string(credentials.status().message()).c_str());
    return 2;
  }
  o.credentials = *std::move(credentials);
  o.store.pool = absl::GetFlag(FLAGS_db_pool);
  o.store.max_batch = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_db_batch)));
  o.max_pay_count = absl::GetFlag(FLAGS_max_pay_count);
  txmsg::order::OrderService service(o);
  if (absl::Status s = service.Start(); !s.ok()) {
    std::fprintf(stderr, "order-service: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("order-service listening on %s:%u\n", o.bind.c_str(), service.port());
  std::fflush(stdout);
  const int sig = txmsg::base::WaitForStopSignal();
  std::fprintf(stderr, "order-service: signal %d, stopping\n", sig);
  service.Stop();
  return 0;
}
