// txmsg-bench broker as an operator uses it to measure a restart under load:
// a kill -9 of the broker mid-run is survived (sends and commits are retried
// once it is back), nothing committed is lost, and the halves a killed
// earlier run left behind are not mistaken for this run's. With --rate it
// paces sends and a stall of the broker shows in the latency; with --json it
// prints one JSON document. txmsg-bench e2e against the real services spreads
// orders over several products and measures each server's CPU.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testutil/broker_process.h"
#include "tests/testutil/service_process.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/subprocess.h"
#include "tests/testutil/temp_dir.h"
#include "txmsg/blocking_client.h"

namespace txmsg {
namespace {

using namespace std::chrono_literals;
using google::protobuf::Struct;
using google::protobuf::Value;
using testing::WaitFor;

// `out` parsed as one JSON object; fails the test if it is not one.
Struct ParseJson(const std::string& out) {
  Struct doc;
  const auto status = google::protobuf::util::JsonStringToMessage(out, &doc);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << out;
  return doc;
}

// The number at a path of object keys ("latency_us", "p99"), or -1.
double Num(const Struct& doc, std::initializer_list<const char*> path) {
  const Struct* at = &doc;
  const Value* v = nullptr;
  for (const char* key : path) {
    if (at == nullptr || !at->fields().contains(key)) return -1;
    v = &at->fields().at(key);
    at = v->has_struct_value() ? &v->struct_value() : nullptr;
  }
  return v != nullptr && v->has_number_value() ? v->number_value() : -1;
}

// p50 <= p90 <= p99 <= p99.9 <= max, and max > 0.
void ExpectPercentiles(const Struct& doc, const char* key, double count) {
  EXPECT_EQ(Num(doc, {key, "count"}), count);
  double previous = 0;
  for (const char* p : {"p50", "p90", "p99", "p999", "max"}) {
    const double v = Num(doc, {key, p});
    EXPECT_GE(v, previous) << key << "." << p;
    previous = v;
  }
  EXPECT_GT(previous, 0) << key;
}

class BrokerBenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Quick check-backs, so that halves whose EndTx was lost are settled fast.
    broker_ = std::make_unique<testing::BrokerProcess>(
        tmp_.File("data"),
        std::vector<std::string>{"--tx_timeout=500ms", "--check_interval=500ms"});
    ASSERT_TRUE(broker_->Start());
  }
  std::unique_ptr<testing::Subprocess> Bench(int messages, const std::string& topic,
                                             std::vector<std::string> more = {}) {
    std::vector<std::string> argv = {TXMSG_BENCH_BIN,
                                     "broker",
                                     "--broker=" + broker_->address(),
                                     "--messages=" + std::to_string(messages),
                                     "--topic=" + topic,
                                     "--idle_timeout_s=60"};
    argv.insert(argv.end(), more.begin(), more.end());
    return std::make_unique<testing::Subprocess>(argv);
  }
  uint64_t Acked() {
    auto admin = BlockingClient::Connect(broker_->address());
    if (!admin.ok()) return 0;
    wire::Frame f;
    f.mutable_stats();
    auto r = (*admin)->Call(f);
    return r.ok() ? r->stats_ok().acked() : 0;
  }
  // The RESULT line's value of `key` ("lost", ...), or -1.
  static long long Result(const std::string& out, const std::string& key) {
    const size_t line = out.find("RESULT ");
    if (line == std::string::npos) return -1;
    const size_t at = out.find(" " + key + "=", line);
    if (at == std::string::npos) return -1;
    return std::stoll(out.substr(at + key.size() + 2));
  }

  testing::TempDir tmp_;
  std::unique_ptr<testing::BrokerProcess> broker_;
};

TEST_F(BrokerBenchTest, KillOfTheBrokerMidRunIsSurvivedAndNothingCommittedIsLost) {
  auto bench = Bench(20'000, "bench-kill");
  ASSERT_TRUE(WaitFor([&] { return Acked() > 2'000; }, 60s));
  ASSERT_TRUE(broker_->Restart());  // kill -9, then the same port again
  const std::string out = bench->ReadAll(120s);
  const int status = bench->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_EQ(Result(out, "lost"), 0) << out;
  EXPECT_EQ(Result(out, "unexpected_checks"), 0) << out;
}

TEST_F(BrokerBenchTest, LeftoversOfAKilledRunAreNotCountedAsTheNextRunsChecks) {
  {
    auto killed = Bench(200'000, "bench-shared");
    ASSERT_TRUE(WaitFor([&] { return Acked() > 1'000; }, 60s));
    killed->Signal(SIGKILL);  // leaves halves in flight, never ended
    killed->Wait();
  }
  auto next = Bench(5'000, "bench-shared");
  const std::string out = next->ReadAll(120s);
  const int status = next->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_EQ(Result(out, "lost"), 0) << out;
  EXPECT_EQ(Result(out, "unexpected_checks"), 0) << out;
}

TEST_F(BrokerBenchTest, APacedRunPrintsOneJsonDocumentWithPercentilesAndLosesNothing) {
  auto bench = Bench(2'000, "bench-paced", {"--rate=2000", "--json"});
  const std::string out = bench->ReadAll(60s);
  const int status = bench->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_EQ(out.find("RESULT"), std::string::npos) << out;
  const Struct doc = ParseJson(out);
  EXPECT_EQ(doc.fields().at("bench").string_value(), "broker");
  EXPECT_EQ(Num(doc, {"lost"}), 0) << out;
  EXPECT_EQ(Num(doc, {"delivered"}), 2'000) << out;
  EXPECT_EQ(Num(doc, {"unexpected_checks"}), 0) << out;
  EXPECT_EQ(Num(doc, {"rate_target"}), 2'000) << out;
  // Open loop: the last message is not due before 1 s, whatever the broker's speed.
  EXPECT_GE(Num(doc, {"elapsed_s"}), 0.99) << out;
  EXPECT_LE(Num(doc, {"msgs_per_s"}), 2'000 * 1.02) << out;
  ExpectPercentiles(doc, "latency_us", 2'000);
}

TEST_F(BrokerBenchTest, AStallOfTheBrokerShowsInThePacedLatency) {
  // 2 x 50 in flight at most: during the stall the cap is reached and the
  // rest wait to be sent. Measured from their send, they would look fast.
  auto bench = Bench(2'000, "bench-stall", {"--rate=1000", "--inflight=50", "--json"});
  ASSERT_TRUE(WaitFor([&] { return Acked() > 200; }, 30s));
  broker_->Signal(SIGSTOP);
  std::this_thread::sleep_for(500ms);  // the stall being measured
  broker_->Signal(SIGCONT);
  const std::string out = bench->ReadAll(60s);
  const int status = bench->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  const Struct doc = ParseJson(out);
  EXPECT_EQ(Num(doc, {"lost"}), 0) << out;
  EXPECT_GT(Num(doc, {"cap_waits"}), 0) << out;
  // About 500 messages were due during the stall, and each carries the rest
  // of it: measured from their scheduled time, the slowest tenth of all
  // waited about 300 ms or more, the worst about the whole stall.
  EXPECT_GE(Num(doc, {"latency_us", "p90"}), 200'000) << out;
  EXPECT_GE(Num(doc, {"latency_us", "max"}), 400'000) << out;
}

// The whole system, as in tests/services/order_stock_test.cc.
class E2eBenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<testing::BrokerProcess>(tmp_.File("broker"));
    ASSERT_TRUE(broker_->Start());
    order_ = std::make_unique<testing::ServiceProcess>(std::vector<std::string>{
        TXMSG_ORDER_BIN, "--broker=" + broker_->address(), "--db=" + tmp_.File("order.db")});
    stock_ = std::make_unique<testing::ServiceProcess>(std::vector<std::string>{
        TXMSG_STOCK_BIN, "--broker=" + broker_->address(), "--db=" + tmp_.File("stock.db")});
    ASSERT_TRUE(order_->Start());
    ASSERT_TRUE(stock_->Start());
  }

  testing::TempDir tmp_;
  std::unique_ptr<testing::BrokerProcess> broker_;
  std::unique_ptr<testing::ServiceProcess> order_;
  std::unique_ptr<testing::ServiceProcess> stock_;
};

TEST_F(E2eBenchTest, APacedRunOverFiveProductsSettlesEveryOrderAndMeasuresEachServersCpu) {
  testing::Subprocess bench({TXMSG_BENCH_BIN, "e2e", "--order=" + order_->address(),
                             "--stock=" + stock_->address(), "--broker=" + broker_->address(),
                             "--products=5", "--rate=200", "--orders=300", "--json"});
  const std::string out = bench.ReadAll(120s);
  const int status = bench.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  const Struct doc = ParseJson(out);
  EXPECT_EQ(Num(doc, {"accepted"}), 300) << out;
  EXPECT_EQ(Num(doc, {"settled"}), 300) << out;
  EXPECT_EQ(Num(doc, {"pending"}), 0) << out;
  EXPECT_GT(Num(doc, {"cancelled"}), 0) << out;     // each product's stock: 90% of its orders
  EXPECT_GE(Num(doc, {"elapsed_s"}), 1.49) << out;  // the last order is due at 1.495 s
  ExpectPercentiles(doc, "latency_ms", 300);
  ExpectPercentiles(doc, "accept_latency_us", 300);
  const std::vector<std::pair<const char*, pid_t>> servers = {
      {"broker", broker_->pid()}, {"order", order_->pid()}, {"stock", stock_->pid()}};
  for (const auto& [role, pid] : servers) {
    EXPECT_EQ(Num(doc, {"cpu", role, "pid"}), pid) << role << "\n" << out;
    EXPECT_GT(Num(doc, {"cpu", role, "us_per_order"}), 0) << role << "\n" << out;
  }

  // Orders went to all five products, product 1 (the Zipf head) the most.
  Struct orders = ParseJson(testing::Http(order_->port(), "GET", "/order/orders?limit=1000").body);
  std::map<int, int> per_product;
  for (const Value& o : orders.fields().at("orders").list_value().values()) {
    ++per_product[static_cast<int>(o.struct_value().fields().at("productId").number_value())];
  }
  ASSERT_EQ(per_product.size(), 5u);
  for (int p = 2; p <= 5; ++p) EXPECT_GT(per_product[1], per_product[p]) << p;
}

}  // namespace
}  // namespace txmsg
