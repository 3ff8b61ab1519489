// What the world does to a running service: its database fails for a few
// seconds, the broker freezes, descriptors run out. The service reports it
// on /healthz, loses and strands nothing, and recovers by itself.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "gtest/gtest.h"
#include "service/contract.h"
#include "tests/services/system_fixture.h"
#include "txmsg/blocking_client.h"

namespace txmsg {
namespace {

using testing::Http;
using testing::HttpResult;
using testing::WaitFor;
using namespace std::chrono_literals;

class OutageTest : public SystemTest {
 protected:
  size_t DlqSize(const std::string& group) {
    absl::StatusOr<std::unique_ptr<BlockingClient>> admin =
        BlockingClient::Connect(broker_->address());
    if (!admin.ok()) return 999;
    wire::Frame f;
    f.mutable_list_dlq()->set_group(group);
    absl::StatusOr<wire::Frame> r = (*admin)->Call(std::move(f));
    return r.ok() ? static_cast<size_t>(r->list_dlq_ok().entries_size()) : 999;
  }
  static void Touch(const std::string& path) { std::ofstream(path) << "full\n"; }
  static std::string Health(const ServiceProcess& s) {
    HttpResult r = Http(s.port(), "GET", "/healthz");
    return std::to_string(r.status) + " " + r.body;
  }
};

constexpr char kUnavailable[] = "txmsg_messages_unavailable_total";

// A few seconds of "disk full" under each service's database: with the old
// behaviour the broker's attempts (3 here) were spent in a second, the
// messages dead-lettered and the orders stranded PENDING.
TEST_F(OutageTest, DatabaseFullForAFewSecondsStrandsNothingAndDeadLettersNothing) {
  const std::string stock_full = File("stock-disk-full");
  const std::string order_full = File("order-disk-full");
  StartAll({"--max_attempts=3", "--redelivery_backoff=50ms"}, "1:50",
           {"TXMSG_TEST_DB_FULL_FLAG=" + order_full}, {"TXMSG_TEST_DB_FULL_FLAG=" + stock_full});
  ASSERT_TRUE(WaitFor([&] {
    return Health(*stock_) ==
           "200 {\"status\":\"ok\",\"broker\":\"connected\",\"database\":\"ok\"}\n";
  })) << Health(*stock_);

  // 1. stock-service's disk is full: orders come in, none can be deducted.
  Touch(stock_full);
  constexpr int kOrders = 10;
  for (int i = 0; i < kOrders; ++i) ASSERT_EQ(Submit(1, 1).status, 200);
  ASSERT_TRUE(WaitFor([&] { return Health(*stock_).rfind("503", 0) == 0; }));
  EXPECT_NE(Health(*stock_).find("\"database\":\"unavailable\""), std::string::npos);
  EXPECT_NE(Health(*stock_).find("\"broker\":\"connected\""), std::string::npos);
  // Every order is given back at least max_attempts times: none dead-lettered.
  ASSERT_TRUE(WaitFor([&] { return Metric(*stock_, kUnavailable) >= 3 * kOrders; }, 30s));
  EXPECT_EQ(DlqSize(contract::kStockConsumerGroup), 0u);
  EXPECT_EQ(Metric(*stock_, "txmsg_database_up"), 0);

  // 2. Space comes back for stock, and runs out for order-service.
  Touch(order_full);
  ASSERT_EQ(::unlink(stock_full.c_str()), 0);
  ASSERT_TRUE(WaitFor([&] { return Metric(*order_, kUnavailable) >= 3 * kOrders; }, 60s));
  EXPECT_EQ(Submit(1, 1).status, 503) << "an order that cannot be stored is refused";
  EXPECT_NE(Health(*order_).find("\"database\":\"unavailable\""), std::string::npos);
  EXPECT_EQ(DlqSize(contract::kOrderOutcomeGroup), 0u);
  ASSERT_TRUE(WaitFor([&] { return Health(*stock_).rfind("200", 0) == 0; }))
      << "stock-service recovers by itself: " << Health(*stock_);

  // 3. Space comes back for order-service: every order settles.
  ASSERT_EQ(::unlink(order_full.c_str()), 0);
  ASSERT_TRUE(Settled(60s)) << Orders("PENDING");
  EXPECT_EQ(Count(Orders("CONFIRMED"), "orderNo"), kOrders);
  EXPECT_EQ(Stock(1), 50 - kOrders);
  EXPECT_EQ(DlqSize(contract::kStockConsumerGroup), 0u);
  EXPECT_EQ(DlqSize(contract::kOrderOutcomeGroup), 0u);
  ASSERT_TRUE(WaitFor([&] { return Health(*order_).rfind("200", 0) == 0; }));
  EXPECT_EQ(Metric(*order_, "txmsg_database_up"), 1);
  EXPECT_EQ(Metric(*order_, "txmsg_database_outages_total"), 1);
}

// A SIGSTOPped broker keeps its connections open and answers nothing:
// /healthz must not say ok.
TEST_F(OutageTest, FrozenBrokerMakesHealthDegradedUntilItThaws) {
  StartAll();
  ASSERT_TRUE(WaitFor([&] { return Health(*order_).rfind("200", 0) == 0; })) << Health(*order_);
  ASSERT_TRUE(WaitFor([&] { return Health(*stock_).rfind("200", 0) == 0; })) << Health(*stock_);
  broker_->Signal(SIGSTOP);
  ASSERT_TRUE(WaitFor([&] { return Health(*order_).rfind("503", 0) == 0; }, 20s));
  EXPECT_NE(Health(*order_).find("\"broker\":\"unresponsive\""), std::string::npos)
      << Health(*order_);
  ASSERT_TRUE(WaitFor([&] { return Health(*stock_).find("unresponsive") != std::string::npos; }));
  broker_->Signal(SIGCONT);
  ASSERT_TRUE(WaitFor([&] { return Health(*order_).rfind("200", 0) == 0; }, 20s));
  ASSERT_TRUE(WaitFor([&] { return Health(*stock_).rfind("200", 0) == 0; }, 20s));
  ASSERT_EQ(Submit(1, 1).status, 200);
  ASSERT_TRUE(Settled());
}

// CPU time (user + system) of process `pid` so far, in clock ticks.
long CpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

// With its descriptors used up by idle connections, accept() fails with
// EMFILE and the pending connection stays in the backlog: an accept loop
// that retries at once spins a core. It must pause, and answer again once
// the connections close.
TEST_F(OutageTest, OutOfDescriptorsTheHttpServerPausesInsteadOfSpinning) {
  broker_ = std::make_unique<testing::BrokerProcess>(File("broker"));
  ASSERT_TRUE(broker_->Start());
  // A hard limit of 64 (the service cannot raise it) via a shell wrapper.
  stock_ = std::make_unique<ServiceProcess>(std::vector<std::string>{
      "/bin/sh", "-c", "ulimit -n 64 && exec \"$0\" \"$@\"", TXMSG_STOCK_BIN,
      "--broker=" + broker_->address(), "--db=" + File("stock.db"), "--seed_stock=1:5"});
  ASSERT_TRUE(stock_->Start());
  ASSERT_EQ(Http(stock_->port(), "GET", "/stock/products/1").status, 200);

  boost::asio::io_context io;
  const boost::asio::ip::tcp::endpoint at(boost::asio::ip::make_address("127.0.0.1"),
                                          stock_->port());
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> idle;
  for (int i = 0; i < 100; ++i) {  // more than the service has descriptors for
    auto s = std::make_unique<boost::asio::ip::tcp::socket>(io);
    boost::system::error_code ec;
    s->connect(at, ec);
    ASSERT_FALSE(ec) << ec.message();
    idle.push_back(std::move(s));
  }
  std::this_thread::sleep_for(300ms);  // let it accept what it can and hit EMFILE
  const long before = CpuTicks(stock_->pid());
  std::this_thread::sleep_for(1s);
  const long used = CpuTicks(stock_->pid()) - before;
  const long hz = ::sysconf(_SC_CLK_TCK);
  EXPECT_LT(used, hz / 5) << "more than 20% of a core while out of descriptors: spinning";

  idle.clear();  // the connections close; the service must answer again
  ASSERT_TRUE(
      WaitFor([&] { return Http(stock_->port(), "GET", "/stock/products/1").status == 200; }));
  EXPECT_FALSE(stock_->exited());
}

}  // namespace
}  // namespace txmsg
