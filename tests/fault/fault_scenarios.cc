#include "tests/fault/fault_scenarios.h"

#include <signal.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/crash_points.h"
#include "txmsg/blocking_client.h"

namespace txmsg::fault {
namespace {

using namespace std::chrono_literals;
using testing::Http;
using testing::WaitFor;
using Which = System::Which;

// Orders per run of each scenario (storage's are in fault_storage.cc).
constexpr int kCrashPointOrders = 40;
constexpr int kRandomKillOrders = 150;
constexpr int kPauseOrders = 60;
constexpr int kBadInputOrders = 60;
constexpr int kNetworkChaosOrders = 80;
constexpr int kNetworkCutOrders = 120;

// random-kills: kills, one after every kOrdersPerKill accepted orders.
constexpr size_t kRandomKills = 5;
constexpr size_t kOrdersPerKill = 20;
// pauses: a process is stopped once this many orders were accepted.
constexpr size_t kOrdersBeforePause = 15;

// bad-input: connections to the broker (every other one sends junk, every
// fourth valid frames with a few bytes changed, the rest stay idle).
constexpr int kHostileConnections = 200;
constexpr uint64_t kMaxJunkBytes = 300;
constexpr uint64_t kMaxByteFlips = 3;
constexpr uint64_t kMutantMessageIds = 100'000;  // EndTx names an id below this
constexpr uint32_t kNeverReadCredit = 10'000;
constexpr size_t kHugeHeaderLineBytes = 20'000;
constexpr size_t kHugeBodyBytes = 1 << 20;

// network: the chaos run's mistreatment of every frame, both directions.
constexpr double kDropRate = 0.01;
constexpr double kDuplicateRate = 0.05;
constexpr double kHoldRate = 0.05;  // held back, so later frames overtake it
constexpr int kHoldMs = 150;
constexpr int kDelayMs = 3;  // every frame a little late
constexpr auto kNetworkQuietTimeout = 60s;
// The cuts run: cut, stall (the middle step), cut, kOrdersPerCut apart.
constexpr size_t kNetworkSteps = 3;
constexpr size_t kStallStep = 2;
constexpr size_t kOrdersPerCut = 20;

}  // namespace

Violations CrashPoints(FaultSuite& suite, std::mt19937_64& rng) {
  std::vector<std::pair<Which, std::string>> points;
  for (const char* p : crash_points::kBroker) points.emplace_back(System::kBroker, p);
  for (const char* p : crash_points::kOrder) points.emplace_back(System::kOrder, p);
  for (const char* p : crash_points::kStock) points.emplace_back(System::kStock, p);
  Violations v;
  for (const auto& [which, point] : points) {
    const std::string armed = absl::StrCat(point, ":", 1 + rng() % kCrashHits);
    Append(v,
           suite.Run(armed, {{which, Env(armed)}}, kCrashPointOrders,
                     [&, w = which](System& s, Workload& l) { suite.RestartWhenDead(s, l, {w}); }));
  }
  return v;
}

Violations RandomKills(FaultSuite& suite, std::mt19937_64& rng) {
  return suite.Run("random-kills", {}, kRandomKillOrders, [&](System& s, Workload& l) {
    for (size_t k = 1; k <= kRandomKills; ++k) {
      if (!Reached(l, k * kOrdersPerKill)) return;
      const auto w = static_cast<Which>(rng() % std::size(System::kNames));
      ++suite.report().kills;
      s.Restart(w);
    }
  });
}

Violations Pauses(FaultSuite& suite, std::mt19937_64&) {
  Violations v;
  for (auto w : {System::kOrder, System::kStock, System::kBroker}) {
    Append(v,
           suite.Run(absl::StrCat("pause-", System::kNames[w]), {}, kPauseOrders,
                     [&](System& s, Workload& l) {
                       if (!WaitFor([&] { return l.accepted() >= kOrdersBeforePause || l.done(); },
                                    kStepWait))
                         return;
                       s.Signal(w, SIGSTOP);
                       std::this_thread::sleep_for(kLongFault);  // the fault itself
                       s.Signal(w, SIGCONT);
                     }));
  }
  return v;
}

namespace {

// Valid Hello, SendHalf and EndTx frames with a few bytes of each changed
// (the frame length kept): unparsable bodies, wrong fields, odd values. Own
// names, so no mutant reaches the services.
std::string MutatedFrames(std::mt19937_64& rng) {
  std::vector<wire::Frame> frames(3);
  frames[0].mutable_hello()->set_version(wire::PROTOCOL_VERSION_1);
  frames[0].mutable_hello()->set_role(wire::ROLE_PRODUCER);
  frames[0].mutable_hello()->set_producer_group("mutant-group");
  frames[0].mutable_hello()->set_client_id("mutant");
  frames[1].set_correlation_id(1);
  frames[1].mutable_send_half()->set_tx_id("mutant-tx");
  frames[1].mutable_send_half()->mutable_content()->set_topic("mutant-topic");
  frames[1].mutable_send_half()->mutable_content()->set_body("mutant body");
  frames[2].set_correlation_id(2);
  frames[2].mutable_end_tx()->set_message_id(1 + rng() % kMutantMessageIds);
  frames[2].mutable_end_tx()->set_tx_id("mutant-tx");
  frames[2].mutable_end_tx()->set_outcome(wire::TX_COMMIT);
  std::string bytes;
  for (const wire::Frame& f : frames) {
    std::string body = f.SerializeAsString();
    for (uint64_t flips = 1 + rng() % kMaxByteFlips; flips > 0; --flips)
      body[rng() % body.size()] ^= static_cast<char>(1 + rng() % 255);
    const uint32_t n = static_cast<uint32_t>(body.size());
    bytes += {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
              static_cast<char>(n)};
    bytes += body;
  }
  return bytes;
}

// kHostileConnections to the broker, left open: junk (some with a length
// prefix near 2^31), mutated frames, or nothing at all.
void FloodBroker(System& s, std::mt19937_64& rng) {
  boost::asio::io_context io;
  const uint16_t broker_port =
      static_cast<uint16_t>(std::stoi(s.broker().substr(s.broker().rfind(':') + 1)));
  const boost::asio::ip::tcp::endpoint broker(boost::asio::ip::make_address("127.0.0.1"),
                                              broker_port);
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> idle;
  for (int i = 0; i < kHostileConnections; ++i) {
    auto sock = std::make_unique<boost::asio::ip::tcp::socket>(io);
    boost::system::error_code ec;
    sock->connect(broker, ec);
    if (i % 2 == 0 && !ec) {
      std::string junk = RandomBytes(rng, kMaxJunkBytes);
      if (i % 4 == 0) junk = std::string("\x7f\xff\xff\xff", 4) + junk;  // huge length
      boost::asio::write(*sock, boost::asio::buffer(junk), ec);
    } else if (i % 4 == 1 && !ec) {
      boost::asio::write(*sock, boost::asio::buffer(MutatedFrames(rng)), ec);
    }
    idle.push_back(std::move(sock));
  }
  auto lazy = s.Connect(wire::ROLE_CONSUMER);
  if (lazy.ok()) {
    wire::Frame sub;
    sub.mutable_subscribe()->set_topic("topic_txmsg");
    sub.mutable_subscribe()->set_group("never-reads");
    sub.mutable_subscribe()->set_max_unacked(kNeverReadCredit);
    (void)(*lazy)->SendOnly(sub);  // and never reads a byte
  }
}

// A request line nobody speaks with a huge header line to each service,
// and a huge body that is not JSON.
void MalformedHttp(System& s) {
  boost::asio::io_context io;
  for (uint16_t port : {s.order_port(), s.stock_port()}) {
    boost::asio::ip::tcp::socket sock(io);
    boost::system::error_code ec;
    sock.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    const std::string junk =
        "GARBAGE / HTTP/9.9\r\n" + std::string(kHugeHeaderLineBytes, 'x') + "\r\n\r\n";
    boost::asio::write(sock, boost::asio::buffer(junk), ec);
  }
  Http(s.order_port(), "POST", "/order/submitOrder", std::string(kHugeBodyBytes, '['));
}

}  // namespace

Violations BadInput(FaultSuite& suite, std::mt19937_64& rng) {
  return suite.Run("bad-input", {}, kBadInputOrders, [&](System& s, Workload&) {
    FloodBroker(s, rng);
    MalformedHttp(s);
  });
}

Violations Network(FaultSuite& suite, std::mt19937_64&) {
  const std::map<Which, std::vector<std::string>> no_env;
  chaos::ChaosOptions net;
  net.drop = kDropRate;
  net.duplicate = kDuplicateRate;
  net.hold = kHoldRate;
  net.hold_ms = kHoldMs;
  net.delay_ms = kDelayMs;
  net.seed = suite.seed();
  Violations v = suite.Run(
      "network-chaos", no_env, kNetworkChaosOrders, [](System&, Workload&) {}, kNetworkQuietTimeout,
      net);

  net = chaos::ChaosOptions{};
  net.seed = suite.seed();
  Append(v, suite.Run(
                "network-cuts", no_env, kNetworkCutOrders,
                [&](System& s, Workload& l) {
                  for (size_t k = 1; k <= kNetworkSteps; ++k) {
                    if (!Reached(l, k * kOrdersPerCut)) return;
                    if (k == kStallStep) {
                      std::printf(
                          "  [network-cuts] stalling all traffic for %lld ms at %zu orders\n",
                          static_cast<long long>(kLongFault.count()), l.accepted());
                      s.proxy()->SetStall(true);
                      std::this_thread::sleep_for(kLongFault);  // the fault: past the timeouts
                      s.proxy()->SetStall(false);
                    } else {
                      std::printf("  [network-cuts] cutting every connection at %zu orders\n",
                                  l.accepted());
                      s.proxy()->CutAll();
                    }
                  }
                },
                kNetworkQuietTimeout, net));
  return v;
}

}  // namespace txmsg::fault
