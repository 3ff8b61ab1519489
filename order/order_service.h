// order-service: takes orders over HTTP and makes each one a reliable-message
// transaction (half message -> local SQLite transaction -> commit), answers
// the broker's check-backs from tx_log, and confirms or cancels orders when
// the stock service's outcome arrives.
#ifndef TXMSG_ORDER_ORDER_SERVICE_H_
#define TXMSG_ORDER_ORDER_SERVICE_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
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
#include "txmsg/http_api.pb.h"
#include "txmsg/producer.h"

namespace txmsg::order {

struct OrderServiceOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 8081;
  std::string broker = "127.0.0.1:9876";
  service::ServiceTls tls;  // HTTPS and TLS to the broker
  std::string db = "./order.db";  // a SQLite file or a PostgreSQL URI/conninfo
  sql::StoreOptions store;        // PostgreSQL pool and batch size
  int32_t max_pay_count = 10'000;
  size_t max_body_bytes = 16 * 1024;
  // Broker principal and HTTP tokens (docs/security.md); empty: none.
  service::ServiceCredentials credentials;
};

class OrderService {
 public:
  explicit OrderService(OrderServiceOptions options);
  ~OrderService();
  OrderService(const OrderService&) = delete;
  OrderService& operator=(const OrderService&) = delete;

  // Opens the database, connects to the broker (in the background if it is
  // not up yet), and starts serving HTTP.
  [[nodiscard]] absl::Status Start();
  void Stop();
  uint16_t port() const { return http_ ? http_->port() : 0; }

 private:
  void Submit(const http::Request& req, http::Responder respond);
  // Checks a submitOrder request; the error answer, or nullopt if it is fine.
  std::optional<http::Response> Validate(const http::Request& req,
                                         api::SubmitOrderRequest* body) const;
  // Answers a repeat of the order stored under an Idempotency-Key.
  http::Response Replay(const api::OrderView& original, const api::SubmitOrderRequest& body);
  // The same, for a key found taken by this request's own transaction.
  void ReplayByKey(const std::string& key, const api::SubmitOrderRequest& body,
                   http::Responder respond);
  // Stores the order (step 2) for the half message `id` and ends its transaction.
  void StoreAndCommit(std::shared_ptr<api::OrderView> order, uint64_t id, std::string key,
                      api::SubmitOrderRequest body, http::Responder respond,
                      std::chrono::steady_clock::time_point start);
  void GetOrder(const http::Request& req, http::Responder respond);
  void ListOrders(const http::Request& req, http::Responder respond);
  void Health(http::Responder respond);
  void Metrics(http::Responder respond);
  TxOutcome AnswerCheck(const CheckRequest& check);
  void OnOutcome(Delivery d, std::function<void(ConsumeResult)> done);
  // The result for an outcome whose local transaction failed with `s`.
  ConsumeResult Failed(const Delivery& d, const absl::Status& s);

  const OrderServiceOptions options_;
  std::vector<std::unique_ptr<sql::Database>> write_dbs_;
  std::unique_ptr<sql::Database> read_db_;  // HTTP thread only
  std::unique_ptr<sql::BatchWriter> writer_;
  std::unique_ptr<TransactionProducer> producer_;
  std::unique_ptr<Consumer> rollback_consumer_;
  std::unique_ptr<Consumer> confirm_consumer_;
  std::unique_ptr<http::Server> http_;

  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> unavailable_{0};
  std::atomic<uint64_t> outcomes_{0};
  std::atomic<uint64_t> checks_commit_{0};
  std::atomic<uint64_t> checks_rollback_{0};
  std::atomic<uint64_t> replayed_{0};
  std::atomic<uint64_t> outcomes_unavailable_{0};
  base::LatencyHistogram submit_latency_;
  base::LatencyHistogram outcome_latency_;
  sql::DatabaseHealth db_health_{"order-service"};
  service::PoisonMessages poison_{"order-service"};
  base::LogLimiter log_;
};

}  // namespace txmsg::order

#endif  // TXMSG_ORDER_ORDER_SERVICE_H_
