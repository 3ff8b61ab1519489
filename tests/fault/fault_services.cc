// The services' scenarios: a full disk under each service's database, and
// poison events published straight onto their topics.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "service/contract.h"
#include "tests/fault/fault_scenarios.h"
#include "tests/testutil/event_builders.h"
#include "txmsg/blocking_client.h"

namespace txmsg::fault {
namespace {

using namespace std::chrono_literals;
using testing::Http;
using testing::WaitFor;
using Which = System::Which;

constexpr int kDbFullOrders = 150;
constexpr int kPoisonOrders = 80;
// db-full: one run per service; its outage starts once this many orders
// were accepted and lasts kMinDbOutage plus up to kDbOutageRangeMs, longer
// than the broker's ack timeout.
constexpr size_t kOrdersBeforeDbFull = 15;
constexpr auto kMinDbOutage = 1500ms;
constexpr uint64_t kDbOutageRangeMs = 1000;
constexpr auto kHealthPoll = 50ms;
// poison: this many rounds of every kind of poison, kOrdersPerPoisonRound
// accepted orders apart.
constexpr size_t kPoisonRounds = 3;
constexpr size_t kOrdersPerPoisonRound = 15;
constexpr uint64_t kMaxPoisonBytes = 64;
// A poison message is dead-lettered within this (it takes one delivery).
constexpr auto kPoisonSettle = 20s;

uint16_t HttpPort(System& s, Which w) {
  return w == System::kOrder ? s.order_port() : s.stock_port();
}

// The ids in `group`'s DLQ (first page: far more than a run makes).
std::set<uint64_t> Dlq(System& s, const std::string& group) {
  std::set<uint64_t> ids;
  auto admin = s.Connect();
  if (!admin.ok()) return ids;
  wire::Frame f;
  f.mutable_list_dlq()->set_group(group);
  if (auto r = (*admin)->Call(std::move(f)); r.ok()) {
    for (const wire::DlqEntry& e : r->list_dlq_ok().entries()) ids.insert(e.message_id());
  }
  return ids;
}

// Waits (kStepWait at most) until no accepted order is PENDING.
bool Quiet(System& s) {
  return WaitFor(
      [&] {
        testing::HttpResult r = Http(s.order_port(), "GET", "/order/orders?status=PENDING&limit=1");
        return r.status == 200 && r.body.find("orderNo") == std::string::npos;
      },
      kDefaultQuietTimeout);
}

// The sum of txmsg_poison_messages_total over its reasons.
int64_t PoisonCounted(System& s, Which w) {
  const std::string metrics = Http(HttpPort(s, w), "GET", "/metrics").body;
  static const std::regex sample("txmsg_poison_messages_total\\{[^}]*\\} ([0-9]+)");
  int64_t total = 0;
  for (auto it = std::sregex_iterator(metrics.begin(), metrics.end(), sample);
       it != std::sregex_iterator(); ++it) {
    total += std::stoll((*it)[1].str());
  }
  return total;
}

// The disk under `w`'s database is full for `outage` while orders flow:
// /healthz must say so meanwhile and recover after; once the workload is
// done and quiet, nothing may be in the services' DLQs (an outage is
// "cannot work now", not "this message is bad").
void DatabaseOutage(System& s, Workload& l, Which w, const std::string& flag,
                    std::chrono::milliseconds outage, const std::string& name, Violations& seen) {
  std::printf("  [%s] disk full for %lld ms at %zu orders\n", name.c_str(),
              static_cast<long long>(outage.count()), l.accepted());
  std::ofstream(flag) << "full\n";
  bool unhealthy = false;
  for (auto until = std::chrono::steady_clock::now() + outage;
       std::chrono::steady_clock::now() < until;) {
    unhealthy = unhealthy || Http(HttpPort(s, w), "GET", "/healthz").status == 503;
    std::this_thread::sleep_for(kHealthPoll);
  }
  std::filesystem::remove(flag);
  if (!unhealthy) seen.push_back(name + ": /healthz never said unhealthy while the disk was full");
  if (s.Exited(w)) seen.push_back(name + ": the service died");
  if (!WaitFor([&] { return Http(HttpPort(s, w), "GET", "/healthz").status == 200; }, kStepWait))
    seen.push_back(name + ": /healthz did not say ok again");
  // The workload may have spent its orders on the outage (they are refused
  // while the order database is full): one more order, after it.
  const testing::HttpResult after =
      Http(s.order_port(), "POST", "/order/submitOrder", "{\"productId\": 3, \"payCount\": 1}");
  if (after.status != 200) seen.push_back(name + ": an order after the outage was refused");
  while (!l.done()) std::this_thread::sleep_for(kHealthPoll);
  Quiet(s);
  const std::string status = JsonString(
      Http(s.order_port(), "GET", "/order/orders/" + JsonString(after.body, "orderNo")).body,
      "status");
  if (after.status == 200 && status != contract::kConfirmed)
    seen.push_back(name + ": the order after the outage is " + status);
  for (const char* group : {contract::kStockConsumerGroup, contract::kOrderOutcomeGroup}) {
    if (const size_t n = Dlq(s, group).size(); n > 0)
      seen.push_back(absl::StrCat(name, ": ", n, " messages in the DLQ of ", group));
  }
}

}  // namespace

Violations DbFull(FaultSuite& suite, std::mt19937_64& rng) {
  testing::TempDir flags;
  std::vector<Which> turns = {System::kOrder, System::kStock};
  std::shuffle(turns.begin(), turns.end(), rng);
  Violations v;
  for (const Which w : turns) {
    const std::string name = absl::StrCat("db-full-", System::kNames[w]);
    const std::string flag = flags.File(name);
    const auto outage = kMinDbOutage + std::chrono::milliseconds(rng() % kDbOutageRangeMs);
    Violations seen;
    Append(v, suite.Run(name, {{w, {"TXMSG_TEST_DB_FULL_FLAG=" + flag}}}, kDbFullOrders,
                        [&](System& s, Workload& l) {
                          if (!Reached(l, kOrdersBeforeDbFull)) return;
                          DatabaseOutage(s, l, w, flag, outage, name, seen);
                        }));
    for (const std::string& x : seen)
      std::printf("  [%s] violation: %s\n", name.c_str(), x.c_str());
    Append(v, seen);
  }
  return v;
}

namespace {

// One round of every kind of poison for each service. Stock-service gets
// orders it can never process (a valid-looking order for nobody would
// deduct stock, which is not poison but a forged order, so none is sent);
// order-service gets outcomes it can never apply, some naming a real order
// with a transaction that is not its own.
struct Poisoner {
  std::mt19937_64& rng;
  std::unique_ptr<BlockingClient> producer;
  std::set<uint64_t> stock, order;  // ids published, by the service that consumes them
  int round = 0;

  bool Publish(const std::string& topic, const std::string& body, std::set<uint64_t>& into) {
    wire::Frame f;
    f.mutable_send()->mutable_content()->set_topic(topic);
    f.mutable_send()->mutable_content()->set_body(body);
    auto r = producer->Call(std::move(f));
    if (r.ok()) into.insert(r->send_ok().message_id());
    return r.ok();
  }
  // A body no protobuf parser accepts: field number 0 first.
  std::string Unparsable() { return "\x07" + RandomBytes(rng, kMaxPoisonBytes); }

  void Round(const std::string& real_order_no) {
    const std::string tx = absl::StrCat("poison-", round++, "-", rng() % 1'000'000);
    const std::string orders = contract::kOrderTopic;
    Publish(orders, Unparsable(), stock);
    Publish(orders, "", stock);  // no tx_no
    Publish(orders, testing::OrderPlacedEvent("", 1, 1).SerializeAsString(),
            stock);  // missing field
    Publish(orders, testing::OrderPlacedEvent(tx, 1, 0).SerializeAsString(), stock);  // count 0
    Publish(orders,
            testing::OrderPlacedEvent(tx, -1 - static_cast<int64_t>(rng() % 100), 1)
                .SerializeAsString(),
            stock);  // product id out of range
    const std::string outcomes[] = {contract::kConfirmTopic, contract::kRollbackTopic};
    auto outcome_topic = [&] { return outcomes[rng() % 2]; };
    Publish(outcome_topic(), Unparsable(), order);
    Publish(outcome_topic(), testing::StockOutcomeEvent("", tx, 1).SerializeAsString(), order);
    Publish(outcome_topic(),
            testing::StockOutcomeEvent(real_order_no, tx, 40 + static_cast<int>(rng() % 50))
                .SerializeAsString(),
            order);  // an outcome this build does not know
    Publish(outcome_topic(),
            testing::StockOutcomeEvent("no-such-" + tx, tx, 1 + static_cast<int>(rng() % 2))
                .SerializeAsString(),
            order);  // an order that does not exist
    Publish(outcome_topic(),
            testing::StockOutcomeEvent(real_order_no, tx, 1 + static_cast<int>(rng() % 2))
                .SerializeAsString(),
            order);  // a real order, someone else's transaction
  }
};

}  // namespace

Violations Poison(FaultSuite& suite, std::mt19937_64& rng) {
  Violations seen;
  Violations v = suite.Run("poison", {}, kPoisonOrders, [&](System& s, Workload& l) {
    const pid_t order_pid = s.pid(System::kOrder);
    const pid_t stock_pid = s.pid(System::kStock);
    auto producer = s.Connect(wire::ROLE_PRODUCER, "fault-poison");
    if (!producer.ok()) {
      seen.push_back("poison: cannot connect a producer: " + producer.status().ToString());
      return;
    }
    Poisoner p{rng, std::move(*producer), {}, {}};
    for (size_t k = 1; k <= kPoisonRounds; ++k) {
      if (!Reached(l, k * kOrdersPerPoisonRound)) break;
      const std::vector<std::string> accepted = l.accepted_orders();
      p.Round(accepted[rng() % accepted.size()]);
    }
    std::printf("  [poison] %zu poison orders and %zu poison outcomes published\n", p.stock.size(),
                p.order.size());
    while (!l.done()) std::this_thread::sleep_for(kPoisonSettle / 100);
    Quiet(s);
    // Each dead-lettered on purpose (and nothing else), counted, and no
    // service died or restarted for it.
    const std::pair<const char*, std::set<uint64_t>*> dlqs[] = {
        {contract::kStockConsumerGroup, &p.stock}, {contract::kOrderOutcomeGroup, &p.order}};
    for (const auto& [group, published] : dlqs) {
      if (!WaitFor(
              [&, group = group, published = published] { return Dlq(s, group) == *published; },
              kPoisonSettle)) {
        seen.push_back(absl::StrCat("poison: the DLQ of ", group, " holds ", Dlq(s, group).size(),
                                    " messages, not the ", published->size(), " poison ones"));
      }
    }
    const std::pair<Which, size_t> counted[] = {{System::kStock, p.stock.size()},
                                                {System::kOrder, p.order.size()}};
    for (const auto& [w, published] : counted) {
      if (PoisonCounted(s, w) < static_cast<int64_t>(published)) {
        seen.push_back(absl::StrCat("poison: ", System::kNames[w], " counted ", PoisonCounted(s, w),
                                    " poison messages of ", published));
      }
    }
    if (s.Exited(System::kOrder) || s.pid(System::kOrder) != order_pid)
      seen.push_back("poison: order-service died");
    if (s.Exited(System::kStock) || s.pid(System::kStock) != stock_pid)
      seen.push_back("poison: stock-service died");
  });
  for (const std::string& x : seen) std::printf("  [poison] violation: %s\n", x.c_str());
  Append(v, seen);
  return v;
}

}  // namespace txmsg::fault
