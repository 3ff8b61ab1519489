// order-service's HTTP API for reading: orders, health and metrics
// (docs/http_api.md). Submitting is the transaction flow, in order_service.cc.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "order/order_repository.h"
#include "order/order_service.h"
#include "proto/json/proto_json.h"
#include "txmsg/http_api.pb.h"

namespace txmsg::order {
namespace {

http::Response Json(const google::protobuf::Message& m) {
  return http::Response{200, json::ToJson(m, json::Names::kCamel) + "\n"};
}

}  // namespace

void OrderService::GetOrder(const http::Request& req, http::Responder respond) {
  const std::string order_no = req.path.substr(std::string("/order/orders/").size());
  absl::StatusOr<std::optional<api::OrderView>> o = OrderRepository::Find(*read_db_, order_no);
  if (!o.ok()) return respond(service::DatabaseErrorResponse(o.status()));
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
  if (!list.ok()) return respond(service::DatabaseErrorResponse(list.status()));
  api::OrderList out;
  for (auto& o : *list) *out.add_orders() = std::move(o);
  respond(Json(out));
}

void OrderService::Health(http::Responder respond) {
  db_health_.CheckReachable(*read_db_);
  db_health_.ProbeIfDown(*writer_, [this, respond] {
    service::BrokerState broker =
        service::BrokerStateOf(producer_->connected(), producer_->responsive());
    for (const Consumer* c : {rollback_consumer_.get(), confirm_consumer_.get()}) {
      broker = service::Worst(broker, service::BrokerStateOf(c->subscribed(), c->responsive()));
    }
    respond(service::HealthResponse(broker, db_health_.available()));
  });
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
  w.Metric("txmsg_orders_replayed_total", "counter",
           "Repeats of an order with the same Idempotency-Key, answered with the original.",
           replayed_.load());
  w.Metric("txmsg_messages_unavailable_total", "counter",
           "Outcome messages given back because the database could not take them "
           "(redelivered later without spending an attempt).",
           outcomes_unavailable_.load());
  db_health_.Render(w);
  poison_.Render(w);
  w.Family("txmsg_checks_answered_total", "counter", "Check-backs answered.");
  w.Sample("txmsg_checks_answered_total", "{outcome=\"commit\"}", checks_commit_.load());
  w.Sample("txmsg_checks_answered_total", "{outcome=\"rollback\"}", checks_rollback_.load());
  w.Append(submit_latency_.Render("txmsg_submit_seconds", "Order submission, request to answer."));
  w.Append(outcome_latency_.Render("txmsg_outcome_handler_seconds",
                                   "Outcome message, receipt to commit."));
  respond(http::Response{200, w.text(), "text/plain; version=0.0.4"});
}

}  // namespace txmsg::order
