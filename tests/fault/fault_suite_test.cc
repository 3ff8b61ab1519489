// The fault-injection suite: runs the three real binaries under a workload
// of orders while breaking them on purpose (crash points, random kill -9,
// SIGSTOP pauses, hostile input), then checks the invariants of DESIGN.md
// once the system goes quiet. Mutation controls (test-only switches that
// break a guarantee) prove the checks can fail. Prints one summary and
// writes it to fault-report.json in the build directory.
//
// TXMSG_SOAK_MINUTES=N repeats every scenario but the mutations, a fresh
// seed each pass, for N minutes (tools/fault.sh --soak N). TXMSG_FAULT_SEED
// fixes the first seed; TXMSG_FAULT_ONLY picks scenarios.
#include <signal.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/admin_client.h"
#include "gtest/gtest.h"
#include "proto/frame_codec.h"
#include "tests/testutil/broker_process.h"
#include "tests/testutil/service_process.h"
#include "tests/testutil/temp_dir.h"
#include "tools/chaos/chaos_proxy.h"

namespace txmsg {
namespace {

using namespace std::chrono_literals;
using testing::Http;
using testing::WaitFor;

const std::map<int64_t, int64_t> kInitialStock = {{1, 40}, {2, 25}, {3, 1000}};
// Caps every process must stay under after a run (the runs are small).
constexpr long long kMaxRssKb = 512 * 1024;
constexpr size_t kMaxOpenFiles = 512;

int64_t JsonNumber(const std::string& json, const std::string& name) {
  std::smatch m;
  return std::regex_search(json, m, std::regex("\"" + name + "\": *(-?[0-9]+)")) ? std::stoll(m[1])
                                                                                 : -1;
}

std::string JsonString(const std::string& json, const std::string& name) {
  std::smatch m;
  return std::regex_search(json, m, std::regex("\"" + name + "\": *\"([^\"]*)\"")) ? m[1].str()
                                                                                   : "";
}

// The three processes, each restartable with its own environment.
class System {
 public:
  enum Which { kBroker = 0, kOrder = 1, kStock = 2 };
  static constexpr const char* kNames[] = {"broker", "order-service", "stock-service"};

  // With `chaos`, the services reach the broker through a chaos proxy.
  explicit System(std::map<Which, std::vector<std::string>> env = {},
                  std::optional<chaos::ChaosOptions> chaos = std::nullopt)
      : env_(std::move(env)) {
    broker_ = std::make_unique<testing::BrokerProcess>(
        dir_.File("broker"),
        std::vector<std::string>{"--tx_timeout=300ms", "--check_interval=300ms", "--ack_timeout=1s",
                                 "--redelivery_backoff=100ms", "--segment_size=65536"});
    broker_->set_env(env_[kBroker]);
    std::string seed;
    for (const auto& [p, n] : kInitialStock)
      absl::StrAppend(&seed, seed.empty() ? "" : ",", p, ":", n);
    started_ = broker_->Start();
    if (!started_ && !env_[kBroker].empty()) {
      // Armed to die while starting (its first segment, say): that is the
      // crash under test. It comes back disarmed and must recover.
      ++startup_crashes_;
      started_ = Restart(kBroker);
    }
    std::string services_broker = broker_->address();
    if (chaos && started_) {
      proxy_ = std::make_unique<chaos::ChaosProxy>(broker_->port(), *chaos);
      started_ = proxy_->Start().ok();
      services_broker = "127.0.0.1:" + std::to_string(proxy_->port());
    }
    order_ = std::make_unique<testing::ServiceProcess>(
        std::vector<std::string>{TXMSG_ORDER_BIN, "--broker=" + services_broker,
                                 "--db=" + dir_.File("order.db")},
        env_[kOrder]);
    stock_ = std::make_unique<testing::ServiceProcess>(
        std::vector<std::string>{TXMSG_STOCK_BIN, "--broker=" + services_broker,
                                 "--db=" + dir_.File("stock.db"), "--seed_stock=" + seed},
        env_[kStock]);
    started_ = started_ && stock_->Start() && order_->Start();
  }
  bool started() const { return started_; }
  int startup_crashes() const { return startup_crashes_; }
  chaos::ChaosProxy* proxy() { return proxy_.get(); }
  uint16_t order_port() const { return order_->port(); }
  uint16_t stock_port() const { return stock_->port(); }
  std::string broker() const { return broker_->address(); }
  std::string broker_dir() const { return dir_.File("broker"); }

  pid_t pid(Which w) const {
    return w == kBroker ? broker_->pid() : w == kOrder ? order_->pid() : stock_->pid();
  }
  bool Exited(Which w) {
    return w == kBroker ? broker_->exited() : w == kOrder ? order_->exited() : stock_->exited();
  }
  void Signal(Which w, int sig) {
    if (w == kBroker) broker_->Signal(sig);
    if (w == kOrder) order_->Signal(sig);
    if (w == kStock) stock_->Signal(sig);
  }
  // Kill -9 (if still running) and start again with its crash point
  // disarmed and a failing disk replaced (a mutation, if any, stays on).
  bool Restart(Which w) {
    std::vector<std::string> env;
    for (const std::string& e : env_[w]) {
      if (e.rfind("TXMSG_CRASH_AT=", 0) != 0 && e.rfind("TXMSG_TEST_FSYNC_FAIL_AFTER=", 0) != 0)
        env.push_back(e);
    }
    if (w == kBroker) {
      broker_->Kill();
      broker_->set_env(env);
      return broker_->Start();
    }
    testing::ServiceProcess& p = w == kOrder ? *order_ : *stock_;
    p.Kill();
    p.set_env(env);
    return p.Start();
  }

 private:
  testing::TempDir dir_;
  std::map<Which, std::vector<std::string>> env_;
  std::unique_ptr<testing::BrokerProcess> broker_;
  std::unique_ptr<chaos::ChaosProxy> proxy_;
  std::unique_ptr<testing::ServiceProcess> order_;
  std::unique_ptr<testing::ServiceProcess> stock_;
  bool started_ = false;
  int startup_crashes_ = 0;
};

// Orders submitted from a few client threads; records the accepted ones.
class Workload {
 public:
  Workload(System& sys, int orders, uint64_t seed) : sys_(sys) {
    for (int t = 0; t < 4; ++t) {
      threads_.emplace_back([this, orders, seed, t] {
        std::mt19937_64 rng(seed * 31 + t);
        for (int i = t; i < orders; i += 4) {
          const int64_t product = 1 + static_cast<int64_t>(rng() % 3);
          const int pay = 1 + static_cast<int>(rng() % 3);
          testing::HttpResult r =
              Http(sys_.order_port(), "POST", "/order/submitOrder",
                   absl::StrCat("{\"productId\": ", product, ", \"payCount\": ", pay, "}"));
          ++attempts_;
          if (r.status == 200) {
            absl::MutexLock lock(&mu_);
            accepted_.push_back(JsonString(r.body, "orderNo"));
          } else {
            ++refused_;
            // Refused (broker unreachable, service restarting): a client
            // backs off a little rather than spending its orders on the outage.
            std::this_thread::sleep_for(20ms);
          }
        }
      });
    }
  }
  ~Workload() { Join(); }
  void Join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  size_t accepted() {
    absl::MutexLock lock(&mu_);
    return accepted_.size();
  }
  std::vector<std::string> accepted_orders() {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }
  bool done() { return finished_.load(); }
  int refused() const { return refused_.load(); }
  void MarkDoneWhenJoined() {
    Join();
    finished_ = true;
  }

 private:
  System& sys_;
  std::vector<std::thread> threads_;
  std::atomic<int> attempts_{0};
  std::atomic<int> refused_{0};
  std::atomic<bool> finished_{false};
  absl::Mutex mu_;
  std::vector<std::string> accepted_;
};

struct Report {
  int scenarios = 0, runs = 0, kills = 0, orders = 0, messages = 0, duplicates = 0, violations = 0;
  int mutations_total = 0, mutations_caught = 0;
  std::vector<std::string> notes;
};

// The invariants, checked once the system is quiet. Returns the violations.
std::vector<std::string> CheckInvariants(System& sys, const std::vector<std::string>& accepted,
                                         std::chrono::milliseconds quiet_timeout, Report* report) {
  std::vector<std::string> v;
  WaitFor(
      [&] {
        testing::HttpResult r =
            Http(sys.order_port(), "GET", "/order/orders?status=PENDING&limit=1");
        return r.status == 200 && r.body.find("orderNo") == std::string::npos;
      },
      quiet_timeout);
  // 1. Every accepted order is CONFIRMED or CANCELLED.
  for (const std::string& no : accepted) {
    testing::HttpResult r = Http(sys.order_port(), "GET", "/order/orders/" + no);
    const std::string status = JsonString(r.body, "status");
    if (r.status == 404)
      v.push_back("accepted order " + no + " is missing");
    else if (status != "CONFIRMED" && status != "CANCELLED")
      v.push_back("order " + no + " is " + status);
  }
  // 2 and 3. Stock: initial = remaining + confirmed; never negative. (No tx
  // applied twice shows here too: a double deduction breaks the equation.)
  const std::string all = Http(sys.order_port(), "GET", "/order/orders?limit=100000").body;
  std::map<int64_t, int64_t> confirmed;
  static const std::regex order_re("\\{[^{}]*\\}");
  for (auto it = std::sregex_iterator(all.begin(), all.end(), order_re);
       it != std::sregex_iterator(); ++it) {
    const std::string o = it->str();
    if (JsonString(o, "status") == "CONFIRMED")
      confirmed[JsonNumber(o, "productId")] += JsonNumber(o, "payCount");
  }
  for (const auto& [product, initial] : kInitialStock) {
    const int64_t left =
        JsonNumber(Http(sys.stock_port(), "GET", absl::StrCat("/stock/products/", product)).body,
                   "totalCount");
    if (left < 0)
      v.push_back(absl::StrCat("product ", product, " stock is negative or unreadable: ", left));
    if (initial != left + confirmed[product]) {
      v.push_back(absl::StrCat("product ", product, ": initial ", initial, " != remaining ", left,
                               " + confirmed ", confirmed[product]));
    }
  }
  // 4. Every process still answers.
  if (Http(sys.order_port(), "GET", "/healthz").status == 0)
    v.push_back("order-service does not answer");
  if (Http(sys.stock_port(), "GET", "/healthz").status == 0)
    v.push_back("stock-service does not answer");
  if (!AdminClient::Connect(sys.broker()).ok()) v.push_back("broker does not answer");
  // 5. Memory and open files under their caps.
  for (auto w : {System::kBroker, System::kOrder, System::kStock}) {
    const pid_t pid = sys.pid(w);
    if (pid <= 0) continue;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmRSS:", 0) == 0 && std::stoll(line.substr(6)) > kMaxRssKb) {
        v.push_back(absl::StrCat(System::kNames[w], " uses ", line.substr(6), " of memory"));
      }
    }
    size_t fds = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); ++it) {
      ++fds;
    }
    if (fds > kMaxOpenFiles)
      v.push_back(absl::StrCat(System::kNames[w], " holds ", fds, " open files"));
  }
  // Duplicates (allowed): orders stock-service saw again and answered from tx_log.
  const std::string metrics = Http(sys.stock_port(), "GET", "/metrics").body;
  std::smatch dup;
  if (std::regex_search(metrics, dup, std::regex("txmsg_stock_republished_total ([0-9]+)"))) {
    report->duplicates += std::stoi(dup[1].str());
  }
  if (!v.empty()) {
    // What the broker holds, to tell where the messages stopped.
    if (auto admin = AdminClient::Connect(sys.broker()); admin.ok()) {
      wire::Frame groups;
      groups.mutable_list_groups();
      if (auto r = (*admin)->Call(groups); r.ok()) {
        for (const auto& g : r->list_groups_ok().groups()) {
          std::printf(
              "  broker group %s/%s: delivered=%llu in_flight=%llu acked=%llu lag=%llu "
              "consumers=%u dlq=%llu\n",
              g.group().c_str(), g.topic().c_str(), (unsigned long long)g.delivered(),
              (unsigned long long)g.in_flight(), (unsigned long long)g.acked(),
              (unsigned long long)g.lag(), g.consumers(), (unsigned long long)g.dlq());
        }
      }
      wire::Frame halves;
      halves.mutable_list_half();
      if (auto r = (*admin)->Call(halves); r.ok()) {
        for (const auto& h : r->list_half_ok().messages()) {
          std::printf("  broker half %llu tx=%s group=%s state=%d checks=%u\n",
                      (unsigned long long)h.message_id(), h.tx_id().c_str(),
                      h.producer_group().c_str(), h.state(), h.checks());
        }
      }
    }
  }
  report->orders += static_cast<int>(accepted.size());
  report->messages += static_cast<int>(2 * accepted.size());  // order + outcome message each
  return v;
}

class FaultSuite {
 public:
  FaultSuite() {
    const char* seed = std::getenv("TXMSG_FAULT_SEED");
    seed_ = seed ? std::strtoull(seed, nullptr, 10) : std::random_device{}();
    std::printf("fault suite seed %llu (TXMSG_FAULT_SEED=%llu replays it)\n",
                static_cast<unsigned long long>(seed_), static_cast<unsigned long long>(seed_));
  }
  Report& report() { return report_; }

  // One run: a workload, with `arm` deciding when and what to break.
  // Returns the violations.
  std::vector<std::string> Run(const std::string& name,
                               std::map<System::Which, std::vector<std::string>> env, int orders,
                               const std::function<void(System&, Workload&)>& disturb,
                               std::chrono::milliseconds quiet_timeout = 30s,
                               std::optional<chaos::ChaosOptions> chaos = std::nullopt) {
    System sys(env, chaos);
    if (!sys.started()) {
      std::printf("  [%s] violation: the system did not start\n", name.c_str());
      return {name + ": the system did not start"};
    }
    report_.kills += sys.startup_crashes();
    Workload load(sys, orders,
                  seed_ ^ std::hash<std::string>{}(name + "#" + std::to_string(runs_of_[name]++)));
    std::thread disturber([&] { disturb(sys, load); });
    load.MarkDoneWhenJoined();
    disturber.join();
    // Anything armed that died meanwhile comes back.
    for (auto w : {System::kBroker, System::kStock, System::kOrder}) {
      if (sys.Exited(w)) {
        ++report_.kills;
        sys.Restart(w);
      }
    }
    ++report_.runs;
    std::vector<std::string> v =
        CheckInvariants(sys, load.accepted_orders(), quiet_timeout, &report_);
    for (const std::string& s : v) std::printf("  [%s] violation: %s\n", name.c_str(), s.c_str());
    return v;
  }

  // Restarts any process of `watch` that exits while the workload runs.
  void RestartWhenDead(System& sys, Workload& load, std::vector<System::Which> watch) {
    while (!load.done()) {
      for (auto w : watch) {
        if (sys.Exited(w)) {
          ++report_.kills;
          sys.Restart(w);
        }
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  uint64_t seed() const { return seed_; }
  // A new seed for the next soak pass; that seed alone replays the pass.
  void Reseed() {
    seed_ = std::mt19937_64(seed_)();
    runs_of_.clear();
    std::printf("soak pass: fault suite seed %llu (TXMSG_FAULT_SEED=%llu replays it)\n",
                static_cast<unsigned long long>(seed_), static_cast<unsigned long long>(seed_));
  }

 private:
  uint64_t seed_;
  Report report_;
  std::map<std::string, int> runs_of_;  // workload seeds: by name, not by position
};

std::vector<std::string> Env(const std::string& crash_at, const std::string& mutation = "") {
  std::vector<std::string> env;
  if (!crash_at.empty()) env.push_back("TXMSG_CRASH_AT=" + crash_at);
  if (!mutation.empty()) env.push_back("TXMSG_TEST_MUTATION=" + mutation);
  return env;
}

// The newest segment file of the broker's log in `dir` ("" if none).
std::string LastSegment(const std::string& dir) {
  static const std::regex segment("[0-9]{20}\\.log");
  std::string last;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (std::regex_match(name, segment) && name > last) last = name;
  }
  return last.empty() ? "" : dir + "/" + last;
}

// TXMSG_FAULT_ONLY=name[,name...] runs only those scenarios (crash-points,
// random-kills, pauses, bad-input, network, storage, mutations): for
// replaying one failure with its seed.
bool Selected(const std::string& scenario) {
  const char* only = std::getenv("TXMSG_FAULT_ONLY");
  if (only == nullptr || *only == '\0') return true;
  const std::string list = absl::StrCat(",", only, ",");
  return list.find("," + scenario + ",") != std::string::npos;
}

void WriteReport(const Report& r) {
  const std::string json = absl::StrCat(
      "{\n  \"scenarios\": ", r.scenarios, ",\n  \"runs\": ", r.runs, ",\n  \"kills\": ", r.kills,
      ",\n  \"orders\": ", r.orders, ",\n  \"messages\": ", r.messages,
      ",\n  \"duplicates\": ", r.duplicates, ",\n  \"violations\": ", r.violations,
      ",\n  \"mutations_total\": ", r.mutations_total,
      ",\n  \"mutations_caught\": ", r.mutations_caught, "\n}\n");
  std::ofstream(TXMSG_FAULT_REPORT) << json;
  std::printf(
      "\nFAULT SUITE SUMMARY: scenarios=%d runs=%d kills=%d orders=%d messages=%d duplicates=%d "
      "violations=%d mutations_caught=%d/%d (written to %s)\n",
      r.scenarios, r.runs, r.kills, r.orders, r.messages, r.duplicates, r.violations,
      r.mutations_caught, r.mutations_total, TXMSG_FAULT_REPORT);
}

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
      const std::vector<std::pair<System::Which, std::string>> points = {
          {System::kBroker, "broker.half_appended_before_sync"},
          {System::kBroker, "broker.half_synced_before_ack"},
          {System::kBroker, "broker.commit_synced_before_dispatch"},
          {System::kBroker, "broker.delivered_before_ack"},
          {System::kBroker, "broker.ack_received_before_sync"},
          {System::kBroker, "broker.segment_created"},
          {System::kOrder, "order.half_acked_before_local_tx"},
          {System::kOrder, "order.local_tx_committed_before_end_tx"},
          {System::kOrder, "order.answering_check"},
          {System::kStock, "stock.received_before_tx"},
          {System::kStock, "stock.deducted_before_publish"},
          {System::kStock, "stock.published_before_ack"},
      };
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
        auto lazy = AdminClient::Connect(s.broker(), wire::ROLE_CONSUMER);
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
      const std::vector<std::string> broker_points = {
          "broker.half_appended_before_sync",     "broker.half_synced_before_ack",
          "broker.commit_synced_before_dispatch", "broker.delivered_before_ack",
          "broker.ack_received_before_sync",      "broker.segment_created"};
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
      {"skip_idempotency", System::kStock, "stock.deducted_before_publish:1"},
      {"ack_before_commit", System::kStock, "stock.received_before_tx:1"},
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
}  // namespace txmsg
