// The whole system for service tests: the real broker, order-service and
// stock-service binaries on loopback ports, real SQLite files or a real
// PostgreSQL cluster (OnBothBackends runs a test on each); plus small
// readers of their JSON and metrics.
#ifndef TXMSG_TESTS_SERVICES_SYSTEM_FIXTURE_H_
#define TXMSG_TESTS_SERVICES_SYSTEM_FIXTURE_H_

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testutil/broker_process.h"
#include "tests/testutil/pg_cluster.h"
#include "tests/testutil/service_process.h"
#include "tests/testutil/temp_dir.h"

namespace txmsg {

// The string field `name` of a JSON text ("" if absent).
inline std::string Field(const std::string& json, const std::string& name) {
  std::smatch m;
  const std::regex re("\"" + name + "\": *\"([^\"]*)\"");
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

// The integer field `name` of a JSON text (-1 if absent).
inline int64_t Number(const std::string& json, const std::string& name) {
  std::smatch m;
  const std::regex re("\"" + name + "\": *(-?[0-9]+)");
  return std::regex_search(json, m, re) ? std::stoll(m[1].str()) : -1;
}

inline int Count(const std::string& json, const std::string& needle) {
  int n = 0;
  for (size_t pos = json.find(needle); pos != std::string::npos; pos = json.find(needle, pos + 1))
    ++n;
  return n;
}

// A sample of a Prometheus text: `series` is the name with its labels, as
// printed ("txmsg_poison_messages_total{reason=\"unparsable\"}"); -1 if absent.
inline int64_t MetricValue(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 2));
}

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "SQLite" : "PostgreSQL";
}

// One throwaway cluster per test binary, started on first use and removed
// at exit; every run gets databases of its own in it.
inline testing::PgCluster& SharedPgCluster() {
  static testing::PgCluster* cluster = [] {
    static testing::PgCluster c;
    if (!c.Start()) ADD_FAILURE() << "cannot start a PostgreSQL cluster";
    return &c;
  }();
  return *cluster;
}

class SystemTest : public ::testing::Test {
 protected:
  using ServiceProcess = testing::ServiceProcess;

  // --db for `service` ("order" or "stock") in this run: a file in the run's
  // directory, or a fresh PostgreSQL database.
  std::string Db(const std::string& service) {
    if (backend_ == Backend::kSqlite) return File(service + ".db");
    static int runs = 0;
    if (db_run_dir_ != (run_dir_ ? run_dir_->path() : tmp_.path()) || db_run_ == 0) {
      db_run_dir_ = run_dir_ ? run_dir_->path() : tmp_.path();
      db_run_ = ++runs;
    }
    return SharedPgCluster().CreateDatabase(service + "_" + std::to_string(db_run_));
  }

  std::string File(const std::string& name) { return (run_dir_ ? *run_dir_ : tmp_).File(name); }
  // Starts broker, order-service and stock-service; `order_env` and
  // `stock_env` are extra environment entries for the services.
  void StartAll(std::vector<std::string> broker_flags = {}, const std::string& seed = "1:50",
                std::vector<std::string> order_env = {}, std::vector<std::string> stock_env = {}) {
    broker_ = std::make_unique<testing::BrokerProcess>(File("broker"), std::move(broker_flags));
    ASSERT_TRUE(broker_->Start());
    order_ = std::make_unique<ServiceProcess>(
        std::vector<std::string>{TXMSG_ORDER_BIN, "--broker=" + broker_->address(),
                                 "--db=" + Db("order")},
        std::move(order_env));
    stock_ = std::make_unique<ServiceProcess>(
        std::vector<std::string>{TXMSG_STOCK_BIN, "--broker=" + broker_->address(),
                                 "--db=" + Db("stock"), "--seed_stock=" + seed},
        std::move(stock_env));
    ASSERT_TRUE(order_->Start());
    ASSERT_TRUE(stock_->Start());
  }
  testing::HttpResult Submit(int64_t product, int pay) {
    return testing::Http(order_->port(), "POST", "/order/submitOrder",
                         "{\"productId\": " + std::to_string(product) +
                             ", \"payCount\": " + std::to_string(pay) + "}");
  }
  std::string Orders(const std::string& status = "") {
    return testing::Http(order_->port(), "GET",
                         "/order/orders?limit=100000" + (status.empty() ? "" : "&status=" + status))
        .body;
  }
  int64_t Stock(int64_t product) {
    return Number(
        testing::Http(stock_->port(), "GET", "/stock/products/" + std::to_string(product)).body,
        "totalCount");
  }
  bool Settled(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return testing::WaitFor([&] { return Count(Orders("PENDING"), "orderNo") == 0; }, timeout);
  }
  std::string OrderStatus(const std::string& order_no) {
    return Field(testing::Http(order_->port(), "GET", "/order/orders/" + order_no).body, "status");
  }
  int64_t Metric(const ServiceProcess& service, const std::string& series) {
    return MetricValue(testing::Http(service.port(), "GET", "/metrics").body, series);
  }

  Backend backend_ = Backend::kSqlite;
  std::string db_run_dir_;
  int db_run_ = 0;
  testing::TempDir tmp_;
  std::unique_ptr<testing::TempDir>
      run_dir_;  // a fresh directory per run, when a test needs several
  std::unique_ptr<testing::BrokerProcess> broker_;
  std::unique_ptr<ServiceProcess> order_;
  std::unique_ptr<ServiceProcess> stock_;
};

// `Fixture`'s tests, each run on SQLite and on PostgreSQL: declare them
// with TEST_P and instantiate with TXMSG_ON_BOTH_BACKENDS(Fixture).
template <class Fixture>
class OnBothBackends : public Fixture, public ::testing::WithParamInterface<Backend> {
 public:
  OnBothBackends() { this->backend_ = GetParam(); }
};

#define TXMSG_ON_BOTH_BACKENDS(fixture)                                          \
  INSTANTIATE_TEST_SUITE_P(                                                      \
      Backends, fixture,                                                         \
      ::testing::Values(::txmsg::Backend::kSqlite, ::txmsg::Backend::kPostgres), \
      ::txmsg::BackendName)

}  // namespace txmsg

#endif  // TXMSG_TESTS_SERVICES_SYSTEM_FIXTURE_H_
