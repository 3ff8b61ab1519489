// The fault suite's checks of a quiet system: the invariants of
// docs/design.md as the HTTP APIs show them, plus caps on what each process
// holds. On a violation, what the broker holds is printed, to tell where
// the messages stopped.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "absl/strings/str_cat.h"
#include "tests/fault/fault_harness.h"
#include "txmsg/blocking_client.h"

namespace txmsg::fault {
namespace {

using testing::Http;
using testing::WaitFor;

// Caps every process must stay under after a run (the runs are small).
constexpr long long kMaxRssKb = 512 * 1024;
constexpr size_t kMaxOpenFiles = 512;
// Each accepted order makes two messages: the order, and the stock outcome.
constexpr int kMessagesPerOrder = 2;
// More than any run accepts: one listing returns every order.
constexpr int kListAllOrders = 100'000;

// 1. Every accepted order is CONFIRMED or CANCELLED.
void CheckOrdersSettled(System& sys, const std::vector<std::string>& accepted, Violations& v) {
  for (const std::string& no : accepted) {
    testing::HttpResult r = Http(sys.order_port(), "GET", "/order/orders/" + no);
    const std::string status = JsonString(r.body, "status");
    if (r.status == 404)
      v.push_back("accepted order " + no + " is missing");
    else if (status != "CONFIRMED" && status != "CANCELLED")
      v.push_back("order " + no + " is " + status);
  }
}

// 2 and 3. For every product, initial = remaining + confirmed, and the
// stock is never negative. (A tx applied twice shows here too: a double
// deduction breaks the equation.)
void CheckStock(System& sys, Violations& v) {
  const std::string all =
      Http(sys.order_port(), "GET", absl::StrCat("/order/orders?limit=", kListAllOrders)).body;
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
}

// 4 and 5. Every process answers, under its memory and open-file caps.
void CheckProcesses(System& sys, Violations& v) {
  if (Http(sys.order_port(), "GET", "/healthz").status == 0)
    v.push_back("order-service does not answer");
  if (Http(sys.stock_port(), "GET", "/healthz").status == 0)
    v.push_back("stock-service does not answer");
  if (!sys.Connect().ok()) v.push_back("broker does not answer");
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
}

// Orders stock-service saw again and answered from its tx_log (allowed).
int Duplicates(System& sys) {
  const std::string metrics = Http(sys.stock_port(), "GET", "/metrics").body;
  std::smatch dup;
  if (std::regex_search(metrics, dup, std::regex("txmsg_stock_republished_total ([0-9]+)")))
    return std::stoi(dup[1].str());
  return 0;
}

// The broker's groups and half messages, to tell where the messages stopped.
void PrintBrokerState(System& sys) {
  auto admin = sys.Connect();
  if (!admin.ok()) return;
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
                  (unsigned long long)h.message_id(), h.tx_id().c_str(), h.producer_group().c_str(),
                  h.state(), h.checks());
    }
  }
}

}  // namespace

Violations CheckInvariants(System& sys, const std::vector<std::string>& accepted,
                           std::chrono::milliseconds quiet_timeout, Report* report) {
  WaitFor(
      [&] {
        testing::HttpResult r =
            Http(sys.order_port(), "GET", "/order/orders?status=PENDING&limit=1");
        return r.status == 200 && r.body.find("orderNo") == std::string::npos;
      },
      quiet_timeout);
  Violations v;
  CheckOrdersSettled(sys, accepted, v);
  CheckStock(sys, v);
  CheckProcesses(sys, v);
  report->duplicates += Duplicates(sys);
  if (!v.empty()) PrintBrokerState(sys);
  report->orders += static_cast<int>(accepted.size());
  report->messages += static_cast<int>(kMessagesPerOrder * accepted.size());
  return v;
}

}  // namespace txmsg::fault
