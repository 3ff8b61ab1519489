// The whole system: the real broker, order-service and stock-service
// binaries on loopback ports, real SQLite files or a real PostgreSQL
// cluster, real kills.
#include <sys/wait.h>

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tests/services/system_fixture.h"

namespace txmsg {
namespace {

using testing::Http;
using testing::HttpResult;
using testing::WaitFor;
using namespace std::chrono_literals;

class ServicesTest : public OnBothBackends<SystemTest> {};
TXMSG_ON_BOTH_BACKENDS(ServicesTest);

TEST_P(ServicesTest, ConcurrentOrdersNeverOversellAndEveryOrderSettles) {
  StartAll({}, "1:50,2:1000");
  std::atomic<int> accepted{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (Submit(1, 1).status == 200) ++accepted;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(accepted.load(), 200);
  // A few orders of another product, some too big.
  for (int pay : {300, 300, 300, 300}) ASSERT_EQ(Submit(2, pay).status, 200);
  ASSERT_TRUE(Settled());
  const std::string all = Orders();
  EXPECT_EQ(Count(all, "orderNo"), 204);
  EXPECT_EQ(Count(Orders("CONFIRMED"), "orderNo"), 53);  // 50 of product 1, 3 of product 2
  EXPECT_EQ(Count(Orders("CANCELLED"), "orderNo"), 151);
  EXPECT_EQ(Stock(1), 0);
  EXPECT_EQ(Stock(2), 100);  // initial 1000 = 100 left + 3 x 300 confirmed
}

TEST_P(ServicesTest, BadHttpInputGets400AndStoresNothing) {
  StartAll();
  const std::vector<std::string> bad = {
      "not json",
      "{}",
      "{\"productId\": 1}",
      "{\"payCount\": 1}",
      "{\"productId\": 0, \"payCount\": 1}",
      "{\"productId\": 1, \"payCount\": -3}",
      "{\"productId\": 1, \"payCount\": 0}",
      "{\"productId\": 1, \"payCount\": 2.5}",
      "{\"productId\": 1, \"payCount\": 10001}",
      "{\"productId\": 1, \"payCount\": 99999999999}",
      "{\"productId\": \"abc\", \"payCount\": 1}",
      "[1, 2]",
      std::string(40'000, '{'),
  };
  for (const std::string& body : bad) {
    HttpResult r = Http(order_->port(), "POST", "/order/submitOrder", body);
    EXPECT_EQ(r.status, 400) << body.substr(0, 60);
    EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
  }
  EXPECT_EQ(Http(order_->port(), "GET", "/order/orders/no-such-order").status, 404);
  EXPECT_EQ(Http(order_->port(), "GET", "/order/orders?status=LOST").status, 400);
  EXPECT_EQ(Http(order_->port(), "DELETE", "/order/submitOrder").status, 405);
  EXPECT_EQ(Http(stock_->port(), "PUT", "/stock/products/1", "{\"totalCount\": -1}").status, 400);
  EXPECT_EQ(Http(stock_->port(), "GET", "/stock/products/abc").status, 400);
  EXPECT_EQ(Count(Orders(), "orderNo"), 0);
  EXPECT_EQ(Stock(1), 50);
  // And the service still takes good orders.
  EXPECT_EQ(Submit(1, 2).status, 200);
  ASSERT_TRUE(Settled());
  EXPECT_EQ(Stock(1), 48);
}

TEST_P(ServicesTest, BrokerDownMeans503AndNothingStored) {
  StartAll();
  broker_->Kill();
  HttpResult r = Submit(1, 1);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(Count(Orders(), "orderNo"), 0);
  EXPECT_EQ(Http(order_->port(), "GET", "/healthz").status, 503);
  ASSERT_TRUE(broker_->Start());
  ASSERT_TRUE(WaitFor([&] { return Submit(1, 1).status == 200; }));
  ASSERT_TRUE(Settled());
  EXPECT_EQ(Stock(1), 49);
}

TEST_P(ServicesTest, OrderServiceKilledBetweenHalfAndLocalTransactionConvergesToNoOrder) {
  StartAll({"--tx_timeout=200ms", "--check_interval=200ms"});
  order_->Kill();
  order_->set_env({"TXMSG_CRASH_AT=order.half_acked_before_local_tx"});
  ASSERT_TRUE(order_->Start());
  EXPECT_EQ(Submit(1, 5).status, 0);  // it died with the request open
  order_->Wait();
  order_->set_env({});
  ASSERT_TRUE(order_->Start());
  // The check-back finds no tx_log row: ROLLBACK; the half is never delivered.
  ASSERT_TRUE(WaitFor([&] {
    return Http(order_->port(), "GET", "/metrics")
               .body.find("txmsg_checks_answered_total{outcome=\"rollback\"} 1") !=
           std::string::npos;
  }));
  EXPECT_EQ(Count(Orders(), "orderNo"), 0);
  ASSERT_EQ(Submit(1, 1).status, 200);  // a later order flows through...
  ASSERT_TRUE(Settled());
  EXPECT_EQ(Stock(1), 49);  // ...and only it was deducted
}

TEST_P(ServicesTest, OrderServiceKilledBetweenLocalTransactionAndCommitConvergesThroughCheckBack) {
  StartAll({"--tx_timeout=200ms", "--check_interval=200ms"});
  order_->Kill();
  order_->set_env({"TXMSG_CRASH_AT=order.local_tx_committed_before_end_tx"});
  ASSERT_TRUE(order_->Start());
  EXPECT_EQ(Submit(1, 5).status, 0);
  order_->Wait();
  order_->set_env({});
  ASSERT_TRUE(order_->Start());
  // Stored PENDING; the check-back commits it; stock confirms it.
  ASSERT_TRUE(WaitFor([&] { return Count(Orders("CONFIRMED"), "orderNo") == 1; }, 30s));
  EXPECT_EQ(Count(Orders(), "orderNo"), 1);
  EXPECT_EQ(Stock(1), 45);
}

TEST_P(ServicesTest, StockServiceKilledAfterItsTransactionDeductsOnceAfterRedelivery) {
  for (const char* point : {"stock.deducted_before_publish", "stock.published_before_ack"}) {
    SCOPED_TRACE(point);
    run_dir_ = std::make_unique<testing::TempDir>();
    StartAll({"--ack_timeout=500ms"}, "1:10");
    stock_->Kill();
    stock_->set_env({std::string("TXMSG_CRASH_AT=") + point});
    ASSERT_TRUE(stock_->Start());
    HttpResult r = Submit(1, 3);
    ASSERT_EQ(r.status, 200);
    const std::string order_no = Field(r.body, "orderNo");
    stock_->Wait();  // died at the crash point
    stock_->set_env({});
    ASSERT_TRUE(stock_->Start());
    ASSERT_TRUE(WaitFor([&] { return OrderStatus(order_no) == "CONFIRMED"; }, 30s));
    EXPECT_EQ(Stock(1), 7);  // 10 - 3, once
    ASSERT_EQ(Submit(1, 1).status, 200);
    ASSERT_TRUE(Settled());
    EXPECT_EQ(Stock(1), 6);
    order_.reset();
    stock_.reset();
    broker_.reset();
  }
}

TEST_P(ServicesTest, ServicesStopCleanlyOnSigterm) {
  StartAll();
  ASSERT_EQ(Submit(1, 1).status, 200);
  ASSERT_TRUE(Settled());
  const int o = order_->Terminate();
  const int s = stock_->Terminate();
  EXPECT_TRUE(WIFEXITED(o) && WEXITSTATUS(o) == 0) << o;
  EXPECT_TRUE(WIFEXITED(s) && WEXITSTATUS(s) == 0) << s;
}

}  // namespace
}  // namespace txmsg
