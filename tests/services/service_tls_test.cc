// order-service and stock-service with TLS everywhere: each reaches the
// broker over mutual TLS (--broker_tls_ca/--broker_tls_cert/--broker_tls_key)
// and serves its API over HTTPS (--tls_cert/--tls_key); an order goes
// through. Plain HTTP to an HTTPS port fails cleanly; an unprotected
// non-loopback listener is refused.
#include <sys/wait.h>

#include "gmock/gmock.h"
#include "tests/services/system_fixture.h"
#include "tests/testutil/subprocess.h"
#include "tests/testutil/tls_material.h"

namespace txmsg {
namespace {

using testing::Https;

class ServiceTlsTest : public SystemTest {
 protected:
  void StartSecure() {
    pki_ = testing::MakeTlsMaterial(tmp_.path());
    broker_ = std::make_unique<testing::BrokerProcess>(
        File("broker"),
        std::vector<std::string>{"--tls_cert=" + pki_.server.cert, "--tls_key=" + pki_.server.key,
                                 "--tls_client_ca=" + pki_.ca});
    ASSERT_TRUE(broker_->Start());
    const std::vector<std::string> tls = {
        "--broker=" + broker_->address(),        "--broker_tls_ca=" + pki_.ca,
        "--broker_tls_cert=" + pki_.client.cert, "--broker_tls_key=" + pki_.client.key,
        "--tls_cert=" + pki_.server.cert,        "--tls_key=" + pki_.server.key};
    std::vector<std::string> order = {TXMSG_ORDER_BIN, "--db=" + File("order.db")};
    order.insert(order.end(), tls.begin(), tls.end());
    std::vector<std::string> stock = {TXMSG_STOCK_BIN, "--db=" + File("stock.db"),
                                      "--seed_stock=1:5"};
    stock.insert(stock.end(), tls.begin(), tls.end());
    order_ = std::make_unique<ServiceProcess>(order);
    stock_ = std::make_unique<ServiceProcess>(stock);
    ASSERT_TRUE(order_->Start());
    ASSERT_TRUE(stock_->Start());
  }

  testing::TlsMaterial pki_;
};

TEST_F(ServiceTlsTest, AnOrderGoesThroughWithTlsEverywhere) {
  StartSecure();
  ASSERT_TRUE(testing::WaitFor([&] {
    return Https(order_->port(), "GET", "/healthz", pki_.ca).status == 200 &&
           Https(stock_->port(), "GET", "/healthz", pki_.ca).status == 200;
  })) << "both services reach the broker over mutual TLS";
  const testing::HttpResult submitted = Https(order_->port(), "POST", "/order/submitOrder", pki_.ca,
                                              "{\"productId\": 1, \"payCount\": 2}");
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  const std::string order_no = Field(submitted.body, "orderNo");
  EXPECT_TRUE(testing::WaitFor([&] {
    return Field(Https(order_->port(), "GET", "/order/orders/" + order_no, pki_.ca).body,
                 "status") == "CONFIRMED";
  }));
  EXPECT_EQ(Number(Https(stock_->port(), "GET", "/stock/products/1", pki_.ca).body, "totalCount"),
            3);
}

TEST_F(ServiceTlsTest, PlainHttpToAnHttpsPortFailsCleanly) {
  StartSecure();
  EXPECT_EQ(testing::Http(stock_->port(), "GET", "/healthz").status, 0);
  EXPECT_EQ(Https(stock_->port(), "GET", "/stock/products/1", pki_.other_ca).status, 0)
      << "a client that trusts another CA refuses the service";
  EXPECT_EQ(Https(stock_->port(), "GET", "/stock/products/1", pki_.ca).status, 200)
      << "and the service still serves";
  EXPECT_FALSE(stock_->exited());
}

TEST_F(ServiceTlsTest, ANonLoopbackHttpListenerNeedsHttpsOrInsecure) {
  testing::Subprocess p(
      {"/bin/sh", "-c",
       std::string(TXMSG_STOCK_BIN) + " --bind=0.0.0.0 --port=0 --db=" + File("s.db") + " 2>&1"});
  const std::string out = p.ReadAll(std::chrono::seconds(10));
  const int status = p.Wait();
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 2) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("--tls_cert FILE --tls_key FILE"));
  EXPECT_THAT(out, ::testing::HasSubstr("--insecure"));
}

}  // namespace
}  // namespace txmsg
