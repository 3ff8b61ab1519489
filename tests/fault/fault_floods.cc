// The flood scenarios: connections that never say anything, against the
// broker and both services, with and without a low descriptor limit.
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/fault/fault_scenarios.h"
#include "txmsg/blocking_client.h"

namespace txmsg::fault {
namespace {

using namespace std::chrono_literals;
using testing::Http;
using testing::WaitFor;
using Which = System::Which;
using tcp = boost::asio::ip::tcp;

constexpr int kIdleFloodOrders = 100;
constexpr int kDescriptorOrders = 80;
// The flood starts once this many orders were accepted.
constexpr size_t kOrdersBeforeFlood = 15;

// idle-flood: silent connections to the broker from each of a few loopback
// addresses (more than --max_connections_per_source, 256, from each), and
// to each service (HTTP connections that never send a request).
constexpr int kBrokerFloodSources = 3;  // 127.0.0.2, 127.0.0.3, ...
constexpr int kMinPerSource = 260;
constexpr int kPerSourceRange = 60;
constexpr int kMinHttpFlood = 150;
constexpr int kHttpFloodRange = 100;

// descriptors: the broker and one service run with this descriptor limit
// and get more silent connections than it allows.
constexpr int kLowFdLimit = 256;
constexpr int kDescriptorFloodSources = 2;
constexpr int kDescriptorPerSource = 200;
constexpr int kDescriptorHttpFlood = 300;
// How long the flood is held; over it a process may use at most this share
// of one core (a spinning accept loop uses all of it), and its log may grow
// by at most kMaxLogGrowth.
constexpr auto kFloodHold = 3s;
constexpr double kMaxCpuShare = 0.5;
constexpr uintmax_t kMaxLogGrowth = 1 << 20;

// Silent connections, kept open until destroyed.
class Flood {
 public:
  // `count` connections to 127.0.0.1:`port` from local address `source`
  // (any 127.x.y.z is loopback). Returns how many connected.
  int Open(uint16_t port, const std::string& source, int count) {
    int opened = 0;
    const tcp::endpoint to(boost::asio::ip::make_address("127.0.0.1"), port);
    for (int i = 0; i < count; ++i) {
      auto sock = std::make_unique<tcp::socket>(io_);
      boost::system::error_code ec;
      sock->open(tcp::v4(), ec);
      if (!ec) sock->bind(tcp::endpoint(boost::asio::ip::make_address(source), 0), ec);
      // Non-blocking: a server out of descriptors leaves the connection in
      // its backlog, and the flood must not wait for it.
      if (!ec) sock->non_blocking(true, ec);
      if (!ec) sock->connect(to, ec);
      if (ec == boost::asio::error::in_progress || ec == boost::asio::error::would_block) ec = {};
      if (ec) continue;
      ++opened;
      socks_.push_back(std::move(sock));
    }
    return opened;
  }
  // How many the other side has closed (a read finds the end, or an error).
  size_t ClosedByPeer() {
    size_t closed = 0;
    for (auto& s : socks_) {
      boost::system::error_code ec;
      char bytes[512];
      // Refusals and the Hello deadline send an error frame first: read
      // past it to the end.
      for (int reads = 0; reads < 16 && !ec; ++reads) {
        s->read_some(boost::asio::buffer(bytes), ec);
      }
      if (ec && ec != boost::asio::error::would_block) ++closed;
    }
    return closed;
  }
  size_t size() const { return socks_.size(); }
  void Close() { socks_.clear(); }

 private:
  boost::asio::io_context io_;
  std::vector<std::unique_ptr<tcp::socket>> socks_;
};

// The flood needs more descriptors than a default soft limit of 1,024.
void RaiseOwnFdLimit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

uint16_t BrokerPort(System& s) {
  return static_cast<uint16_t>(std::stoi(s.broker().substr(s.broker().rfind(':') + 1)));
}

uint16_t HttpPort(System& s, Which w) {
  return w == System::kOrder ? s.order_port() : s.stock_port();
}

// User + system CPU time of `pid`, seconds (-1 if it cannot be read).
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field && i <= 15; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Descriptors `pid` holds.
size_t OpenFiles(pid_t pid) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

uintmax_t FileSize(const std::string& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

bool AdminGetsIn(System& s) {
  return WaitFor([&] { return s.Connect(wire::ROLE_ADMIN).ok(); },
                 kStepWait);
}

// Opens the broker flood from `sources` addresses, `per_source` each.
size_t FloodBroker(System& s, Flood& flood, int sources, int per_source) {
  size_t opened = 0;
  for (int k = 0; k < sources; ++k) {
    opened += flood.Open(BrokerPort(s), absl::StrCat("127.0.0.", 2 + k), per_source);
  }
  return opened;
}

// The broker closes every silent connection within the Hello deadline.
void ExpectHelloDeadline(const char* scenario, Flood& flood, Violations& seen) {
  if (!WaitFor([&] { return flood.ClosedByPeer() == flood.size(); },
               kTestHelloTimeout + kStepWait / 4)) {
    seen.push_back(absl::StrCat(scenario, ": ", flood.size() - flood.ClosedByPeer(), " of ",
                                flood.size(),
                                " silent broker connections still open after the "
                                "Hello deadline"));
  }
}

}  // namespace

Violations IdleFlood(FaultSuite& suite, std::mt19937_64& rng) {
  RaiseOwnFdLimit();
  Violations seen;
  Violations v = suite.Run("idle-flood", {}, kIdleFloodOrders, [&](System& s, Workload& l) {
    if (!Reached(l, kOrdersBeforeFlood)) return;
    Flood broker_flood, http_flood;
    const size_t opened = FloodBroker(s, broker_flood, kBrokerFloodSources,
                                      kMinPerSource + static_cast<int>(rng() % kPerSourceRange));
    for (Which w : {System::kOrder, System::kStock}) {
      http_flood.Open(HttpPort(s, w), "127.0.0.1",
                      kMinHttpFlood + static_cast<int>(rng() % kHttpFloodRange));
    }
    std::printf(
        "  [idle-flood] %zu silent broker connections, %zu silent HTTP ones at %zu orders\n",
        opened, http_flood.size(), l.accepted());
    const size_t before = l.accepted();
    // Legitimate clients get in: an operator, and a service restarted
    // meanwhile (it connects to the broker again from 127.0.0.1).
    if (!AdminGetsIn(s)) seen.push_back("idle-flood: txmsgctl could not connect during the flood");
    const Which restarted = rng() % 2 == 0 ? System::kOrder : System::kStock;
    ++suite.report().kills;
    if (!s.Restart(restarted)) {
      seen.push_back(absl::StrCat("idle-flood: ", System::kNames[restarted],
                                  " did not start again during the flood"));
    }
    if (!WaitFor([&] { return Http(HttpPort(s, restarted), "GET", "/healthz").status == 200; },
                 kStepWait)) {
      seen.push_back(absl::StrCat("idle-flood: ", System::kNames[restarted],
                                  " never reached the broker during the flood"));
    }
    if (!WaitFor([&] { return l.accepted() > before || l.done(); }, kStepWait))
      seen.push_back("idle-flood: no order was accepted during the flood");
    ExpectHelloDeadline("idle-flood", broker_flood, seen);
    http_flood.Close();
  });
  for (const std::string& x : seen) std::printf("  [idle-flood] violation: %s\n", x.c_str());
  Append(v, seen);
  return v;
}

Violations Descriptors(FaultSuite& suite, std::mt19937_64& rng) {
  RaiseOwnFdLimit();
  testing::TempDir logs;
  const Which service = rng() % 2 == 0 ? System::kOrder : System::kStock;
  std::map<Which, std::string> log_of = {{System::kBroker, logs.File("broker.log")},
                                         {service, logs.File("service.log")}};
  std::map<Which, std::string> wrappers;
  for (const auto& [w, log] : log_of) {
    wrappers[w] = absl::StrCat("ulimit -n ", kLowFdLimit, " && exec \"$@\" 2>>'", log, "'");
  }
  Violations seen;
  const std::string name = absl::StrCat("descriptors-", System::kNames[service]);
  Violations v = suite.Run(
      name, {}, kDescriptorOrders,
      [&](System& s, Workload& l) {
        if (!Reached(l, kOrdersBeforeFlood)) return;
        std::map<Which, double> cpu;
        std::map<Which, uintmax_t> log_size;
        for (const auto& [w, log] : log_of) {
          cpu[w] = CpuSeconds(s.pid(w));
          log_size[w] = FileSize(log);
        }
        const auto start = std::chrono::steady_clock::now();
        Flood broker_flood, http_flood;
        FloodBroker(s, broker_flood, kDescriptorFloodSources, kDescriptorPerSource);
        http_flood.Open(HttpPort(s, service), "127.0.0.1", kDescriptorHttpFlood);
        std::printf("  [%s] %zu silent broker connections, %zu silent HTTP ones, limit %d\n",
                    name.c_str(), broker_flood.size(), http_flood.size(), kLowFdLimit);
        // The fault: descriptors used up. The peak each process holds is
        // shown (the broker's silent connections go at the Hello deadline).
        std::map<Which, size_t> peak;
        while (std::chrono::steady_clock::now() - start < kFloodHold) {
          for (const auto& [w, log] : log_of) peak[w] = std::max(peak[w], OpenFiles(s.pid(w)));
          std::this_thread::sleep_for(kFloodHold / 30);
        }
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        for (const auto& [w, log] : log_of) {
          std::printf("  [%s] %s held up to %zu descriptors during the flood\n", name.c_str(),
                      System::kNames[w], peak[w]);
          if (s.Exited(w)) {
            seen.push_back(absl::StrCat(name, ": ", System::kNames[w], " exited"));
            continue;
          }
          const double used = CpuSeconds(s.pid(w)) - cpu[w];
          if (used > kMaxCpuShare * wall) {
            seen.push_back(absl::StrCat(name, ": ", System::kNames[w], " used ", used,
                                        " s of CPU in ", wall, " s of flood (spinning?)"));
          }
          const uintmax_t grew = FileSize(log) - log_size[w];
          if (grew > kMaxLogGrowth) {
            seen.push_back(absl::StrCat(name, ": ", System::kNames[w], " logged ", grew,
                                        " bytes during the flood"));
          }
        }
        http_flood.Close();
        ExpectHelloDeadline(name.c_str(), broker_flood, seen);
        if (!AdminGetsIn(s)) seen.push_back(name + ": txmsgctl could not connect after the flood");
        // Orders flow again (the workload may be done by now: one more).
        std::string order_no;
        WaitFor(
            [&] {
              testing::HttpResult r = Http(s.order_port(), "POST", "/order/submitOrder",
                                           "{\"productId\": 3, \"payCount\": 1}");
              order_no = r.status == 200 ? JsonString(r.body, "orderNo") : "";
              return !order_no.empty();
            },
            kStepWait);
        if (order_no.empty()) {
          seen.push_back(name + ": no order was accepted after the flood");
          return;
        }
        const bool settled = WaitFor(
            [&] {
              return JsonString(Http(s.order_port(), "GET", "/order/orders/" + order_no).body,
                                "status") == "CONFIRMED";
            },
            kStepWait);
        if (!settled) seen.push_back(name + ": the order after the flood was not confirmed");
      },
      kDefaultQuietTimeout, std::nullopt, wrappers);
  for (const std::string& x : seen) std::printf("  [%s] violation: %s\n", name.c_str(), x.c_str());
  Append(v, seen);
  return v;
}

}  // namespace txmsg::fault
