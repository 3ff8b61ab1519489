// The services' HTTP APIs as a client sees them (docs/http_api.md):
// required and unknown fields on writes, id limits, stable field order,
// valid JSON errors, Idempotency-Key, and --seed_stock checked like PUT.
#include <sqlite3.h>
#include <sys/wait.h>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "tests/services/system_fixture.h"
#include "tests/testutil/subprocess.h"

namespace txmsg {
namespace {

using testing::Http;
using testing::HttpResult;
using namespace std::chrono_literals;

// Valid JSON (and so valid UTF-8), as protobuf's parser sees it.
bool IsJsonObjectWithError(const std::string& text) {
  google::protobuf::Struct s;
  return google::protobuf::util::JsonStringToMessage(text, &s).ok() && s.fields().count("error");
}

class HttpApiTest : public SystemTest {
 protected:
  HttpResult Put(const std::string& id, const std::string& body) {
    return Http(stock_->port(), "PUT", "/stock/products/" + id, body);
  }
  HttpResult SubmitWithKey(const std::string& key, int64_t product, int pay) {
    return Http(order_->port(), "POST", "/order/submitOrder",
                "{\"productId\": " + std::to_string(product) +
                    ", \"payCount\": " + std::to_string(pay) + "}",
                {{"Idempotency-Key", key}});
  }
};

class HttpApiBackends : public OnBothBackends<HttpApiTest> {};
TXMSG_ON_BOTH_BACKENDS(HttpApiBackends);

TEST_P(HttpApiBackends, PutRefusesMissingMisspeltAndUnknownFieldsAndChangesNothing) {
  StartAll();
  for (const std::string body :
       {"{\"totalcount\": 500}", "{}", "null", "{\"totalCount\": null}", "[500]", "",
        "{\"totalCount\": 5, \"colour\": \"red\"}", "{\"totalCount\": \"5\"x}"}) {
    HttpResult r = Put("1", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_TRUE(IsJsonObjectWithError(r.body)) << body << " -> " << r.body;
  }
  EXPECT_NE(Put("1", "{\"totalcount\": 500}").body.find("did you mean \\\"totalCount\\\""),
            std::string::npos);
  EXPECT_NE(Put("1", "{}").body.find("missing required field totalCount"), std::string::npos);
  EXPECT_EQ(Stock(1), 50) << "a refused PUT changed the stock";
  EXPECT_EQ(Put("1", "{\"totalCount\": 500}").status, 200);
  EXPECT_EQ(Stock(1), 500);
  EXPECT_EQ(Put("1", "{\"total_count\": 7}").status, 200);  // the proto name works too
  EXPECT_EQ(Stock(1), 7);
  // Orders too: unknown fields are an error on writes.
  HttpResult r = Http(order_->port(), "POST", "/order/submitOrder",
                      "{\"productId\": 1, \"payCount\": 1, \"coupon\": \"FREE\"}");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Count(Orders(), "orderNo"), 0);
}

TEST_P(HttpApiBackends, IdsAboveTwoToTheFiftyThreeAreRefusedAndTheLargestComesBackExactly) {
  StartAll();
  const std::string max = "9007199254740991";  // 2^53 - 1
  for (const std::string id : {"9007199254740992", "9007199254740993", "9223372036854775807",
                               "99999999999999999999", "0", "-1", "1e3", "abc"}) {
    HttpResult r = Put(id, "{\"totalCount\": 5}");
    EXPECT_EQ(r.status, 400) << id << ": " << r.body;
    EXPECT_TRUE(IsJsonObjectWithError(r.body)) << r.body;
    EXPECT_EQ(Http(stock_->port(), "GET", "/stock/products/" + id).status, 400) << id;
  }
  HttpResult put = Put(max, "{\"totalCount\": 5}");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_NE(put.body.find("\"productId\":" + max + ","), std::string::npos) << put.body;
  HttpResult get = Http(stock_->port(), "GET", "/stock/products/" + max);
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.body, put.body) << "a PUT answered an id a GET cannot find";

  EXPECT_EQ(Submit(9007199254740992, 1).status, 400);
  HttpResult ok = Submit(9007199254740991, 1);
  ASSERT_EQ(ok.status, 200) << ok.body;
  ASSERT_TRUE(Settled());
  EXPECT_NE(Http(order_->port(), "GET", "/order/orders/" + Field(ok.body, "orderNo"))
                .body.find("\"productId\":9007199254740991,"),
            std::string::npos);
  EXPECT_EQ(Stock(9007199254740991), 4);
}

TEST_F(HttpApiTest, FieldOrderIsTheSameInEveryResponse) {
  StartAll();
  HttpResult placed = Submit(1, 2);
  ASSERT_EQ(placed.status, 200);
  EXPECT_EQ(placed.body.find("{\"orderNo\":"), 0u) << placed.body;
  EXPECT_LT(placed.body.find("\"txNo\""), placed.body.find("\"status\""));
  ASSERT_TRUE(Settled());
  const std::string path = "/order/orders/" + Field(placed.body, "orderNo");
  const std::string first = Http(order_->port(), "GET", path).body;
  const std::vector<std::string> order = {"orderNo", "txNo",   "productId",    "payCount",
                                          "status",  "reason", "createTimeMs", "updateTimeMs"};
  for (size_t i = 1; i < order.size(); ++i) {
    EXPECT_LT(first.find("\"" + order[i - 1] + "\""), first.find("\"" + order[i] + "\"")) << first;
  }
  std::set<std::string> bodies;
  for (int i = 0; i < 30; ++i) {
    bodies.insert(Http(order_->port(), "GET", path).body);
    bodies.insert(Http(stock_->port(), "GET", "/stock/products/1").body);
    bodies.insert(Http(stock_->port(), "GET", "/healthz").body);
  }
  EXPECT_EQ(bodies.size(), 3u);
  EXPECT_EQ(Http(stock_->port(), "GET", "/stock/products/1").body,
            "{\"productId\":1,\"totalCount\":48}\n");
}

TEST_F(HttpApiTest, ErrorsAreValidJsonEvenWhenTheRequestIsNotValidUtf8) {
  StartAll();
  const std::vector<std::pair<uint16_t, std::string>> targets = {
      {order_->port(), "/order/orders/%ff%fe%c3"},
      {order_->port(), "/order/orders/%c0%afx"},  // an overlong '/'
      {order_->port(), "/no/such/%ff%0a%1b[31m"},
      {stock_->port(), "/stock/products/%ff"},
      {stock_->port(), "/stock/products/%c0%af%ed%a0%80"},
  };
  for (const auto& [port, target] : targets) {
    HttpResult r = Http(port, "GET", target);
    EXPECT_GE(r.status, 400) << target;
    EXPECT_TRUE(IsJsonObjectWithError(r.body)) << target << " -> " << r.body;
  }
  for (const std::string body : {"{\"product\xff\xfeId\": 1, \"payCount\": 1}",
                                 "{\"product\xc0\xafId\": 1, \"payCount\": 1}"}) {
    HttpResult r = Http(order_->port(), "POST", "/order/submitOrder", body);
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(IsJsonObjectWithError(r.body)) << r.body;
  }
}

TEST_P(HttpApiBackends, IdempotencyKeyAnswersTheOriginalOrderAndCreatesNothing) {
  StartAll();
  HttpResult first = SubmitWithKey("retry-1", 1, 3);
  ASSERT_EQ(first.status, 200) << first.body;
  HttpResult again = SubmitWithKey("retry-1", 1, 3);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Field(again.body, "orderNo"), Field(first.body, "orderNo"));
  EXPECT_EQ(Field(again.body, "txNo"), Field(first.body, "txNo"));
  // The same key for a different order is a client bug: refused.
  EXPECT_EQ(SubmitWithKey("retry-1", 1, 4).status, 422);
  EXPECT_EQ(SubmitWithKey("", 1, 1).status, 400);
  EXPECT_EQ(SubmitWithKey(std::string(300, 'k'), 1, 1).status, 400);
  EXPECT_EQ(SubmitWithKey("has space", 1, 1).status, 400);
  // Repeats racing each other: still one order.
  std::vector<std::thread> racers;
  std::vector<std::string> numbers(8);
  for (int i = 0; i < 8; ++i) {
    racers.emplace_back(
        [&, i] { numbers[i] = Field(SubmitWithKey("race", 1, 1).body, "orderNo"); });
  }
  for (auto& t : racers) t.join();
  for (const std::string& n : numbers) EXPECT_EQ(n, numbers[0]);
  EXPECT_FALSE(numbers[0].empty());
  ASSERT_TRUE(Settled());
  EXPECT_EQ(Count(Orders(), "orderNo"), 2);
  EXPECT_EQ(Stock(1), 50 - 3 - 1);
  EXPECT_EQ(Metric(*order_, "txmsg_orders_replayed_total"), 8);
  // The key is stored with the order: it survives a restart.
  ASSERT_TRUE(order_->Restart());
  HttpResult later = SubmitWithKey("retry-1", 1, 3);
  EXPECT_EQ(Field(later.body, "orderNo"), Field(first.body, "orderNo"));
  EXPECT_EQ(Field(later.body, "status"), "CONFIRMED");
  EXPECT_EQ(Count(Orders(), "orderNo"), 2);
}

// An order.db made before the Idempotency-Key existed gets its column.
TEST_F(HttpApiTest, AnOlderOrderDatabaseIsMigrated) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(File("order.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE \"order\" (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                         " order_no VARCHAR(64) NOT NULL UNIQUE, product_id BIGINT NOT NULL,"
                         " pay_count INT NOT NULL, create_time INTEGER NOT NULL,"
                         " status TEXT NOT NULL, tx_no VARCHAR(64) NOT NULL UNIQUE,"
                         " reason TEXT NOT NULL DEFAULT '', update_time INTEGER NOT NULL);"
                         "INSERT INTO \"order\" (order_no, product_id, pay_count, create_time,"
                         " status, tx_no, update_time) VALUES ('old-order', 1, 1, 1, 'CONFIRMED',"
                         " 'old-tx', 1);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  StartAll();
  EXPECT_EQ(OrderStatus("old-order"), "CONFIRMED");
  HttpResult first = SubmitWithKey("after-migration", 1, 1);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Field(SubmitWithKey("after-migration", 1, 1).body, "orderNo"),
            Field(first.body, "orderNo"));
  ASSERT_TRUE(Settled());
  EXPECT_EQ(Count(Orders(), "orderNo"), 2);
}

// A database whose schema is newer than the binary knows: a refusal at
// start (exit status 1), never a guess.
TEST_P(HttpApiBackends, ANewerSchemaIsRefusedAtStart) {
  StartAll();
  order_->Kill();
  const std::string bump = "UPDATE txmsg_schema SET version = 99";
  if (backend_ == Backend::kSqlite) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(File("order.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, bump.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  } else {
    ASSERT_EQ(SharedPgCluster().Query("order_" + std::to_string(db_run_), bump), "");
  }
  testing::Subprocess p({"/bin/sh", "-c",
                         std::string("exec \"$0\" --port=0 --broker=\"$1\" --db=\"$2\" 2>&1"),
                         TXMSG_ORDER_BIN, broker_->address(), Db("order")});
  const std::string out = p.ReadAll(30s);
  const int status = p.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << ": " << out;
  EXPECT_NE(out.find("schema is version 99, newer than this order-service knows (1)"),
            std::string::npos)
      << out;
}

// A password on the command line is refused, and not echoed.
TEST_F(HttpApiTest, APostgresPasswordOnTheCommandLineIsRefused) {
  for (const std::string db : {"postgresql://txmsg:s3cr3t@127.0.0.1:1/txmsg_order",
                               "host=127.0.0.1 port=1 dbname=x password=s3cr3t"}) {
    testing::Subprocess p(
        {"/bin/sh", "-c", "exec \"$0\" --port=0 --db=\"$1\" 2>&1", TXMSG_STOCK_BIN, db});
    const std::string out = p.ReadAll(30s);
    const int status = p.Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << ": " << out;
    EXPECT_NE(out.find("PGPASSWORD"), std::string::npos) << out;
    EXPECT_EQ(out.find("s3cr3t"), std::string::npos) << out;
  }
}

TEST_F(HttpApiTest, SeedStockRefusesWhatPutRefuses) {
  for (const std::string seed :
       {"1:-5", "1:2000000001", "1:3000000000", "1:abc", "1:", "1:1.5", "1:+5", "0:5",
        "9007199254740992:1", "abc:1", "1:5,1:6", "1:2:3"}) {
    testing::Subprocess p({TXMSG_STOCK_BIN, "--port=0", "--db=" + File("seed.db"),
                           "--broker=127.0.0.1:1", "--seed_stock=" + seed});
    if (!testing::WaitFor([&] { return p.Exited(); })) {
      ADD_FAILURE() << "--seed_stock=" << seed << " was accepted: the service started";
      continue;  // the destructor kills it
    }
    const int status = p.Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << seed << ": " << status;
  }
  StartAll({}, "9007199254740991:2000000000,2:0");
  EXPECT_EQ(Stock(9007199254740991), 2000000000);
  EXPECT_EQ(Stock(2), 0);
}

}  // namespace
}  // namespace txmsg
