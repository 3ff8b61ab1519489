// Poison events: messages no consumer can ever process, published straight
// to the services' topics. The services must stay up, count each in
// /metrics by reason, and dead-letter it (txmsgctl dlq list shows it), while
// real orders keep flowing.
#include <set>

#include "gtest/gtest.h"
#include "service/contract.h"
#include "tests/services/system_fixture.h"
#include "tests/testutil/event_builders.h"
#include "txmsg/blocking_client.h"
#include "txmsg/producer.h"

namespace txmsg {
namespace {

using testing::Http;
using testing::WaitFor;
using namespace std::chrono_literals;

class PoisonTest : public SystemTest {
 protected:
  // Publishes `body` as a plain message on `topic`; its broker id.
  uint64_t Publish(const std::string& topic, const std::string& body) {
    if (!producer_) {
      ClientOptions client;
      client.broker = broker_->address();
      client.client_id = "poison-test";
      producer_ = std::make_unique<TransactionProducer>(client, "poison_test_group", nullptr);
      EXPECT_TRUE(producer_->Start(5s).ok());
    }
    absl::StatusOr<uint64_t> id = producer_->Send(Message{topic, "poison", {}, body});
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : 0;
  }
  std::set<uint64_t> Dlq(const std::string& group) {
    std::set<uint64_t> ids;
    absl::StatusOr<std::unique_ptr<BlockingClient>> admin =
        BlockingClient::Connect(broker_->address());
    if (!admin.ok()) return ids;
    wire::Frame f;
    f.mutable_list_dlq()->set_group(group);
    absl::StatusOr<wire::Frame> r = (*admin)->Call(std::move(f));
    if (!r.ok()) return ids;
    for (const wire::DlqEntry& e : r->list_dlq_ok().entries()) ids.insert(e.message_id());
    return ids;
  }
  static std::string Poison(const std::string& reason) {
    return "txmsg_poison_messages_total{reason=\"" + reason + "\"}";
  }

  std::unique_ptr<TransactionProducer> producer_;
};

class PoisonBackends : public OnBothBackends<PoisonTest> {};
TXMSG_ON_BOTH_BACKENDS(PoisonBackends);

TEST_P(PoisonBackends, StockServiceDeadLettersOrdersItCanNeverProcessAndStaysUp) {
  StartAll();
  std::set<uint64_t> poison;
  poison.insert(Publish(contract::kOrderTopic, "\xff\xff\xff not a protobuf"));  // unparsable
  poison.insert(Publish(contract::kOrderTopic, ""));  // parses as empty: no tx_no
  poison.insert(
      Publish(contract::kOrderTopic, testing::OrderPlacedEvent("", 1, 1).SerializeAsString()));
  poison.insert(
      Publish(contract::kOrderTopic, testing::OrderPlacedEvent("p-0", 1, 0).SerializeAsString()));
  poison.insert(Publish(contract::kOrderTopic,
                        testing::OrderPlacedEvent("p-neg", -5, 1).SerializeAsString()));
  poison.insert(
      Publish(contract::kOrderTopic,
              testing::OrderPlacedEvent("p-big", int64_t{1} << 60, 1).SerializeAsString()));

  ASSERT_TRUE(WaitFor([&] { return Dlq(contract::kStockConsumerGroup) == poison; }, 20s))
      << "every poison order is dead-lettered, and nothing else";
  EXPECT_EQ(Metric(*stock_, Poison("unparsable")), 1);
  EXPECT_EQ(Metric(*stock_, Poison("missing_field")), 2);
  EXPECT_EQ(Metric(*stock_, Poison("invalid_value")), 3);
  EXPECT_FALSE(stock_->exited());
  EXPECT_EQ(Stock(1), 50) << "nothing deducted for poison";
  ASSERT_EQ(Submit(1, 2).status, 200);  // real orders still flow
  ASSERT_TRUE(Settled());
  EXPECT_EQ(Stock(1), 48);
}

TEST_P(PoisonBackends, OrderServiceDeadLettersOutcomesItCanNeverApplyAndStaysUp) {
  StartAll();
  const testing::HttpResult placed = Submit(1, 1);
  ASSERT_EQ(placed.status, 200);
  ASSERT_TRUE(Settled());
  const std::string order_no = Field(placed.body, "orderNo");
  const std::string tx_no = Field(placed.body, "txNo");

  std::set<uint64_t> poison;
  poison.insert(Publish(contract::kRollbackTopic, "garbage \x01\x02\n\x1b[31m"));
  poison.insert(Publish(contract::kRollbackTopic,
                        testing::StockOutcomeEvent("", tx_no, 2).SerializeAsString()));
  // An outcome this build does not know (a newer stock-service's), and none.
  poison.insert(Publish(contract::kRollbackTopic,
                        testing::StockOutcomeEvent(order_no, tx_no, 99).SerializeAsString()));
  poison.insert(Publish(contract::kConfirmTopic,
                        testing::StockOutcomeEvent(order_no, tx_no, 0).SerializeAsString()));
  // Outcomes for orders that do not exist here.
  poison.insert(
      Publish(contract::kConfirmTopic,
              testing::StockOutcomeEvent("no-such-order", "no-such-tx", 1).SerializeAsString()));
  poison.insert(
      Publish(contract::kRollbackTopic,
              testing::StockOutcomeEvent(order_no, "someone-elses-tx", 2).SerializeAsString()));

  ASSERT_TRUE(WaitFor([&] { return Dlq(contract::kOrderOutcomeGroup) == poison; }, 20s))
      << "every poison outcome is dead-lettered, and nothing else";
  EXPECT_EQ(Metric(*order_, Poison("unparsable")), 1);
  EXPECT_EQ(Metric(*order_, Poison("missing_field")), 1);
  EXPECT_EQ(Metric(*order_, Poison("unknown_enum")), 2);
  EXPECT_EQ(Metric(*order_, Poison("unknown_order")), 2);
  EXPECT_FALSE(order_->exited());
  EXPECT_EQ(OrderStatus(order_no), "CONFIRMED") << "a poison outcome changed a real order";
  EXPECT_EQ(Http(order_->port(), "GET", "/healthz").status, 200);
  ASSERT_EQ(Submit(1, 1).status, 200);
  ASSERT_TRUE(Settled());
  EXPECT_EQ(Count(Orders("CONFIRMED"), "orderNo"), 2);
}

}  // namespace
}  // namespace txmsg
