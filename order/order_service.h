// order-service: takes orders over HTTP and makes each one a reliable-message
// transaction (half message -> local SQLite transaction -> commit), answers
// the broker's check-backs from tx_log, and confirms or cancels orders when
// the stock service's outcome arrives.
#ifndef TXMSG_ORDER_ORDER_SERVICE_H_
#define TXMSG_ORDER_ORDER_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "service/http/http_server.h"
#include "base/prometheus.h"
#include "service/contract.h"
#include "service/service_util.h"
#include "service/db/batch_writer.h"
#include "service/db/database.h"
#include "txmsg/consumer.h"
#include "txmsg/producer.h"

namespace txmsg::order {

struct OrderServiceOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 8081;
  std::string broker = "127.0.0.1:9876";
  std::string db = "./order.db";
  int32_t max_pay_count = 10'000;
  size_t max_body_bytes = 16 * 1024;
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
  void GetOrder(const http::Request& req, http::Responder respond);
  void ListOrders(const http::Request& req, http::Responder respond);
  void Metrics(http::Responder respond);
  TxOutcome AnswerCheck(const CheckRequest& check);
  void OnOutcome(Delivery d, std::function<void(ConsumeResult)> done);

  const OrderServiceOptions options_;
  std::unique_ptr<sql::Database> write_db_;
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
  base::LatencyHistogram submit_latency_;
  base::LatencyHistogram outcome_latency_;
};

}  // namespace txmsg::order

#endif  // TXMSG_ORDER_ORDER_SERVICE_H_
