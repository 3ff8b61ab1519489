#include "order/order_service.h"

#include <chrono>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/json/proto_json.h"
#include "service/db/tx_log.h"
#include "order/order_repository.h"
#include "base/crash_point.h"
#include "base/crash_points.h"
#include "txmsg/events.pb.h"
#include "txmsg/http_api.pb.h"

namespace txmsg::order {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

http::Response Json(const google::protobuf::Message& m) {
  return http::Response{200, json::ToJson(m, json::Names::kCamel) + "\n"};
}

}  // namespace

OrderService::OrderService(OrderServiceOptions options) : options_(std::move(options)) {}

OrderService::~OrderService() { Stop(); }

absl::Status OrderService::Start() {
  absl::StatusOr<sql::ServiceStore> store =
      sql::OpenServiceStore(options_.db, &OrderRepository::CreateSchema);
  if (!store.ok()) return store.status();
  write_db_ = std::move(store->write);
  read_db_ = std::move(store->read);
  writer_ = std::move(store->writer);

  ClientOptions client;
  client.broker = options_.broker;
  client.client_id = absl::StrCat("order-service:", options_.port);
  producer_ = std::make_unique<TransactionProducer>(
      client, contract::kOrderProducerGroup, [this](const CheckRequest& c) { return AnswerCheck(c); });
  if (absl::Status s = producer_->Start(std::chrono::seconds(5)); !s.ok()) {
    std::fprintf(stderr, "order-service: %s; retrying in the background\n", s.ToString().c_str());
  }
  auto handler = [this](Delivery d, std::function<void(ConsumeResult)> done) {
    OnOutcome(std::move(d), std::move(done));
  };
  rollback_consumer_ = std::make_unique<Consumer>(
      ConsumerOptions{client, contract::kRollbackTopic, contract::kOrderOutcomeGroup, 512}, Consumer::AsyncHandler(handler));
  confirm_consumer_ = std::make_unique<Consumer>(
      ConsumerOptions{client, contract::kConfirmTopic, contract::kOrderOutcomeGroup, 512}, Consumer::AsyncHandler(handler));
  (void)rollback_consumer_->Start(std::chrono::milliseconds(0));
  (void)confirm_consumer_->Start(std::chrono::milliseconds(0));

  http_ = std::make_unique<http::Server>(options_.bind, options_.port, options_.max_body_bytes);
  http_->Route("POST", "/order/submitOrder", [this](const http::Request& r, http::Responder done) {
    Submit(r, std::move(done));
  });
  http_->Route("GET", "/order/orders/", [this](const http::Request& r, http::Responder done) {
    GetOrder(r, std::move(done));
  });
  http_->Route("GET", "/order/orders", [this](const http::Request& r, http::Responder done) {
    ListOrders(r, std::move(done));
  });
  http_->Route("GET", "/healthz", [this](const http::Request&, http::Responder done) {
    done(service::HealthResponse(producer_->connected()));
  });
  http_->Route("GET", "/metrics",
               [this](const http::Request&, http::Responder done) { Metrics(std::move(done)); });
  return http_->Start();
}

void OrderService::Stop() {
  if (http_) http_->Stop();
  rollback_consumer_.reset();
  confirm_consumer_.reset();
  producer_.reset();
  writer_.reset();  // finishes what is queued
  http_.reset();
}

void OrderService::Submit(const http::Request& req, http::Responder respond) {
  const auto start = Clock::now();
  api::SubmitOrderRequest body;
  if (absl::Status s = json::Parse(req.body, &body); !s.ok()) {
    ++rejected_;
    return respond(http::JsonError(400, "body is not a valid order: " + std::string(s.message())));
  }
  if (body.product_id() <= 0 || body.pay_count() <= 0) {
    ++rejected_;
    return respond(http::JsonError(400, "productId and payCount must be positive integers"));
  }
  if (body.pay_count() > options_.max_pay_count) {
    ++rejected_;
    return respond(http::JsonError(
        400, absl::StrCat("payCount is over the maximum of ", options_.max_pay_count)));
  }
  auto order = std::make_shared<api::OrderView>();
  order->set_order_no(service::NewUuid());
  order->set_tx_no(service::NewUuid());
  order->set_product_id(body.product_id());
  order->set_pay_count(body.pay_count());
  order->set_status(contract::kPending);

  events::OrderPlaced event;
  event.set_tx_no(order->tx_no());
  event.set_order_no(order->order_no());
  event.set_product_id(order->product_id());
  event.set_pay_count(order->pay_count());
  Message msg;
  msg.topic = contract::kOrderTopic;
  msg.key = order->order_no();
  msg.body = event.SerializeAsString();

  // 1. The half message: durable at the broker, invisible to stock.
  producer_->SendHalfAsync(
      std::move(msg), order->tx_no(), [this, order, respond, start](absl::StatusOr<uint64_t> id) {
        if (!id.ok()) {
          ++unavailable_;
          return respond(http::JsonError(503, "the broker cannot take the order right now: " +
                                                  std::string(id.status().message())));
        }
        CrashPoint(crash_points::kOrderHalfAckedBeforeLocalTx);
        // 2. The local transaction: order PENDING + tx_log, one commit (batched).
        order->set_create_time_ms(sql::NowMs());
        order->set_update_time_ms(order->create_time_ms());
        writer_->Submit(
            [order](sql::Database& db) { return OrderRepository::InsertPendingOrder(db, *order); },
            [this, order, id = *id, respond, start](absl::Status stored) {
              if (stored.ok()) CrashPoint(crash_points::kOrderLocalTxCommittedBeforeEndTx);
              // 3. Tell the broker. If this is lost, the check-back finds tx_log.
              producer_->EndTxAsync(id, order->tx_no(),
                                    stored.ok() ? TxOutcome::kCommit : TxOutcome::kRollback,
                                    [](absl::StatusOr<EndTxResult>) {});
              if (!stored.ok()) {
                ++unavailable_;
                return respond(
                    http::JsonError(503, "order not stored: " + std::string(stored.message())));
              }
              ++submitted_;
              submit_latency_.Observe(Since(start));
              respond(http::Response{200, json::Object({{"orderNo", order->order_no()},
                                                        {"txNo", order->tx_no()},
                                                        {"status", contract::kPending}}) +
                                              "\n"});
            });
      });
}

TxOutcome OrderService::AnswerCheck(const CheckRequest& check) {
  CrashPoint(crash_points::kOrderAnsweringCheck);
  TxOutcome outcome = TxOutcome::kUnknown;
  absl::Status s = writer_->Run([&](sql::Database& db) {
    absl::StatusOr<TxOutcome> r = OrderRepository::ResolveCheck(db, check.tx_id);
    if (!r.ok()) return r.status();
    outcome = *r;
    return absl::OkStatus();
  });
  if (!s.ok()) {
    std::fprintf(stderr, "order-service: check-back for %s failed: %s\n", check.tx_id.c_str(),
                 s.ToString().c_str());
    return TxOutcome::kUnknown;  // nothing stored: ask again later
  }
  ++(outcome == TxOutcome::kCommit ? checks_commit_ : checks_rollback_);
  return outcome;
}

void OrderService::OnOutcome(Delivery d, std::function<void(ConsumeResult)> done) {
  const auto start = Clock::now();
  events::StockOutcome outcome;
  if (!outcome.ParseFromString(d.message.body) || outcome.order_no().empty()) {
    std::fprintf(stderr, "order-service: dropping malformed outcome message %llu\n",
                 static_cast<unsigned long long>(d.message_id));
    return done(ConsumeResult::Success());  // retrying cannot fix it
  }
  const bool confirmed = outcome.outcome() == events::STOCK_DEDUCTED;
  const std::optional<std::string_view> cancel_reason = contract::CancelReason(outcome.outcome());
  if (!confirmed && !cancel_reason) {
    std::fprintf(stderr, "order-service: dropping outcome message %llu with unknown outcome %d\n",
                 static_cast<unsigned long long>(d.message_id), static_cast<int>(outcome.outcome()));
    return done(ConsumeResult::Success());  // retrying cannot fix it
  }
  const std::string reason(cancel_reason.value_or(""));
  writer_->Submit(
      [outcome, confirmed, reason](sql::Database& db) {
        return OrderRepository::ApplyOutcome(db, outcome.order_no(), confirmed, reason).status();
      },
      [this, done, start](absl::Status s) {
        if (!s.ok()) return done(ConsumeResult::RetryLater(200));
        ++outcomes_;
        outcome_latency_.Observe(Since(start));
        done(ConsumeResult::Success());  // acked only after the commit
      });
}

void OrderService::GetOrder(const http::Request& req, http::Responder respond) {
  const std::string order_no = req.path.substr(std::string("/order/orders/").size());
  absl::StatusOr<std::optional<api::OrderView>> o = OrderRepository::Find(*read_db_, order_no);
  if (!o.ok()) return respond(http::JsonError(500, std::string(o.status().message())));
  if (!*o) return respond(http::JsonError(404, "no order " + order_no));
  respond(Json(**o));
}

void OrderService::ListOrders(const http::Request& req, http::Responder respond) {
  std::string status;
  if (auto it = req.query.find("status"); it != req.query.end()) status = it->second;
  if (!status.empty() && !contract::IsOrderStatus(status)) {
    return respond(http::JsonError(400, "status must be PENDING, CONFIRMED or CANCELLED"));
  }
  int limit = 100;
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    if (!absl::SimpleAtoi(it->second, &limit) || limit < 1 || limit > 100'000) {
      return respond(http::JsonError(400, "limit must be 1-100000"));
    }
  }
  absl::StatusOr<std::vector<api::OrderView>> list =
      OrderRepository::List(*read_db_, status, limit);
  if (!list.ok()) return respond(http::JsonError(500, std::string(list.status().message())));
  api::OrderList out;
  for (auto& o : *list) *out.add_orders() = std::move(o);
  respond(Json(out));
}

void OrderService::Metrics(http::Responder respond) {
  base::PrometheusWriter w;
  absl::StatusOr<std::map<std::string, int64_t>> counts = OrderRepository::CountByStatus(*read_db_);
  w.Family("txmsg_orders", "gauge", "Orders by status.");
  if (counts.ok()) {
    for (const auto& [status, n] : *counts) {
      w.Sample("txmsg_orders", absl::StrCat("{status=\"", status, "\"}"), static_cast<uint64_t>(n));
    }
  }
  w.Metric("txmsg_orders_submitted_total", "counter", "Orders accepted (HTTP 200).",
           submitted_.load());
  w.Metric("txmsg_orders_rejected_total", "counter", "Orders refused as bad input (400).",
           rejected_.load());
  w.Metric("txmsg_orders_unavailable_total", "counter",
           "Orders refused because the broker or database could not take them (503).",
           unavailable_.load());
  w.Metric("txmsg_messages_handled_total", "counter", "Stock outcome messages applied.",
           outcomes_.load());
  w.Family("txmsg_checks_answered_total", "counter", "Check-backs answered.");
  w.Sample("txmsg_checks_answered_total", "{outcome=\"commit\"}", checks_commit_.load());
  w.Sample("txmsg_checks_answered_total", "{outcome=\"rollback\"}", checks_rollback_.load());
  w.Append(submit_latency_.Render("txmsg_submit_seconds", "Order submission, request to answer."));
  w.Append(outcome_latency_.Render("txmsg_outcome_handler_seconds",
                                   "Outcome message, receipt to commit."));
  respond(http::Response{200, w.text(), "text/plain; version=0.0.4"});
}

}  // namespace txmsg::order
