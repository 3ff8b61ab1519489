#include "tests/fault/fault_harness.h"

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <regex>

#include "absl/strings/str_cat.h"
#include "tests/broker/log/log_test_util.h"
#include "tests/testutil/pg_cluster.h"
#include "tests/testutil/tls_material.h"
#include "base/password_hash.h"
#include "broker/auth/principals.h"

namespace txmsg::fault {

using namespace std::chrono_literals;
using testing::Http;
using testing::WaitFor;

const std::map<int64_t, int64_t> kInitialStock = {{1, 40}, {2, 25}, {3, 1000}};

namespace {

// Products ordered (1..kProducts) and units per order (1..kMaxPayCount).
constexpr uint64_t kProducts = 3;
constexpr uint64_t kMaxPayCount = 3;
// How long a client waits after a refused order (broker unreachable,
// service restarting) rather than spending its orders on the outage.
constexpr auto kRefusedBackoff = 20ms;
// How often RestartWhenDead looks for a dead process.
constexpr auto kDeathPollInterval = 5ms;
std::string Millis(std::chrono::milliseconds d) { return absl::StrCat(d.count(), "ms"); }

}  // namespace

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

namespace {

bool use_postgres = false;

// --db for `service` of a new System.
std::string ServiceDb(const testing::TempDir& dir, const std::string& service) {
  if (!use_postgres) return dir.File(service + ".db");
  static testing::PgCluster* cluster = [] {
    static testing::PgCluster c;
    if (!c.Start()) std::fprintf(stderr, "fault: cannot start a PostgreSQL cluster\n");
    return &c;
  }();
  static std::map<std::string, int> runs;
  return cluster->CreateDatabase(absl::StrCat(service, "_", ++runs[service]));
}

}  // namespace

void UsePostgres(bool on) { use_postgres = on; }

namespace {
bool use_security = false;
// The suite's own principal: admin, and producer and consumer of anything
// (the poison scenario publishes, the bad-input one subscribes).
constexpr char kSuiteUser[] = "fault-suite";
}  // namespace

void UseSecurity(bool on) { use_security = on; }

void System::Secure(std::vector<std::string>& broker_flags, std::vector<std::string>& order_flags,
                    std::vector<std::string>& stock_flags) {
  const testing::TlsMaterial pki = testing::MakeTlsMaterial(dir_.path());
  auto hash = [](const std::string& secret) {
    return *base::HashSecret(secret, 1'000);  // fast: the suite's secrets guard nothing
  };
  using broker::auth::Grant;
  using broker::auth::Principal;
  using broker::auth::Role;
  const std::vector<Grant> service_grants = {Grant{Role::kProduce, {"*"}, {"*"}},
                                             Grant{Role::kConsume, {"*"}, {"*"}}};
  broker::auth::PrincipalSet principals;
  (void)principals.Put(Principal{"order-svc", hash("order-secret"), service_grants});
  (void)principals.Put(Principal{"stock-svc", hash("stock-secret"), service_grants});
  std::vector<Grant> suite_grants = service_grants;
  suite_grants.push_back(Grant{Role::kAdmin, {"*"}, {"*"}});
  (void)principals.Put(Principal{kSuiteUser, hash("suite-secret"), suite_grants});
  const std::string principals_file = dir_.File("principals");
  if (absl::Status s = broker::auth::SavePrincipalsFile(principals_file, principals); !s.ok()) {
    std::fprintf(stderr, "fault suite: %s\n", s.ToString().c_str());
    std::abort();
  }
  auto secret_file = [&](const std::string& name, const std::string& secret) {
    const std::string path = dir_.File(name);
    FILE* f = std::fopen(path.c_str(), "w");
    std::fprintf(f, "%s\n", secret.c_str());
    std::fclose(f);
    ::chmod(path.c_str(), 0600);
    return path;
  };
  broker_flags.push_back("--auth_file=" + principals_file);
  broker_flags.push_back("--tls_cert=" + pki.server.cert);
  broker_flags.push_back("--tls_key=" + pki.server.key);
  order_flags.push_back("--broker_user=order-svc");
  order_flags.push_back("--broker_secret_file=" + secret_file("order.secret", "order-secret"));
  order_flags.push_back("--broker_tls_ca=" + pki.ca);
  stock_flags.push_back("--broker_user=stock-svc");
  stock_flags.push_back("--broker_secret_file=" + secret_file("stock.secret", "stock-secret"));
  stock_flags.push_back("--broker_tls_ca=" + pki.ca);
  client_options_.user = kSuiteUser;
  client_options_.secret = "suite-secret";
  client_options_.tls.ca_file = pki.ca;
}

absl::StatusOr<std::unique_ptr<BlockingClient>> System::Connect(
    wire::ClientRole role, const std::string& producer_group) const {
  ClientOptions options = client_options_;
  options.broker = broker();
  options.request_timeout = std::chrono::seconds(5);
  return BlockingClient::Connect(options, role, producer_group);
}

System::System(std::map<Which, std::vector<std::string>> env,
               std::optional<chaos::ChaosOptions> chaos, std::map<Which, std::string> wrappers)
    : env_(std::move(env)) {
  std::vector<std::string> broker_flags = {"--tx_timeout=" + Millis(kTestTxTimeout),
                                           "--check_interval=" + Millis(kTestTxTimeout),
                                           "--ack_timeout=" + Millis(kTestAckTimeout),
                                           "--redelivery_backoff=" + Millis(kTestRedeliveryBackoff),
                                           "--hello_timeout=" + Millis(kTestHelloTimeout),
                                           absl::StrCat("--segment_size=", kTestSegmentBytes)};
  std::vector<std::string> order_flags, stock_flags;
  if (use_security && !chaos) Secure(broker_flags, order_flags, stock_flags);
  broker_ = std::make_unique<testing::BrokerProcess>(dir_.File("broker"), broker_flags);
  broker_->set_env(env_[kBroker]);
  broker_->set_wrapper(wrappers[kBroker]);
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
  if (started_ && !client_options_.user.empty() &&
      BlockingClient::Connect(broker_->address(), wire::ROLE_ADMIN, "", std::chrono::seconds(2))
          .ok()) {
    std::fprintf(stderr, "fault suite: a secured broker let a plain, anonymous client in\n");
    std::abort();
  }
  std::string services_broker = broker_->address();
  if (chaos && started_) {
    proxy_ = std::make_unique<chaos::ChaosProxy>(broker_->port(), *chaos);
    started_ = proxy_->Start().ok();
    services_broker = "127.0.0.1:" + std::to_string(proxy_->port());
  }
  std::vector<std::string> order_args = {TXMSG_ORDER_BIN, "--broker=" + services_broker,
                                         "--db=" + ServiceDb(dir_, "order")};
  order_args.insert(order_args.end(), order_flags.begin(), order_flags.end());
  std::vector<std::string> stock_args = {TXMSG_STOCK_BIN, "--broker=" + services_broker,
                                         "--db=" + ServiceDb(dir_, "stock"), "--seed_stock=" + seed};
  stock_args.insert(stock_args.end(), stock_flags.begin(), stock_flags.end());
  order_ = std::make_unique<testing::ServiceProcess>(order_args, env_[kOrder]);
  stock_ = std::make_unique<testing::ServiceProcess>(stock_args, env_[kStock]);
  order_->set_wrapper(wrappers[kOrder]);
  stock_->set_wrapper(wrappers[kStock]);
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
  for (int t = 0; t < kClientThreads; ++t) {
    threads_.emplace_back([this, orders, seed, t] {
      std::mt19937_64 rng(seed * 31 + t);  // a generator of its own per thread
      for (int i = t; i < orders; i += kClientThreads) {
        const int64_t product = 1 + static_cast<int64_t>(rng() % kProducts);
        const int pay = 1 + static_cast<int>(rng() % kMaxPayCount);
        testing::HttpResult r =
            Http(sys_.order_port(), "POST", "/order/submitOrder",
                 absl::StrCat("{\"productId\": ", product, ", \"payCount\": ", pay, "}"));
        if (r.status == 200) {
          absl::MutexLock lock(&mu_);
          accepted_.push_back(JsonString(r.body, "orderNo"));
        } else {
          ++refused_;
          std::this_thread::sleep_for(kRefusedBackoff);
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

FaultSuite::FaultSuite() {
  const char* seed = std::getenv("TXMSG_FAULT_SEED");
  seed_ = seed ? std::strtoull(seed, nullptr, 10) : std::random_device{}();
  std::printf("fault suite seed %llu (TXMSG_FAULT_SEED=%llu replays it)\n",
              static_cast<unsigned long long>(seed_), static_cast<unsigned long long>(seed_));
}

std::vector<std::string> FaultSuite::Run(
    const std::string& name, std::map<System::Which, std::vector<std::string>> env, int orders,
    const std::function<void(System&, Workload&)>& disturb, std::chrono::milliseconds quiet_timeout,
    std::optional<chaos::ChaosOptions> chaos, std::map<System::Which, std::string> wrappers) {
  System sys(env, chaos, std::move(wrappers));
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
    std::this_thread::sleep_for(kDeathPollInterval);
  }
}

uint64_t FaultSuite::ScenarioSeed(const std::string& name) const {
  return seed_ ^ std::hash<std::string>{}(name);
}

void FaultSuite::Reseed() {
  seed_ = std::mt19937_64(seed_)();
  runs_of_.clear();
  std::printf("soak pass: fault suite seed %llu (TXMSG_FAULT_SEED=%llu replays it)\n",
              static_cast<unsigned long long>(seed_), static_cast<unsigned long long>(seed_));
}

bool Reached(Workload& load, size_t orders) {
  return WaitFor([&] { return load.accepted() >= orders || load.done(); }, kStepWait) &&
         !load.done();
}

std::string RandomBytes(std::mt19937_64& rng, uint64_t max_bytes) {
  std::string bytes(1 + rng() % max_bytes, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

void Append(Violations& to, const Violations& from) {
  to.insert(to.end(), from.begin(), from.end());
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

}  // namespace txmsg::fault
