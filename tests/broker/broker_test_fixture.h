// The fixture shared by the broker's integration tests: the real
// txmsg-broker binary on a loopback port, and SDK clients for it.
#ifndef TXMSG_TESTS_BROKER_BROKER_TEST_FIXTURE_H_
#define TXMSG_TESTS_BROKER_BROKER_TEST_FIXTURE_H_

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/testutil/broker_process.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "txmsg/blocking_client.h"
#include "txmsg/consumer.h"
#include "txmsg/producer.h"

namespace txmsg::testing_broker {

using namespace std::chrono_literals;
using ::txmsg::testing::BrokerProcess;
using ::txmsg::testing::WaitFor;

// Everything a consumer received, thread-safe.
class Inbox {
 public:
  Consumer::Handler Handler() {
    return [this](const Delivery& d) {
      absl::MutexLock lock(&mu_);
      got_.push_back(d);
      return ConsumeResult::Success();
    };
  }
  size_t Count(const std::string& body) {
    absl::MutexLock lock(&mu_);
    return std::count_if(got_.begin(), got_.end(),
                         [&](const Delivery& d) { return d.message.body == body; });
  }
  bool WaitFor(const std::string& body, std::chrono::milliseconds timeout = 10s) {
    return ::txmsg::testing::WaitFor([&] { return Count(body) > 0; }, timeout);
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return got_.size();
  }
  std::vector<Delivery> all() {
    absl::MutexLock lock(&mu_);
    return got_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Delivery> got_;
};

inline Message Msg(const std::string& body, const std::string& topic = "topic_txmsg") {
  Message m;
  m.topic = topic;
  m.key = "k-" + body;
  m.body = body;
  return m;
}

class BrokerProcessTest : public ::testing::Test {
 protected:
  void StartBroker(std::vector<std::string> flags = {}) {
    broker_ = std::make_unique<BrokerProcess>(tmp_.File("data"), std::move(flags));
    ASSERT_TRUE(broker_->Start());
  }
  ClientOptions Client() {
    ClientOptions o;
    o.broker = broker_->address();
    o.request_timeout = 5s;
    o.reconnect_min = 20ms;
    o.reconnect_max = 200ms;
    return o;
  }
  std::unique_ptr<TransactionProducer> Producer(TransactionProducer::CheckHandler h = nullptr,
                                                const std::string& group = "tx_order_group") {
    if (!h) h = [](const CheckRequest&) { return TxOutcome::kUnknown; };
    auto p = std::make_unique<TransactionProducer>(Client(), group, std::move(h));
    EXPECT_OK(p->Start());
    return p;
  }
  std::unique_ptr<Consumer> Subscribe(Inbox& inbox, const std::string& group = "tx_stock_group",
                                      const std::string& topic = "topic_txmsg",
                                      uint32_t max_unacked = 64) {
    ConsumerOptions o{Client(), topic, group, max_unacked};
    auto c = std::make_unique<Consumer>(o, inbox.Handler());
    EXPECT_OK(c->Start());
    return c;
  }
  std::unique_ptr<BlockingClient> Admin(wire::ClientRole role = wire::ROLE_ADMIN) {
    auto a = BlockingClient::Connect(broker_->address(), role);
    EXPECT_OK(a);
    return a.ok() ? std::move(*a) : nullptr;
  }
  wire::StatsOk Stats() {
    wire::Frame f;
    f.mutable_stats();
    auto r = Admin()->Call(f);
    EXPECT_OK(r);
    return r.ok() ? r->stats_ok() : wire::StatsOk();
  }
  std::optional<wire::HalfInfo> Half(uint64_t id) {
    wire::Frame f;
    f.mutable_show_half()->set_message_id(id);
    auto r = Admin()->Call(f);
    if (!r.ok()) return std::nullopt;
    return r->show_half_ok().half();
  }
  // True once `group` has acked everything delivered on `topic` and nothing
  // waits: a handled message is not acked until its ack reaches the broker.
  bool AllAcked(const std::string& group, const std::string& topic = "topic_txmsg") {
    wire::Frame f;
    f.mutable_list_groups();
    auto r = Admin()->Call(f);
    if (!r.ok()) return false;
    for (const auto& g : r->list_groups_ok().groups()) {
      if (g.group() == group && g.topic() == topic) return g.in_flight() == 0 && g.lag() == 0;
    }
    return false;
  }
  // A send-through-delivery round trip: once it arrives, everything the
  // broker did before it was sent has been done.
  void Barrier(TransactionProducer& p, Inbox& inbox) {
    const std::string marker = "barrier-" + std::to_string(barrier_++);
    ASSERT_OK(p.Send(Msg(marker)));
    ASSERT_TRUE(inbox.WaitFor(marker));
  }

  ::txmsg::testing::TempDir tmp_;
  std::unique_ptr<BrokerProcess> broker_;
  int barrier_ = 0;
};

}  // namespace txmsg::testing_broker

#endif  // TXMSG_TESTS_BROKER_BROKER_TEST_FIXTURE_H_
