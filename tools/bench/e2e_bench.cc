// txmsg-bench e2e: submits orders over keep-alive HTTP connections, waits
// until every one is CONFIRMED or CANCELLED, then reads each order's final
// time to measure submit-to-final latency.
#include "tools/bench/e2e_bench.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <regex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"

namespace txmsg::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One keep-alive HTTP connection, reconnecting when the server closes it.
class HttpClient {
 public:
  explicit HttpClient(const std::string& hostport) {
    const size_t colon = hostport.rfind(':');
    host_ = hostport.substr(0, colon);
    port_ = hostport.substr(colon + 1);
  }
  // Status 0 when the server could not be reached.
  std::pair<int, std::string> Call(http::verb verb, const std::string& target,
                                   const std::string& body = "") {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!stream_) {
          stream_.emplace(io_);
          tcp::resolver resolver(io_);
          stream_->connect(resolver.resolve(host_, port_));
        }
        http::request<http::string_body> req(verb, target, 11);
        req.set(http::field::host, host_);
        req.set(http::field::content_type, "application/json");
        req.keep_alive(true);
        req.body() = body;
        req.prepare_payload();
        http::write(*stream_, req);
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(*stream_, buffer, res);
        if (!res.keep_alive()) stream_.reset();
        return {static_cast<int>(res.result_int()), res.body()};
      } catch (const std::exception&) {
        stream_.reset();
      }
    }
    return {0, ""};
  }

 private:
  boost::asio::io_context io_;
  std::optional<beast::tcp_stream> stream_;
  std::string host_, port_;
};

std::string Field(const std::string& json, const char* name) {
  std::smatch m;
  const std::regex re(absl::StrCat("\"", name, "\": *\"([^\"]*)\""));
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

// Every string value of `name` in `json`, in order.
std::vector<std::string> Fields(const std::string& json, const char* name) {
  std::vector<std::string> out;
  const std::regex re(absl::StrCat("\"", name, "\": *\"([^\"]*)\""));
  for (auto it = std::sregex_iterator(json.begin(), json.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

// Orders asked for per poll of the PENDING list.
constexpr size_t kPollLimit = 1000;

int64_t Number(const std::string& json, const char* name) {
  std::smatch m;
  const std::regex re(absl::StrCat("\"", name, "\": *(-?[0-9]+)"));
  return std::regex_search(json, m, re) ? std::stoll(m[1].str()) : -1;
}

}  // namespace

int RunE2eBench(const E2eBenchOptions& o) {
  const int64_t stock = o.initial_stock >= 0 ? o.initial_stock : o.orders * 9 / 10;
  {
    HttpClient admin(o.stock);
    auto [status, body] = admin.Call(http::verb::put, absl::StrCat("/stock/products/", o.product),
                                     absl::StrCat("{\"totalCount\": ", stock, "}"));
    if (status != 200) {
      std::fprintf(stderr, "txmsg-bench: cannot set stock at %s (status %d): %s\n", o.stock.c_str(),
                   status, body.c_str());
      return 2;
    }
  }
  std::fprintf(
      stderr,
      "txmsg-bench e2e: %lld orders of 1 unit of product %lld (stock %lld), %d connections\n",
      static_cast<long long>(o.orders), static_cast<long long>(o.product),
      static_cast<long long>(stock), o.concurrency);

  std::vector<std::string> order_nos(o.orders);
  std::vector<int64_t> submit_ms(o.orders, 0);
  std::atomic<int64_t> next{0}, accepted{0}, refused{0};
  const int64_t start_ms = NowMs();
  const std::string body = absl::StrCat("{\"productId\": ", o.product, ", \"payCount\": 1}");
  std::vector<std::thread> workers;
  for (int c = 0; c < o.concurrency; ++c) {
    workers.emplace_back([&] {
      HttpClient client(o.order);
      for (int64_t i = next++; i < o.orders; i = next++) {
        submit_ms[i] = NowMs();
        auto [status, reply] = client.Call(http::verb::post, "/order/submitOrder", body);
        if (status == 200) {
          order_nos[i] = Field(reply, "orderNo");
          ++accepted;
        } else {
          ++refused;
        }
      }
    });
  }
  std::atomic<bool> submitting{true};
  std::thread progress([&] {
    while (submitting) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      if (!submitting) break;
      std::fprintf(stderr, "  %5.1fs submitted=%lld refused=%lld\n", (NowMs() - start_ms) / 1000.0,
                   static_cast<long long>(accepted.load()), static_cast<long long>(refused.load()));
    }
  });
  for (auto& w : workers) w.join();
  submitting = false;
  progress.join();
  const int64_t submitted_ms = NowMs();
  std::fprintf(stderr,
               "  all submitted in %.2f s (%lld accepted, %lld refused); waiting to settle\n",
               (submitted_ms - start_ms) / 1000.0, static_cast<long long>(accepted.load()),
               static_cast<long long>(refused.load()));

  // Wait until none of this run's orders is PENDING. Other PENDING orders
  // (another client's, or a killed earlier run's) are not ours to wait for.
  const std::unordered_set<std::string> ours(order_nos.begin(), order_nos.end());
  HttpClient poll(o.order);
  int64_t pending = -1;
  while (NowMs() - submitted_ms < o.settle_timeout_s * 1000LL) {
    auto [status, reply] =
        poll.Call(http::verb::get, absl::StrCat("/order/orders?status=PENDING&limit=", kPollLimit));
    if (status == 200) {
      const std::vector<std::string> listed = Fields(reply, "orderNo");
      const bool any_ours = std::any_of(listed.begin(), listed.end(),
                                        [&](const std::string& no) { return ours.count(no) > 0; });
      // A full page may hide ours behind others: then look again.
      if (!any_ours && listed.size() < kPollLimit) {
        pending = 0;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  // Each order's final status and time.
  std::vector<int64_t> latency(o.orders, -1);
  std::atomic<int64_t> confirmed{0}, cancelled{0}, still_pending{0}, last_final{0};
  next = 0;
  workers.clear();
  for (int c = 0; c < o.concurrency; ++c) {
    workers.emplace_back([&] {
      HttpClient client(o.order);
      for (int64_t i = next++; i < o.orders; i = next++) {
        if (order_nos[i].empty()) continue;
        auto [status, reply] = client.Call(http::verb::get, "/order/orders/" + order_nos[i]);
        const std::string s = Field(reply, "status");
        if (s == "CONFIRMED" || s == "CANCELLED") {
          ++(s == "CONFIRMED" ? confirmed : cancelled);
          const int64_t final_ms = Number(reply, "updateTimeMs");
          latency[i] = final_ms - submit_ms[i];
          int64_t prev = last_final.load();
          while (final_ms > prev && !last_final.compare_exchange_weak(prev, final_ms)) {
          }
        } else {
          ++still_pending;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  std::vector<int64_t> lat;
  for (int64_t l : latency) {
    if (l >= 0) lat.push_back(l);
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) -> int64_t {
    return lat.empty() ? 0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))];
  };
  const double secs = std::max<int64_t>(1, last_final.load() - start_ms) / 1000.0;
  const double rate = (confirmed + cancelled) / secs;
  std::printf(
      "%lld orders settled in %.2f s: %lld confirmed, %lld cancelled, %lld pending, %lld refused\n",
      static_cast<long long>(confirmed + cancelled), secs, static_cast<long long>(confirmed.load()),
      static_cast<long long>(cancelled.load()), static_cast<long long>(still_pending.load()),
      static_cast<long long>(refused.load()));
  std::printf(
      "RESULT orders_per_s=%.0f p50_ms=%lld p99_ms=%lld confirmed=%lld cancelled=%lld "
      "pending=%lld\n",
      rate, static_cast<long long>(pct(0.50)), static_cast<long long>(pct(0.99)),
      static_cast<long long>(confirmed.load()), static_cast<long long>(cancelled.load()),
      static_cast<long long>(still_pending.load()));
  return still_pending == 0 && pending == 0 ? 0 : 1;
}

}  // namespace txmsg::bench
