#include "stock/stock_service.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/crash_point.h"
#include "base/crash_points.h"
#include "proto/json/proto_json.h"
#include "service/api_limits.h"
#include "stock/stock_repository.h"
#include "txmsg/http_api.pb.h"

namespace txmsg::stock {

StockService::StockService(StockServiceOptions options) : options_(std::move(options)) {}

StockService::~StockService() { Stop(); }

absl::Status StockService::Start() {
  absl::StatusOr<sql::ServiceStore> store = sql::OpenServiceStore(
      options_.db,
      [this](sql::Database& db) {
        if (absl::Status s = StockRepository::CreateSchema(db); !s.ok()) return s;
        for (const auto& [product, units] : options_.seed_stock) {
          if (absl::Status s = StockRepository::SeedStock(db, product, units); !s.ok()) return s;
        }
        return absl::OkStatus();
      },
      options_.store);
  if (!store.ok()) return store.status();
  write_dbs_ = std::move(store->write);
  std::fprintf(stderr, "stock-service: database: %s\n", store->description.c_str());
  read_db_ = std::move(store->read);
  writer_ = std::move(store->writer);

  ClientOptions client;
  client.broker = options_.broker;
  client.tls = options_.tls.broker;
  client.client_id = absl::StrCat("stock-service:", options_.port);
  client.user = options_.credentials.broker_user;
  client.secret = options_.credentials.broker_secret;
  producer_ = std::make_unique<TransactionProducer>(
      client, contract::kStockProducerGroup,
      [this](const CheckRequest& c) { return AnswerCheck(c); });
  if (absl::Status s = producer_->Start(std::chrono::seconds(5)); !s.ok()) {
    std::fprintf(stderr, "stock-service: %s; retrying in the background\n", s.ToString().c_str());
  }
  consumer_ = std::make_unique<Consumer>(
      ConsumerOptions{client, contract::kOrderTopic, contract::kStockConsumerGroup,
                      options_.max_unacked},
      Consumer::AsyncHandler([this](Delivery d, std::function<void(ConsumeResult)> done) {
        OnOrder(std::move(d), std::move(done));
      }));
  (void)consumer_->Start(std::chrono::milliseconds(0));

  http_ = std::make_unique<http::Server>(options_.bind, options_.port);
  const http::BearerTokens& tokens = options_.credentials.http;
  http_->Route("GET", "/stock/products/",
               http::Guarded(tokens, http::Access::kApi,
                             [this](const http::Request& r, http::Responder done) {
                               GetProduct(r, std::move(done));
                             }));
  http_->Route("PUT", "/stock/products/",
               http::Guarded(tokens, http::Access::kAdmin,
                             [this](const http::Request& r, http::Responder done) {
                               PutProduct(r, std::move(done));
                             }));
  http_->Route("GET", "/healthz",
               [this](const http::Request&, http::Responder done) { Health(std::move(done)); });
  http_->Route("GET", "/metrics",
               [this](const http::Request&, http::Responder done) { Metrics(std::move(done)); });
  if (absl::Status s = service::MaybeEnableHttps(options_.tls, *http_); !s.ok()) return s;
  return http_->Start();
}

void StockService::Stop() {
  if (http_) http_->Stop();
  consumer_.reset();
  producer_.reset();
  writer_.reset();
  http_.reset();
}

void StockService::OnOrder(Delivery d, std::function<void(ConsumeResult)> done) {
  // Nothing in a message may crash or loop the consumer: what can never be
  // processed is dead-lettered (service/poison.h).
  auto order = std::make_shared<events::OrderPlaced>();
  if (!order->ParseFromString(d.message.body)) {
    return done(poison_.Reject(d, service::PoisonReason::kUnparsable, "not an OrderPlaced"));
  }
  if (order->tx_no().empty() || order->order_no().empty()) {
    return done(poison_.Reject(d, service::PoisonReason::kMissingField,
                               "an OrderPlaced needs txNo and orderNo"));
  }
  if (order->pay_count() <= 0 || !service::CheckId("productId", order->product_id()).ok()) {
    return done(
        poison_.Reject(d, service::PoisonReason::kInvalidValue,
                       absl::StrCat("order ", order->order_no(), ": productId ",
                                    order->product_id(), ", payCount ", order->pay_count())));
  }
  if (TestMutation("ack_before_commit")) {
    // Broken on purpose (a fault-suite control): ack at once, do the work a
    // little later on another thread, so the ack reaches the broker first.
    done(ConsumeResult::Success());
    std::thread([this, order] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      CrashPoint(crash_points::kStockReceivedBeforeTx);
      Process(order, [](ConsumeResult) {});
    }).detach();
    return;
  }
  CrashPoint(crash_points::kStockReceivedBeforeTx);
  Process(order, std::move(done));
}

void StockService::Process(std::shared_ptr<events::OrderPlaced> order,
                           std::function<void(ConsumeResult)> done) {
  const auto start = std::chrono::steady_clock::now();
  auto outcome = std::make_shared<events::StockOutcome>();
  auto fresh = std::make_shared<bool>(false);
  writer_->Submit(
      [order, outcome, fresh](sql::Database& db) {
        absl::StatusOr<events::StockOutcome> r = StockRepository::Deduct(db, *order, fresh.get());
        if (!r.ok()) return r.status();
        *outcome = *std::move(r);
        return absl::OkStatus();
      },
      [this, order, outcome, fresh, done, start](absl::Status s) {
        if (!s.ok()) return done(Failed(*order, s));
        db_health_.Record(s);
        ++handled_;
        if (!*fresh) ++republished_;
        if (*fresh) ++(outcome->outcome() == events::STOCK_DEDUCTED ? deducted_ : refused_);
        handler_latency_.Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        CrashPoint(crash_points::kStockDeductedBeforePublish);
        // The deduction is committed; publish its outcome, then ack the order.
        Publish(*outcome, done);
      },
      order->product_id());
}

ConsumeResult StockService::Failed(const events::OrderPlaced& order, const absl::Status& s) {
  if (db_health_.Record(s)) {
    // The database, not the order: give it back without spending an attempt.
    ++unavailable_;
    return ConsumeResult::Unavailable(db_health_.RetryDelayMs());
  }
  log_.Log("not-applied", absl::StrCat("stock-service: order ", base::EscapeForLog(order.tx_no()),
                                       " not applied: ", base::EscapeForLog(s.ToString())));
  return ConsumeResult::RetryLater(500);
}

void StockService::Publish(const events::StockOutcome& outcome,
                           std::function<void(ConsumeResult)> done) {
  Message m;
  m.topic = outcome.outcome() == events::STOCK_DEDUCTED ? contract::kConfirmTopic
                                                        : contract::kRollbackTopic;
  m.key = outcome.order_no();
  m.body = outcome.SerializeAsString();
  const std::string tx_id = contract::kOutcomeTxPrefix + outcome.tx_no();
  producer_->SendHalfAsync(std::move(m), tx_id, [this, tx_id, done](absl::StatusOr<uint64_t> id) {
    // The broker cannot take the outcome now: the order comes again (and
    // republishes the stored outcome) without spending an attempt.
    if (!id.ok()) {
      ++unavailable_;
      return done(ConsumeResult::Unavailable(500));
    }
    // The local transaction already committed (tx_log has it): commit. If
    // this EndTx is lost, the check-back finds tx_log and commits.
    producer_->EndTxAsync(*id, tx_id, TxOutcome::kCommit, [done](absl::StatusOr<EndTxResult>) {
      CrashPoint(crash_points::kStockPublishedBeforeAck);
      done(ConsumeResult::Success());
    });
  });
}

TxOutcome StockService::AnswerCheck(const CheckRequest& check) {
  ++checks_;
  if (check.tx_id.rfind(contract::kOutcomeTxPrefix, 0) != 0) return TxOutcome::kRollback;
  const std::string tx_no = check.tx_id.substr(std::string(contract::kOutcomeTxPrefix).size());
  bool found = false;
  absl::Status s = writer_->Run([&](sql::Database& db) {
    absl::StatusOr<bool> r = StockRepository::HasTx(db, tx_no);
    if (!r.ok()) return r.status();
    found = *r;
    return absl::OkStatus();
  });
  db_health_.Record(s);
  if (!s.ok()) return TxOutcome::kUnknown;
  // The outcome is only ever published after its tx_log row committed.
  return found ? TxOutcome::kCommit : TxOutcome::kRollback;
}

}  // namespace txmsg::stock
