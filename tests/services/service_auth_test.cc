// The services against a broker with --auth_file: each authenticates as its
// own principal from a 0600 secret file (a readable one is refused), the
// system still settles orders, the HTTP API answers 401 and 403 as HTTP
// means them, and no secret or token reaches a log line.
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "base/password_hash.h"
#include "broker/auth/principals.h"
#include "service/contract.h"
#include "tests/services/system_fixture.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/subprocess.h"

namespace txmsg {
namespace {

using namespace std::chrono_literals;
namespace auth = broker::auth;

constexpr char kOrderSecret[] = "order-svc-Secret-1a2b";
constexpr char kStockSecret[] = "stock-svc-Secret-3c4d";
constexpr char kApiToken[] = "api-Token-5e6f";
constexpr char kAdminToken[] = "admin-Token-7a8b";

auth::Principal Svc(const std::string& name, const std::string& secret,
                    std::vector<auth::Grant> grants) {
  return auth::Principal{name, *base::HashSecret(secret, 1'000), std::move(grants)};
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ServiceAuthTest : public SystemTest {
 protected:
  std::string Secret(const std::string& name, const std::string& value, mode_t mode = 0600) {
    const std::string path = File(name);
    std::ofstream(path) << value << "\n";
    ::chmod(path.c_str(), mode);
    return path;
  }
  void WritePrincipals() {
    auth::PrincipalSet set;
    using auth::Grant;
    using auth::Role;
    ASSERT_OK(set.Put(
        Svc("order-svc", kOrderSecret,
            {Grant{Role::kProduce, {contract::kOrderProducerGroup}, {contract::kOrderTopic}},
             Grant{Role::kConsume,
                   {contract::kOrderOutcomeGroup},
                   {contract::kConfirmTopic, contract::kRollbackTopic}}})));
    ASSERT_OK(set.Put(
        Svc("stock-svc", kStockSecret,
            {Grant{Role::kProduce,
                   {contract::kStockProducerGroup},
                   {contract::kConfirmTopic, contract::kRollbackTopic}},
             Grant{Role::kConsume, {contract::kStockConsumerGroup}, {contract::kOrderTopic}}})));
    ASSERT_OK(auth::SavePrincipalsFile(File("principals"), set));
  }
  void ExpectNoSecretIn(const std::string& log_path) {
    const std::string log = ReadAll(log_path);
    for (const char* s : {kOrderSecret, kStockSecret, kApiToken, kAdminToken}) {
      EXPECT_FALSE(absl::StrContains(log, s)) << log_path << " shows a secret:\n" << log;
    }
  }
  testing::HttpResult Call(const std::string& method, const std::string& target,
                           const std::string& token, const std::string& body = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return testing::Http(stock_->port(), method, target, body, headers);
  }
};

TEST_F(ServiceAuthTest, ServicesAuthenticateAndTheApiAnswers401And403) {
  WritePrincipals();
  broker_ = std::make_unique<testing::BrokerProcess>(
      File("broker"), std::vector<std::string>{"--auth_file=" + File("principals")});
  broker_->set_wrapper("exec \"$@\" 2>>'" + File("broker.log") + "'");
  ASSERT_TRUE(broker_->Start());
  stock_ = std::make_unique<ServiceProcess>(std::vector<std::string>{
      TXMSG_STOCK_BIN, "--broker=" + broker_->address(), "--db=" + File("stock.db"),
      "--seed_stock=1:5", "--broker_user=stock-svc",
      "--broker_secret_file=" + Secret("stock.secret", kStockSecret),
      "--api_token_file=" + Secret("api.token", kApiToken),
      "--admin_token_file=" + Secret("admin.token", kAdminToken)});
  stock_->set_wrapper("exec \"$@\" 2>>'" + File("stock.log") + "'");
  order_ = std::make_unique<ServiceProcess>(std::vector<std::string>{
      TXMSG_ORDER_BIN, "--broker=" + broker_->address(), "--db=" + File("order.db"),
      "--broker_user=order-svc", "--broker_secret_file=" + Secret("order.secret", kOrderSecret)});
  order_->set_wrapper("exec \"$@\" 2>>'" + File("order.log") + "'");
  ASSERT_TRUE(stock_->Start());
  ASSERT_TRUE(order_->Start());

  // The whole flow works with every connection authenticated.
  const testing::HttpResult placed = Submit(1, 2);
  ASSERT_EQ(placed.status, 200) << placed.body;
  ASSERT_TRUE(testing::WaitFor([&] { return Count(Orders("CONFIRMED"), "orderNo") == 1; }, 20s))
      << Orders();

  // stock-service's API: a token for everything, the admin token for PUT.
  const testing::HttpResult no_token = Call("GET", "/stock/products/1", "");
  EXPECT_EQ(no_token.status, 401) << no_token.body;
  EXPECT_TRUE(absl::StartsWith(no_token.www_authenticate, "Bearer")) << no_token.www_authenticate;
  EXPECT_EQ(Call("GET", "/stock/products/1", "not-a-token").status, 401);
  const testing::HttpResult read = Call("GET", "/stock/products/1", kApiToken);
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(Number(read.body, "totalCount"), 3) << read.body;
  const std::string put = "{\"totalCount\": 9}";
  const testing::HttpResult put_anonymous = Call("PUT", "/stock/products/1", "", put);
  EXPECT_EQ(put_anonymous.status, 401);
  EXPECT_FALSE(put_anonymous.www_authenticate.empty());
  EXPECT_EQ(Call("PUT", "/stock/products/1", "wrong", put).status, 401);
  const testing::HttpResult put_api = Call("PUT", "/stock/products/1", kApiToken, put);
  EXPECT_EQ(put_api.status, 403) << put_api.body;
  EXPECT_TRUE(put_api.www_authenticate.empty());
  EXPECT_EQ(Call("PUT", "/stock/products/1", kAdminToken, put).status, 200);
  EXPECT_EQ(Number(Call("GET", "/stock/products/1", kAdminToken).body, "totalCount"), 9);
  // Health stays open for probes.
  EXPECT_EQ(testing::Http(stock_->port(), "GET", "/healthz").status, 200);
  for (const testing::HttpResult* r : {&no_token, &put_anonymous, &put_api}) {
    EXPECT_FALSE(absl::StrContains(r->body, kApiToken));
    EXPECT_FALSE(absl::StrContains(r->body, kAdminToken));
  }

  order_.reset();
  stock_.reset();
  broker_.reset();
  for (const char* log : {"broker.log", "stock.log", "order.log"}) ExpectNoSecretIn(File(log));
}

TEST_F(ServiceAuthTest, SecretFileReadableByOthersIsRefused) {
  const std::string secret = Secret("open.secret", kStockSecret, 0644);
  testing::Subprocess p({"/bin/sh", "-c",
                         std::string(TXMSG_STOCK_BIN) + " --port=0 --db=" + File("s.db") +
                             " --broker_user=stock-svc --broker_secret_file=" + secret + " 2>&1"});
  const std::string out = p.ReadAll(10s);
  const int status = p.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2) << out;
  EXPECT_TRUE(absl::StrContains(out, "chmod 600")) << out;
  EXPECT_FALSE(absl::StrContains(out, kStockSecret)) << out;
}

}  // namespace
}  // namespace txmsg
