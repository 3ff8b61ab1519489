// The fault-injection suite: runs the three real binaries under a workload
// of orders while breaking them on purpose (crash points, random kill -9,
// SIGSTOP pauses, hostile input, a mistreated network, failing storage),
// then checks the invariants of docs/design.md once the system goes quiet.
// Mutation controls (test-only switches that break a guarantee) prove the
// checks can fail. Prints one summary and writes it to fault-report.json in
// the build directory. The harness (system, workload, checks, report) is in
// fault_harness.h; this file holds the scenarios.
//
// TXMSG_SOAK_MINUTES=N repeats every scenario but the mutations, a fresh
// seed each pass, for N minutes (tools/fault.sh --soak N). TXMSG_FAULT_SEED
// fixes the first seed; TXMSG_FAULT_ONLY picks scenarios.
#include <signal.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "txmsg/blocking_client.h"
#include "gtest/gtest.h"
#include "base/crash_points.h"
#include "tests/fault/fault_harness.h"

namespace txmsg::fault {
namespace {

using namespace std::chrono_literals;
using testing::Http;
using testing::WaitFor;

TEST(FaultSuiteTest, InvariantsHoldUnderEveryFaultAndEveryMutationIsCaught) {
  FaultSuite suite;
  Report& report = suite.report();
  // Each scenario draws from its own generator, so a replay of one scenario
  // (TXMSG_FAULT_ONLY) makes the same choices as the full run did.
  std::mt19937_64 rng;
  std::set<std::string> scenarios_run;
  auto scenario = [&](const std::string& name) {
    rng.seed(suite.seed() ^ std::hash<std::string>{}(name));
    if (!Selected(name)) return false;
    if (scenarios_run.insert(name).second) ++report.scenarios;
    return true;
  };
  // Soak: every scenario but the mutations, pass after pass, each pass with
  // a fresh seed (printed) until TXMSG_SOAK_MINUTES have passed.
  const char* soak = std::getenv("TXMSG_SOAK_MINUTES");
  const auto soak_until =
      std::chrono::steady_clock::now() + std::chrono::minutes(soak ? std::atoi(soak) : 0);
  for (int pass = 0; pass == 0 || std::chrono::steady_clock::now() < soak_until; ++pass) {
    if (pass > 0) suite.Reseed();

    // 1. Crash points in every process, at a random hit.
    if (scenario("crash-points")) {
      std::vector<std::pair<System::Which, std::string>> points;
      for (const char* p : crash_points::kBroker) points.emplace_back(System::kBroker, p);
      for (const char* p : crash_points::kOrder) points.emplace_back(System::kOrder, p);
      for (const char* p : crash_points::kStock) points.emplace_back(System::kStock, p);
      for (const auto& [which, point] : points) {
        const std::string armed = absl::StrCat(point, ":", 1 + rng() % 5);
        std::vector<std::string> v =
            suite.Run(armed, {{which, Env(armed)}}, 40,
                      [&, w = which](System& s, Workload& l) { suite.RestartWhenDead(s, l, {w}); });
        report.violations += static_cast<int>(v.size());
        EXPECT_TRUE(v.empty()) << armed;
      }
    }

    // 2. Random kill -9 of any process during the workload.
    if (scenario("random-kills")) {
      {
        std::vector<std::string> v =
            suite.Run("random-kills", {}, 150, [&](System& s, Workload& l) {
              for (size_t k = 1; k <= 5; ++k) {
                if (!WaitFor([&] { return l.accepted() >= k * 20 || l.done(); }, 20s) || l.done())
                  return;
                const auto w = static_cast<System::Which>(rng() % 3);
                ++report.kills;
                s.Restart(w);
              }
            });
        report.violations += static_cast<int>(v.size());
        EXPECT_TRUE(v.empty()) << "random kills, seed " << suite.seed();
      }
    }

    // 3. Pauses longer than the check-back and ack timeouts.
    if (scenario("pauses")) {
      for (auto w : {System::kOrder, System::kStock, System::kBroker}) {
        std::vector<std::string> v = suite.Run(
            absl::StrCat("pause-", System::kNames[w]), {}, 60, [&](System& s, Workload& l) {
              if (!WaitFor([&] { return l.accepted() >= 15 || l.done(); }, 20s)) return;
              s.Signal(w, SIGSTOP);
              std::this_thread::sleep_for(
                  1500ms);  // the fault itself: longer than tx_timeout and ack_timeout
              s.Signal(w, SIGCONT);
            });
        report.violations += static_cast<int>(v.size());
        EXPECT_TRUE(v.empty()) << "pause " << System::kNames[w];
      }
    }

    // 4. Hostile input while orders flow: random and mutated frames, huge lengths, idle
    // connections, a consumer that never reads, malformed HTTP.
    if (scenario("bad-input")) {
      std::vector<std::string> v = suite.Run("bad-input", {}, 60, [&](System& s, Workload&) {
        boost::asio::io_context io;
        const uint16_t broker_port =
            static_cast<uint16_t>(std::stoi(s.broker().substr(s.broker().rfind(':') + 1)));
        const boost::asio::ip::tcp::endpoint broker(boost::asio::ip::make_address("127.0.0.1"),
                                                    broker_port);
        std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> idle;
        for (int i = 0; i < 200; ++i) {
          auto sock = std::make_unique<boost::asio::ip::tcp::socket>(io);
          boost::system::error_code ec;
          sock->connect(broker, ec);
          if (i % 2 == 0 && !ec) {
            std::string junk(1 + rng() % 300, '\0');
            for (char& c : junk) c = static_cast<char>(rng());
            if (i % 4 == 0) junk = std::string("\x7f\xff\xff\xff", 4) + junk;  // huge length
            boost::asio::write(*sock, boost::asio::buffer(junk), ec);
          } else if (i % 4 == 1 && !ec) {
            // Valid frames with a few bytes changed (the frame length kept):
            // unparsable bodies, wrong fields, odd values. Own names, so no
            // mutant reaches the services.
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
            frames[2].mutable_end_tx()->set_message_id(1 + rng() % 100000);
            frames[2].mutable_end_tx()->set_tx_id("mutant-tx");
            frames[2].mutable_end_tx()->set_outcome(wire::TX_COMMIT);
            std::string bytes;
            for (const wire::Frame& f : frames) {
              std::string body = f.SerializeAsString();
              for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips)
                body[rng() % body.size()] ^= static_cast<char>(1 + rng() % 255);
              const uint32_t n = static_cast<uint32_t>(body.size());
              bytes += {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                        static_cast<char>(n >> 8), static_cast<char>(n)};
              bytes += body;
            }
            boost::asio::write(*sock, boost::asio::buffer(bytes), ec);
          }
          idle.push_back(std::move(sock));
        }
        auto lazy = BlockingClient::Connect(s.broker(), wire::ROLE_CONSUMER);
        if (lazy.ok()) {
          wire::Frame sub;
          sub.mutable_subscribe()->set_topic("topic_txmsg");
          sub.mutable_subscribe()->set_group("never-reads");
          sub.mutable_subscribe()->set_max_unacked(10000);
          (void)(*lazy)->SendOnly(sub);  // and never reads a byte
        }
        for (uint16_t port : {s.order_port(), s.stock_port()}) {
          boost::asio::ip::tcp::socket sock(io);
          boost::system::error_code ec;
          sock.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
          const std::string junk = "GARBAGE / HTTP/9.9\r\n" + std::string(20000, 'x') + "\r\n\r\n";
          boost::asio::write(sock, boost::asio::buffer(junk), ec);
        }
        Http(s.order_port(), "POST", "/order/submitOrder", std::string(1 << 20, '['));
      });
      report.violations += static_cast<int>(v.size());
      EXPECT_TRUE(v.empty()) << "bad input";
    }

    // 5. The network between the services and the broker: frames delayed,
    // dropped, duplicated, held back and overtaken, in both directions; then every
    // connection cut (twice) and all traffic stalled for longer than the ack
    // and check-back timeouts, while orders flow.
    if (scenario("network")) {
      chaos::ChaosOptions net;
      net.drop = 0.01;
      net.duplicate = 0.05;
      net.hold = 0.05;
      net.hold_ms = 150;
      net.delay_ms = 3;  // and every frame a little late
      net.seed = suite.seed();
      std::vector<std::string> v = suite.Run(
          "network-chaos", std::map<System::Which, std::vector<std::string>>{}, 80,
          [](System&, Workload&) {}, std::chrono::milliseconds(60s), net);
      report.violations += static_cast<int>(v.size());
      EXPECT_TRUE(v.empty()) << "network chaos";

      net = chaos::ChaosOptions{};
      net.seed = suite.seed();
      v = suite.Run(
          "network-cuts", std::map<System::Which, std::vector<std::string>>{}, 120,
          [&](System& s, Workload& l) {
            for (size_t k = 1; k <= 3; ++k) {
              if (!WaitFor([&] { return l.accepted() >= k * 20 || l.done(); }, 20s) || l.done())
                return;
              if (k == 2) {
                std::printf("  [network-cuts] stalling all traffic for 1.5 s at %zu orders\n",
                            l.accepted());
                s.proxy()->SetStall(true);
                std::this_thread::sleep_for(1500ms);  // the fault: a stall past the timeouts
                s.proxy()->SetStall(false);
              } else {
                std::printf("  [network-cuts] cutting every connection at %zu orders\n",
                            l.accepted());
                s.proxy()->CutAll();
              }
            }
          },
          std::chrono::milliseconds(60s), net);
      report.violations += static_cast<int>(v.size());
      EXPECT_TRUE(v.empty()) << "network cuts and stalls";
    }

    // 6. The broker's storage: a power cut at a crash point (every byte not
    // yet synced is lost, the tail torn), garbage at the log's tail, an fsync
    // that fails (the broker must stop, and recover once restarted), and a
    // disk that fills up for a while (the broker must refuse, stay up, and
    // resume once space is freed). Corruption inside a sealed segment is the
    // broker integration test's: it must refuse to start, not lose data here.
    if (scenario("storage")) {
      const std::vector<std::string> broker_points(crash_points::kBroker.begin(),
                                                   crash_points::kBroker.end());
      std::vector<std::string> v;
      for (int i = 0; i < 3; ++i) {
        const std::string armed =
            absl::StrCat(broker_points[rng() % broker_points.size()], ":", 1 + rng() % 5);
        std::vector<std::string> r = suite.Run(
            "power-cut-at-" + armed,
            {{System::kBroker, {"TXMSG_CRASH_AT=" + armed, "TXMSG_TEST_POWER_CUT=1"}}}, 40,
            [&](System& s, Workload& l) { suite.RestartWhenDead(s, l, {System::kBroker}); });
        v.insert(v.end(), r.begin(), r.end());
      }

      std::vector<std::string> lost;  // violations seen while disturbing
      std::vector<std::string> r = suite.Run("torn-tail", {}, 60, [&](System& s, Workload& l) {
        for (size_t k = 1; k <= 2; ++k) {
          if (!WaitFor([&] { return l.accepted() >= k * 20 || l.done(); }, 20s)) return;
          s.Signal(System::kBroker, SIGKILL);
          WaitFor([&] { return s.Exited(System::kBroker); }, 5s);
          ++report.kills;
          const std::string tail = LastSegment(s.broker_dir());
          std::string junk(1 + rng() % 200, '\0');
          for (char& c : junk) c = static_cast<char>(rng());
          std::ofstream(tail, std::ios::binary | std::ios::app) << junk;
          if (!s.Restart(System::kBroker))
            lost.push_back("broker did not start after a torn tail in " + tail);
        }
      });
      v.insert(v.end(), r.begin(), r.end());

      const int kills_before = report.kills;
      r = suite.Run(
          "fsync-fails",
          {{System::kBroker, {absl::StrCat("TXMSG_TEST_FSYNC_FAIL_AFTER=", 5 + rng() % 30)}}}, 60,
          [&](System& s, Workload& l) { suite.RestartWhenDead(s, l, {System::kBroker}); });
      v.insert(v.end(), r.begin(), r.end());
      if (report.kills == kills_before) lost.push_back("fsync-fails: the broker never stopped");

      testing::TempDir flags;
      const std::string full = flags.File("disk-full");
      r = suite.Run(
          "disk-full", {{System::kBroker, {"TXMSG_TEST_DISK_FULL_FLAG=" + full}}}, 80,
          [&](System& s, Workload& l) {
            if (!WaitFor([&] { return l.accepted() >= 20 || l.done(); }, 20s)) return;
            const int refused = l.refused();
            std::ofstream(full) << "full\n";
            std::this_thread::sleep_for(1500ms);  // the fault: past the ack and check timeouts
            if (s.Exited(System::kBroker)) lost.push_back("disk-full: the broker died");
            if (l.refused() == refused && !l.done())
              lost.push_back("disk-full: no order was refused while the disk was full");
            std::filesystem::remove(full);
          });
      v.insert(v.end(), r.begin(), r.end());
      for (const std::string& x : lost) std::printf("  [storage] violation: %s\n", x.c_str());
      v.insert(v.end(), lost.begin(), lost.end());
      report.violations += static_cast<int>(v.size());
      EXPECT_TRUE(v.empty()) << "storage faults";
    }
  }  // soak passes

  // 7. Mutation controls: each breaks a guarantee; the checks must notice.
  struct Mutation {
    std::string name;
    System::Which process;
    std::string crash_at;  // "" for random kills of the process
  };
  const std::vector<Mutation> mutations = {
      {"skip_idempotency", System::kStock, absl::StrCat(crash_points::kStockDeductedBeforePublish, ":1")},
      {"ack_before_commit", System::kStock, absl::StrCat(crash_points::kStockReceivedBeforeTx, ":1")},
      {"ack_before_fsync", System::kBroker, ""},
  };
  if (scenario("mutations")) {
    for (const Mutation& m : mutations) {
      ++report.mutations_total;
      int caught_runs = 0;
      for (int attempt = 0; attempt < 3 && caught_runs == 0; ++attempt) {
        std::vector<std::string> v;
        if (!m.crash_at.empty()) {
          v = suite.Run(
              "mutation-" + m.name, {{m.process, Env(m.crash_at, m.name)}}, 40,
              [&](System& s, Workload& l) { suite.RestartWhenDead(s, l, {m.process}); }, 8s);
        } else {
          v = suite.Run(
              "mutation-" + m.name, {{m.process, Env("", m.name)}}, 120,
              [&](System& s, Workload& l) {
                for (size_t k = 1; k <= 4; ++k) {
                  if (!WaitFor([&] { return l.accepted() >= k * 25 || l.done(); }, 20s) || l.done())
                    return;
                  ++report.kills;
                  s.Signal(m.process, SIGKILL);  // comes back with the mutation still on
                  WaitFor([&] { return s.Exited(m.process); }, 5s);
                  s.Restart(m.process);
                }
              },
              8s);
        }
        if (!v.empty()) ++caught_runs;
      }
      if (caught_runs > 0) ++report.mutations_caught;
      EXPECT_GT(caught_runs, 0) << "the suite did not catch mutation " << m.name;
    }
  }

  WriteReport(report);
  EXPECT_EQ(report.violations, 0);
  EXPECT_EQ(report.mutations_caught, report.mutations_total);
}

}  // namespace
}  // namespace txmsg::fault
