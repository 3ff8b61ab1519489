#include "order/order_service.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/crash_point.h"
#include "base/crash_points.h"
#include "order/order_repository.h"
#include "proto/json/proto_json.h"
#include "service/api_limits.h"
#include "service/db/tx_log.h"
#include "txmsg/events.pb.h"
#include "txmsg/http_api.pb.h"

namespace txmsg::order {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The longest Idempotency-Key accepted (a UUID is 36).
constexpr size_t kMaxIdempotencyKey = 255;

}  // namespace

OrderService::OrderService(OrderServiceOptions options) : options_(std::move(options)) {}

OrderService::~OrderService() { Stop(); }

absl::Status OrderService::Start() {
  absl::StatusOr<sql::ServiceStore> store =
      sql::OpenServiceStore(options_.db, &OrderRepository::CreateSchema, options_.store);
  if (!store.ok()) return store.status();
  write_dbs_ = std::move(store->write);
  std::fprintf(stderr, "order-service: database: %s\n", store->description.c_str());
  read_db_ = std::move(store->read);
  writer_ = std::move(store->writer);

  ClientOptions client;
  client.broker = options_.broker;
  client.tls = options_.tls.broker;
  client.client_id = absl::StrCat("order-service:", options_.port);
  client.user = options_.credentials.broker_user;
  client.secret = options_.credentials.broker_secret;
  producer_ = std::make_unique<TransactionProducer>(
      client, contract::kOrderProducerGroup,
      [this](const CheckRequest& c) { return AnswerCheck(c); });
  if (absl::Status s = producer_->Start(std::chrono::seconds(5)); !s.ok()) {
    std::fprintf(stderr, "order-service: %s; retrying in the background\n", s.ToString().c_str());
  }
  auto handler = [this](Delivery d, std::function<void(ConsumeResult)> done) {
    OnOutcome(std::move(d), std::move(done));
  };
  rollback_consumer_ = std::make_unique<Consumer>(
      ConsumerOptions{client, contract::kRollbackTopic, contract::kOrderOutcomeGroup, 512},
      Consumer::AsyncHandler(handler));
  confirm_consumer_ = std::make_unique<Consumer>(
      ConsumerOptions{client, contract::kConfirmTopic, contract::kOrderOutcomeGroup, 512},
      Consumer::AsyncHandler(handler));
  (void)rollback_consumer_->Start(std::chrono::milliseconds(0));
  (void)confirm_consumer_->Start(std::chrono::milliseconds(0));

  http_ = std::make_unique<http::Server>(options_.bind, options_.port, options_.max_body_bytes);
  const http::BearerTokens& tokens = options_.credentials.http;
  http_->Route("POST", "/order/submitOrder",
               http::Guarded(tokens, http::Access::kApi,
                             [this](const http::Request& r, http::Responder done) {
                               Submit(r, std::move(done));
                             }));
  http_->Route("GET", "/order/orders/",
               http::Guarded(tokens, http::Access::kApi,
                             [this](const http::Request& r, http::Responder done) {
                               GetOrder(r, std::move(done));
                             }));
  http_->Route("GET", "/order/orders",
               http::Guarded(tokens, http::Access::kApi,
                             [this](const http::Request& r, http::Responder done) {
                               ListOrders(r, std::move(done));
                             }));
  http_->Route("GET", "/healthz",
               [this](const http::Request&, http::Responder done) { Health(std::move(done)); });
  http_->Route("GET", "/metrics",
               [this](const http::Request&, http::Responder done) { Metrics(std::move(done)); });
  if (absl::Status s = service::MaybeEnableHttps(options_.tls, *http_); !s.ok()) return s;
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
  if (std::optional<http::Response> bad = Validate(req, &body)) {
    ++rejected_;
    return respond(*std::move(bad));
  }
  const std::string key = req.Header("idempotency-key");
  if (!key.empty()) {
    // A repeat (a client retrying after a timeout): the original answer,
    // and no second order. A repeat racing the original is caught by the
    // key's UNIQUE index in StoreAndCommit.
    absl::StatusOr<std::optional<api::OrderView>> original =
        OrderRepository::FindByIdempotencyKey(*read_db_, key);
    if (!original.ok()) {
      return respond(service::DatabaseErrorResponse(original.status()));
    }
    if (*original) return respond(Replay(**original, body));
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
      std::move(msg), order->tx_no(),
      [this, order, key, body, respond, start](absl::StatusOr<uint64_t> id) {
        if (!id.ok()) {
          ++unavailable_;
          return respond(http::JsonError(503, "the broker cannot take the order right now: " +
                                                  std::string(id.status().message())));
        }
        CrashPoint(crash_points::kOrderHalfAckedBeforeLocalTx);
        StoreAndCommit(order, *id, key, body, respond, start);
      });
}

void OrderService::StoreAndCommit(std::shared_ptr<api::OrderView> order, uint64_t id,
                                  std::string key, api::SubmitOrderRequest body,
                                  http::Responder respond, Clock::time_point start) {
  // 2. The local transaction: order PENDING + tx_log, one commit (batched).
  order->set_create_time_ms(sql::NowMs());
  order->set_update_time_ms(order->create_time_ms());
  auto original = std::make_shared<std::optional<api::OrderView>>();
  writer_->Submit(
      [order, key, original](sql::Database& db) {
        absl::Status s = OrderRepository::InsertPendingOrder(db, *order, key);
        if (absl::IsAlreadyExists(s)) {
          absl::StatusOr<std::optional<api::OrderView>> found =
              OrderRepository::FindByIdempotencyKey(db, key);
          if (found.ok()) *original = *std::move(found);
        }
        return s;
      },
      [this, order, id, key, body, original, respond, start](absl::Status stored) {
        db_health_.Record(stored);
        if (stored.ok()) CrashPoint(crash_points::kOrderLocalTxCommittedBeforeEndTx);
        // 3. Tell the broker. If this is lost, the check-back finds tx_log.
        // A commit whose outcome is unknown (the connection to PostgreSQL
        // died during COMMIT) is left to the check-back, which reads tx_log.
        if (!absl::IsUnknown(stored)) {
          producer_->EndTxAsync(id, order->tx_no(),
                                stored.ok() ? TxOutcome::kCommit : TxOutcome::kRollback,
                                [](absl::StatusOr<EndTxResult>) {});
        }
        if (!stored.ok() && *original) return respond(Replay(**original, body));
        if (absl::IsAlreadyExists(stored) && !key.empty()) {
          return ReplayByKey(key, body, respond);  // PostgreSQL: after the failed transaction
        }
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
}

std::optional<http::Response> OrderService::Validate(const http::Request& req,
                                                     api::SubmitOrderRequest* body) const {
  if (absl::Status s = json::ParseRequest(req.body, body); !s.ok()) {
    return http::JsonError(400, "body is not a valid order: " + std::string(s.message()));
  }
  if (absl::Status s = service::CheckId("productId", body->product_id()); !s.ok()) {
    return http::JsonError(400, std::string(s.message()));
  }
  if (body->pay_count() <= 0 || body->pay_count() > options_.max_pay_count) {
    return http::JsonError(
        400, absl::StrCat("payCount must be an integer from 1 to ", options_.max_pay_count));
  }
  if (auto it = req.headers.find("idempotency-key"); it != req.headers.end()) {
    const std::string& key = it->second;
    const bool visible =
        std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (key.empty() || key.size() > kMaxIdempotencyKey || !visible) {
      return http::JsonError(400, absl::StrCat("Idempotency-Key must be 1 to ", kMaxIdempotencyKey,
                                               " visible ASCII characters"));
    }
  }
  return std::nullopt;
}

void OrderService::ReplayByKey(const std::string& key, const api::SubmitOrderRequest& body,
                               http::Responder respond) {
  auto original = std::make_shared<std::optional<api::OrderView>>();
  writer_->Submit(
      [key, original](sql::Database& db) {
        absl::StatusOr<std::optional<api::OrderView>> found =
            OrderRepository::FindByIdempotencyKey(db, key);
        if (!found.ok()) return found.status();
        *original = *std::move(found);
        return absl::OkStatus();
      },
      [this, original, body, respond](absl::Status s) {
        if (s.ok() && *original) return respond(Replay(**original, body));
        ++unavailable_;
        respond(http::JsonError(503, "order not stored: " + std::string(s.message())));
      });
}

http::Response OrderService::Replay(const api::OrderView& original,
                                    const api::SubmitOrderRequest& body) {
  if (original.product_id() != body.product_id() || original.pay_count() != body.pay_count()) {
    ++rejected_;
    return http::JsonError(
        422, absl::StrCat("this Idempotency-Key was used for another order (", original.order_no(),
                          ": productId ", original.product_id(), ", payCount ",
                          original.pay_count(), ")"));
  }
  ++replayed_;
  return http::Response{200, json::Object({{"orderNo", original.order_no()},
                                           {"txNo", original.tx_no()},
                                           {"status", original.status()}}) +
                                 "\n"};
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
  db_health_.Record(s);
  if (!s.ok()) {
    log_.Log("check",
             absl::StrCat("order-service: check-back for ", base::EscapeForLog(check.tx_id),
                          " failed: ", base::EscapeForLog(s.ToString())));
    return TxOutcome::kUnknown;  // nothing stored: ask again later
  }
  ++(outcome == TxOutcome::kCommit ? checks_commit_ : checks_rollback_);
  return outcome;
}

void OrderService::OnOutcome(Delivery d, std::function<void(ConsumeResult)> done) {
  // Nothing in a message may crash or loop the consumer: what can never be
  // processed is dead-lettered (service/poison.h).
  const auto start = Clock::now();
  events::StockOutcome outcome;
  if (!outcome.ParseFromString(d.message.body)) {
    return done(poison_.Reject(d, service::PoisonReason::kUnparsable, "not a StockOutcome"));
  }
  if (outcome.order_no().empty() || outcome.tx_no().empty()) {
    return done(poison_.Reject(d, service::PoisonReason::kMissingField,
                               "a StockOutcome needs orderNo and txNo"));
  }
  const bool confirmed = outcome.outcome() == events::STOCK_DEDUCTED;
  const std::optional<std::string_view> cancel_reason = contract::CancelReason(outcome.outcome());
  if (!confirmed && !cancel_reason) {
    return done(poison_.Reject(
        d, service::PoisonReason::kUnknownEnum,
        absl::StrCat("order ", outcome.order_no(), ": outcome ",
                     static_cast<int>(outcome.outcome()), " is not one this build knows")));
  }
  const std::string reason(cancel_reason.value_or(""));
  auto applied = std::make_shared<OrderRepository::Applied>();
  auto delivery = std::make_shared<Delivery>(std::move(d));
  writer_->Submit(
      [outcome, confirmed, reason, applied](sql::Database& db) {
        absl::StatusOr<OrderRepository::Applied> r = OrderRepository::ApplyOutcome(
            db, outcome.order_no(), outcome.tx_no(), confirmed, reason);
        if (!r.ok()) return r.status();
        *applied = *r;
        return absl::OkStatus();
      },
      [this, delivery, applied, done, start, order_no = outcome.order_no()](absl::Status s) {
        if (!s.ok()) return done(Failed(*delivery, s));
        db_health_.Record(s);
        if (*applied == OrderRepository::Applied::kNoSuchOrder) {
          return done(poison_.Reject(*delivery, service::PoisonReason::kUnknownOrder,
                                     absl::StrCat("no order ", order_no, " with this txNo")));
        }
        ++outcomes_;
        outcome_latency_.Observe(Since(start));
        done(ConsumeResult::Success());  // acked only after the commit
      });
}

ConsumeResult OrderService::Failed(const Delivery& d, const absl::Status& s) {
  if (db_health_.Record(s)) {
    // The database, not the message: give it back without spending an attempt.
    ++outcomes_unavailable_;
    return ConsumeResult::Unavailable(db_health_.RetryDelayMs());
  }
  log_.Log("not-applied", absl::StrCat("order-service: outcome message ", d.message_id,
                                       " not applied: ", base::EscapeForLog(s.ToString())));
  return ConsumeResult::RetryLater(200);
}

}  // namespace txmsg::order
