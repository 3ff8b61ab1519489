#include "tests/fault/fault_harness.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "absl/strings/str_cat.h"
#include "txmsg/blocking_client.h"
#include "tests/broker/log/log_test_util.h"

namespace txmsg::fault {

using namespace std::chrono_literals;
using testing::Http;
using testing::WaitFor;

const std::map<int64_t, int64_t> kInitialStock = {{1, 40}, {2, 25}, {3, 1000}};

namespace {

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

}  // namespace

System::System(std::map<Which, std::vector<std::string>> env,
               std::optional<chaos::ChaosOptions> chaos)
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

pid_t System::pid(Which w) const {
  return w == kBroker ? broker_->pid() : w == kOrder ? order_->pid() : stock_->pid();
}

bool System::Exited(Which w) {
  return w == kBroker ? broker_->exited() : w == kOrder ? order_->exited() : stock_->exited();
}

void System::Signal(Which w, int sig) {
  if (w == kBroker) broker_->Signal(sig);
  if (w == kOrder) order_->Signal(sig);
  if (w == kStock) stock_->Signal(sig);
}

bool System::Restart(Which w) {
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

Workload::Workload(System& sys, int orders, uint64_t seed) : sys_(sys) {
  for (int t = 0; t < 4; ++t) {
    threads_.emplace_back([this, orders, seed, t] {
      std::mt19937_64 rng(seed * 31 + t);
      for (int i = t; i < orders; i += 4) {
        const int64_t product = 1 + static_cast<int64_t>(rng() % 3);
        const int pay = 1 + static_cast<int>(rng() % 3);
        testing::HttpResult r =
            Http(sys_.order_port(), "POST", "/order/submitOrder",
                 absl::StrCat("{\"productId\": ", product, ", \"payCount\": ", pay, "}"));
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

void Workload::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

size_t Workload::accepted() {
  absl::MutexLock lock(&mu_);
  return accepted_.size();
}

std::vector<std::string> Workload::accepted_orders() {
  absl::MutexLock lock(&mu_);
  return accepted_;
}

void Workload::MarkDoneWhenJoined() {
  Join();
  finished_ = true;
}

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
  if (!BlockingClient::Connect(sys.broker()).ok()) v.push_back("broker does not answer");
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
    if (auto admin = BlockingClient::Connect(sys.broker()); admin.ok()) {
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

FaultSuite::FaultSuite() {
  const char* seed = std::getenv("TXMSG_FAULT_SEED");
  seed_ = seed ? std::strtoull(seed, nullptr, 10) : std::random_device{}();
  std::printf("fault suite seed %llu (TXMSG_FAULT_SEED=%llu replays it)\n",
              static_cast<unsigned long long>(seed_), static_cast<unsigned long long>(seed_));
}

std::vector<std::string> FaultSuite::Run(const std::string& name,
                                         std::map<System::Which, std::vector<std::string>> env,
                                         int orders,
                                         const std::function<void(System&, Workload&)>& disturb,
                                         std::chrono::milliseconds quiet_timeout,
                                         std::optional<chaos::ChaosOptions> chaos) {
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

void FaultSuite::RestartWhenDead(System& sys, Workload& load, std::vector<System::Which> watch) {
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

void FaultSuite::Reseed() {
  seed_ = std::mt19937_64(seed_)();
  runs_of_.clear();
  std::printf("soak pass: fault suite seed %llu (TXMSG_FAULT_SEED=%llu replays it)\n",
              static_cast<unsigned long long>(seed_), static_cast<unsigned long long>(seed_));
}

std::vector<std::string> Env(const std::string& crash_at, const std::string& mutation) {
  std::vector<std::string> env;
  if (!crash_at.empty()) env.push_back("TXMSG_CRASH_AT=" + crash_at);
  if (!mutation.empty()) env.push_back("TXMSG_TEST_MUTATION=" + mutation);
  return env;
}

std::string LastSegment(const std::string& dir) {
  const std::map<std::string, uint64_t> files = log::testing::SegmentFiles(dir);
  return files.empty() ? "" : files.rbegin()->first;
}

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

}  // namespace txmsg::fault
