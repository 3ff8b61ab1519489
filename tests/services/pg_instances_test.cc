// Two order-services and two stock-services on one PostgreSQL cluster (one
// database per service, shared by its instances) and one broker: orders
// placed through either instance, check-backs answered by whichever is
// alive, instances killed -9 at random, the postmaster killed -9 and
// restarted. After each run, the invariants (docs/design.md): every order
// CONFIRMED or CANCELLED, stock conserved per product and never negative,
// no tx applied twice.
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "tests/services/system_fixture.h"

namespace txmsg {
namespace {

using testing::Http;
using testing::HttpResult;
using testing::WaitFor;
using namespace std::chrono_literals;

class PgInstancesTest : public SystemTest {
 protected:
  PgInstancesTest() { backend_ = Backend::kPostgres; }

  // Broker, order A + B, stock A + B; `order_a_env` for order A only.
  void StartTwoOfEach(std::vector<std::string> broker_flags, const std::string& seed,
                      std::vector<std::string> order_a_env = {}) {
    StartAll(std::move(broker_flags), seed, std::move(order_a_env));
    order2_ = std::make_unique<ServiceProcess>(std::vector<std::string>{
        TXMSG_ORDER_BIN, "--broker=" + broker_->address(), "--db=" + Db("order")});
    stock2_ = std::make_unique<ServiceProcess>(
        std::vector<std::string>{TXMSG_STOCK_BIN, "--broker=" + broker_->address(),
                                 "--db=" + Db("stock"), "--seed_stock=" + seed});
    ASSERT_TRUE(order2_->Start());
    ASSERT_TRUE(stock2_->Start());
  }
  std::string OrderDb() const { return "order_" + std::to_string(db_run_); }
  std::string StockDb() const { return "stock_" + std::to_string(db_run_); }
  int64_t Sql(const std::string& db, const std::string& sql) {
    const std::string v = SharedPgCluster().Query(db, sql);
    EXPECT_EQ(v.rfind("ERROR", 0), std::string::npos) << v;
    return v.empty() ? -1 : std::stoll(v);
  }
  HttpResult SubmitTo(const ServiceProcess& s, int64_t product, int pay) {
    return Http(s.port(), "POST", "/order/submitOrder",
                "{\"productId\": " + std::to_string(product) +
                    ", \"payCount\": " + std::to_string(pay) + "}");
  }

  // Clients place orders through both instances until `stop`; accepted
  // orders land in `accepted_`.
  void Load(std::atomic<bool>& stop, int threads) {
    for (int t = 0; t < threads; ++t) {
      clients_.emplace_back([this, &stop, t] {
        std::mt19937 rng(t);
        for (int i = 0; !stop.load(); ++i) {
          const ServiceProcess& via = (i + t) % 2 == 0 ? *order_ : *order2_;
          const int64_t product = 1 + static_cast<int64_t>(rng() % 2);
          HttpResult r = SubmitTo(via, product, 1 + static_cast<int>(rng() % 3));
          std::lock_guard lock(mu_);
          if (r.status == 200) accepted_.push_back(Field(r.body, "orderNo"));
          ++attempts_;
          if (r.status == 503) ++refused_;
        }
      });
    }
  }
  void StopLoad(std::atomic<bool>& stop) {
    stop = true;
    for (auto& c : clients_) c.join();
    clients_.clear();
  }

  // The invariants, from the databases themselves, once nothing is PENDING.
  void ExpectInvariants(const std::map<int64_t, int64_t>& initial) {
    ASSERT_TRUE(WaitFor(
        [&] {
          return Sql(OrderDb(), "SELECT COUNT(*) FROM \"order\" WHERE status = 'PENDING'") == 0;
        },
        90s))
        << Sql(OrderDb(), "SELECT COUNT(*) FROM \"order\" WHERE status = 'PENDING'") << " pending";
    for (const auto& [product, units] : initial) {
      const std::string p = std::to_string(product);
      const int64_t left = Sql(StockDb(), "SELECT total_count FROM stock WHERE product_id = " + p);
      const int64_t sold = Sql(OrderDb(),
                               "SELECT COALESCE(SUM(pay_count), 0) FROM \"order\" WHERE status = "
                               "'CONFIRMED' AND product_id = " +
                                   p);
      EXPECT_GE(left, 0) << "product " << p;
      EXPECT_EQ(units, left + sold) << "product " << p << ": stock not conserved";
    }
    // One stock decision per settled order: none applied twice, none lost.
    EXPECT_EQ(Sql(StockDb(), "SELECT COUNT(*) FROM tx_log"),
              Sql(OrderDb(), "SELECT COUNT(*) FROM \"order\""));
    std::lock_guard lock(mu_);
    for (const std::string& no : accepted_) {
      const std::string status =
          Field(testing::Http(order_->port(), "GET", "/order/orders/" + no).body, "status");
      EXPECT_TRUE(status == "CONFIRMED" || status == "CANCELLED") << no << ": " << status;
    }
  }

  std::unique_ptr<ServiceProcess> order2_;
  std::unique_ptr<ServiceProcess> stock2_;
  std::vector<std::thread> clients_;
  std::mutex mu_;
  std::vector<std::string> accepted_;
  int attempts_ = 0;
  int refused_ = 0;
};

constexpr char kFastBroker[] = "--tx_timeout=300ms";

TEST_F(PgInstancesTest, AnOrderPlacedThroughOneInstanceIsSeenThroughTheOther) {
  StartTwoOfEach({kFastBroker, "--check_interval=300ms"}, "1:10");
  HttpResult r = SubmitTo(*order_, 1, 3);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string no = Field(r.body, "orderNo");
  ASSERT_TRUE(WaitFor([&] {
    return Field(Http(order2_->port(), "GET", "/order/orders/" + no).body, "status") == "CONFIRMED";
  }));
  EXPECT_EQ(Number(Http(stock2_->port(), "GET", "/stock/products/1").body, "totalCount"), 7);
}

TEST_F(PgInstancesTest, TheOtherInstanceAnswersTheCheckBackOfOneThatDied) {
  StartTwoOfEach({kFastBroker, "--check_interval=300ms"}, "1:10",
                 {"TXMSG_CRASH_AT=order.local_tx_committed_before_end_tx"});
  EXPECT_EQ(SubmitTo(*order_, 1, 4).status, 0);  // A died with its order stored, EndTx unsent
  order_->Wait();
  // Only B is left in the producer group: it reads tx_log and commits.
  ASSERT_TRUE(WaitFor(
      [&] { return Metric(*order2_, "txmsg_checks_answered_total{outcome=\"commit\"}") == 1; }));
  ASSERT_TRUE(WaitFor([&] {
    return Sql(OrderDb(), "SELECT COUNT(*) FROM \"order\" WHERE status = 'CONFIRMED'") == 1;
  }));
  EXPECT_EQ(Number(Http(stock2_->port(), "GET", "/stock/products/1").body, "totalCount"), 6);
}

TEST_F(PgInstancesTest, RandomKillsOfAnyInstanceKeepEveryInvariant) {
  StartTwoOfEach({kFastBroker, "--check_interval=300ms", "--ack_timeout=1s"}, "1:60,2:100000");
  std::atomic<bool> stop{false};
  Load(stop, 4);
  std::mt19937 rng(12);
  ServiceProcess* all[] = {order_.get(), order2_.get(), stock_.get(), stock2_.get()};
  for (int kill = 0; kill < 6; ++kill) {
    ASSERT_TRUE(WaitFor(
        [&] {
          std::lock_guard lock(mu_);
          return accepted_.size() >= static_cast<size_t>(20 * (kill + 1));
        },
        60s));
    ASSERT_TRUE(all[rng() % 4]->Restart());  // kill -9, start again
  }
  StopLoad(stop);
  ExpectInvariants({{1, 60}, {2, 100000}});
}

TEST_F(PgInstancesTest, PostmasterKilledMidRunThen503UntilItIsBackAndNothingIsLost) {
  StartTwoOfEach({kFastBroker, "--check_interval=300ms"}, "1:60,2:100000");
  std::atomic<bool> stop{false};
  Load(stop, 4);
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard lock(mu_);
        return accepted_.size() >= 40;
      },
      60s));
  SharedPgCluster().Kill();
  ASSERT_TRUE(WaitFor([&] {
    const HttpResult r = SubmitTo(*order2_, 1, 1);
    return r.status == 503 && r.body.find("\"error\"") != std::string::npos;
  }));
  ASSERT_TRUE(WaitFor([&] {
    const HttpResult h = Http(stock_->port(), "GET", "/healthz");
    return h.status == 503 && h.body.find("\"database\":\"unavailable\"") != std::string::npos;
  }));
  ASSERT_TRUE(SharedPgCluster().Start());
  size_t before = 0;
  {
    std::lock_guard lock(mu_);
    before = accepted_.size();
  }
  // The services reconnect by themselves: orders are accepted again.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard lock(mu_);
        return accepted_.size() >= before + 40;
      },
      60s));
  StopLoad(stop);
  ExpectInvariants({{1, 60}, {2, 100000}});
  ASSERT_TRUE(WaitFor([&] { return Http(stock_->port(), "GET", "/healthz").status == 200; }));
}

}  // namespace
}  // namespace txmsg
