// stock-service: consumes orders (topic_txmsg, group tx_stock_group),
// deducts stock in one SQLite transaction per order (batched commits), and
// publishes each outcome back with a transactional message of its own:
// DEDUCTED on topic_tx_confirm_msg, otherwise on topic_tx_rollback_msg.
#ifndef TXMSG_STOCK_STOCK_SERVICE_H_
#define TXMSG_STOCK_STOCK_SERVICE_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/prometheus.h"
#include "service/contract.h"
#include "service/credentials.h"
#include "service/db/batch_writer.h"
#include "service/db/database.h"
#include "service/db/database_health.h"
#include "service/db/service_store.h"
#include "service/http/http_server.h"
#include "service/poison.h"
#include "service/service_util.h"
#include "txmsg/consumer.h"
#include "txmsg/events.pb.h"
#include "txmsg/producer.h"

namespace txmsg::stock {

struct StockServiceOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 8082;
  std::string broker = "127.0.0.1:9876";
  service::ServiceTls tls;  // HTTPS and TLS to the broker
  std::string db = "./stock.db";          // a SQLite file or a PostgreSQL URI/conninfo
  sql::StoreOptions store;                // PostgreSQL pool and batch size
  std::map<int64_t, int64_t> seed_stock;  // product -> units, set at start
  uint32_t max_unacked = 1024;
  // Broker principal and HTTP tokens (docs/security.md); empty: none.
  service::ServiceCredentials credentials;
};

class StockService {
 public:
  // The most units one product may hold (PUT and --seed_stock alike).
  static constexpr int64_t kMaxTotalCount = 2'000'000'000;
  // OK for 0..kMaxTotalCount; INVALID_ARGUMENT otherwise.
  [[nodiscard]] static absl::Status CheckTotalCount(int64_t units);
  // --seed_stock's value, PRODUCT:UNITS[,...], checked as PUT checks them.
  [[nodiscard]] static absl::StatusOr<std::map<int64_t, int64_t>> ParseSeedStock(
      const std::string& flag);

  explicit StockService(StockServiceOptions options);
  ~StockService();
  StockService(const StockService&) = delete;
  StockService& operator=(const StockService&) = delete;

  [[nodiscard]] absl::Status Start();
  void Stop();
  uint16_t port() const { return http_ ? http_->port() : 0; }

 private:
  void OnOrder(Delivery d, std::function<void(ConsumeResult)> done);
  // Deducts (batched) and publishes the outcome; `done` acks the order.
  void Process(std::shared_ptr<events::OrderPlaced> order, std::function<void(ConsumeResult)> done);
  void Publish(const events::StockOutcome& outcome, std::function<void(ConsumeResult)> done);
  // The result for an order whose local transaction failed with `s`.
  ConsumeResult Failed(const events::OrderPlaced& order, const absl::Status& s);
  TxOutcome AnswerCheck(const CheckRequest& check);
  void GetProduct(const http::Request& req, http::Responder respond);
  void PutProduct(const http::Request& req, http::Responder respond);
  void Health(http::Responder respond);
  void Metrics(http::Responder respond);

  const StockServiceOptions options_;
  std::vector<std::unique_ptr<sql::Database>> write_dbs_;
  std::unique_ptr<sql::Database> read_db_;  // HTTP thread only
  std::unique_ptr<sql::BatchWriter> writer_;
  std::unique_ptr<TransactionProducer> producer_;
  std::unique_ptr<Consumer> consumer_;
  std::unique_ptr<http::Server> http_;

  std::atomic<uint64_t> handled_{0};
  std::atomic<uint64_t> deducted_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> republished_{0};
  std::atomic<uint64_t> checks_{0};
  std::atomic<uint64_t> unavailable_{0};
  base::LatencyHistogram handler_latency_;
  sql::DatabaseHealth db_health_{"stock-service"};
  service::PoisonMessages poison_{"stock-service"};
  base::LogLimiter log_;
};

}  // namespace txmsg::stock

#endif  // TXMSG_STOCK_STOCK_SERVICE_H_
