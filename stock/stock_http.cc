// stock-service's HTTP API: products, health and metrics (docs/http_api.md).
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "proto/json/proto_json.h"
#include "service/api_limits.h"
#include "stock/stock_repository.h"
#include "stock/stock_service.h"
#include "txmsg/http_api.pb.h"

namespace txmsg::stock {
namespace {

constexpr char kProducts[] = "/stock/products/";

absl::StatusOr<int64_t> ProductId(const http::Request& req) {
  return service::ParseId("product id", req.path.substr(std::string(kProducts).size()));
}

http::Response Json(const google::protobuf::Message& m) {
  return http::Response{200, json::ToJson(m, json::Names::kCamel) + "\n"};
}

}  // namespace

absl::Status StockService::CheckTotalCount(int64_t units) {
  if (units >= 0 && units <= kMaxTotalCount) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("totalCount must be an integer from 0 to ", kMaxTotalCount, ", not ", units));
}

absl::StatusOr<std::map<int64_t, int64_t>> StockService::ParseSeedStock(const std::string& flag) {
  std::map<int64_t, int64_t> out;
  for (absl::string_view item : absl::StrSplit(flag, ',', absl::SkipEmpty())) {
    const std::vector<std::string> parts = absl::StrSplit(item, ':');
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(
          absl::StrCat("--seed_stock wants PRODUCT:UNITS pairs like 1:100, not '",
                       std::string(item), "': ", why));
    };
    if (parts.size() != 2) return bad("one ':' per pair");
    absl::StatusOr<int64_t> product = service::ParseId("PRODUCT", parts[0]);
    if (!product.ok()) return bad(std::string(product.status().message()));
    int64_t units = -1;
    const bool digits =
        !parts[1].empty() && parts[1].find_first_not_of("0123456789") == std::string::npos;
    if (!digits || !absl::SimpleAtoi(parts[1], &units) || !CheckTotalCount(units).ok()) {
      return bad(absl::StrCat("UNITS must be an integer from 0 to ", kMaxTotalCount));
    }
    if (!out.emplace(*product, units).second) return bad("product given twice");
  }
  return out;
}

void StockService::GetProduct(const http::Request& req, http::Responder respond) {
  absl::StatusOr<int64_t> id = ProductId(req);
  if (!id.ok()) return respond(http::JsonError(400, std::string(id.status().message())));
  absl::StatusOr<std::optional<int64_t>> total = StockRepository::GetStock(*read_db_, *id);
  if (!total.ok()) return respond(service::DatabaseErrorResponse(total.status()));
  if (!*total) return respond(http::JsonError(404, absl::StrCat("no product ", *id)));
  api::ProductView v;
  v.set_product_id(*id);
  v.set_total_count(**total);
  respond(Json(v));
}

void StockService::PutProduct(const http::Request& req, http::Responder respond) {
  absl::StatusOr<int64_t> id = ProductId(req);
  if (!id.ok()) return respond(http::JsonError(400, std::string(id.status().message())));
  api::SetStockRequest body;
  if (absl::Status s = json::ParseRequest(req.body, &body); !s.ok()) {
    return respond(http::JsonError(400, "body is not valid: " + std::string(s.message())));
  }
  if (absl::Status s = CheckTotalCount(body.total_count()); !s.ok()) {
    return respond(http::JsonError(400, std::string(s.message())));
  }
  const int64_t product = *id;
  const int64_t total = body.total_count();
  writer_->Submit(
      [product, total](sql::Database& db) { return StockRepository::SetStock(db, product, total); },
      [this, product, total, respond](absl::Status s) {
        db_health_.Record(s);
        if (!s.ok()) return respond(http::JsonError(503, std::string(s.message())));
        api::ProductView v;
        v.set_product_id(product);
        v.set_total_count(total);
        respond(Json(v));
      });
}

void StockService::Health(http::Responder respond) {
  db_health_.CheckReachable(*read_db_);
  db_health_.ProbeIfDown(*writer_, [this, respond] {
    const service::BrokerState broker =
        service::Worst(service::BrokerStateOf(producer_->connected(), producer_->responsive()),
                       service::BrokerStateOf(consumer_->subscribed(), consumer_->responsive()));
    respond(service::HealthResponse(broker, db_health_.available()));
  });
}

void StockService::Metrics(http::Responder respond) {
  base::PrometheusWriter w;
  w.Metric("txmsg_messages_handled_total", "counter", "Order messages applied.", handled_.load());
  w.Metric("txmsg_stock_deducted_total", "counter", "Orders whose stock was deducted.",
           deducted_.load());
  w.Metric("txmsg_stock_refused_total", "counter",
           "Orders refused (insufficient stock or unknown product).", refused_.load());
  w.Metric("txmsg_stock_republished_total", "counter",
           "Redelivered orders whose stored outcome was published again.", republished_.load());
  w.Metric("txmsg_checks_answered_total", "counter", "Check-backs answered.", checks_.load());
  w.Metric("txmsg_messages_unavailable_total", "counter",
           "Order messages given back because the database or broker could not take them "
           "(redelivered later without spending an attempt).",
           unavailable_.load());
  db_health_.Render(w);
  poison_.Render(w);
  w.Append(
      handler_latency_.Render("txmsg_order_handler_seconds", "Order message, receipt to commit."));
  respond(http::Response{200, w.text(), "text/plain; version=0.0.4"});
}

}  // namespace txmsg::stock
