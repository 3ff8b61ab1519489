// txmsg-bench: load generators. Subcommands:
//   txmsg-bench broker --broker HOST:PORT --messages N --producers P --consumers C --size 200
//   txmsg-bench e2e --order HOST:PORT --stock HOST:PORT --broker HOST:PORT --orders N
// Both take --rate N (open loop) and --json.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "base/flags.h"
#include "base/tls.h"
#include "tools/bench/broker_bench.h"
#include "tools/bench/e2e_bench.h"

ABSL_FLAG(std::string, user, "",
          "broker: authenticate as this user (a broker with --auth_file); the secret is read "
          "from the environment variable TXMSG_SECRET");
ABSL_FLAG(std::string, broker, "127.0.0.1:9876",
          "broker address HOST:PORT (e2e: only to find the broker's process for its CPU time)");
ABSL_FLAG(std::string, tls_ca, "",
          "TLS, trusting this PEM CA file: broker, to the broker; e2e, to the services' HTTPS");
ABSL_FLAG(std::string, tls_cert, "", "broker: mutual TLS, this client's PEM certificate");
ABSL_FLAG(std::string, tls_key, "", "broker: mutual TLS, the PEM private key of --tls_cert");
ABSL_FLAG(int64_t, messages, 100000, "messages to send");
ABSL_FLAG(int32_t, producers, 2, "producer connections");
ABSL_FLAG(int32_t, consumers, 2, "consumer connections (0: only produce and commit)");
ABSL_FLAG(int32_t, size, 200, "message body bytes");
ABSL_FLAG(int32_t, inflight, 512, "transactions in flight per producer");
ABSL_FLAG(int32_t, max_unacked, 2000, "credit of each consumer");
ABSL_FLAG(std::string, topic, "", "topic (default: a fresh one per run)");
ABSL_FLAG(int32_t, idle_timeout_s, 30, "give up after this many seconds without a delivery");
ABSL_FLAG(std::string, order, "127.0.0.1:8081", "e2e: order-service HOST:PORT");
ABSL_FLAG(std::string, stock, "127.0.0.1:8082", "e2e: stock-service HOST:PORT");
ABSL_FLAG(int64_t, orders, 10000, "e2e: orders to submit");
ABSL_FLAG(int32_t, concurrency, 32, "e2e: HTTP keep-alive connections");
ABSL_FLAG(int64_t, product, 1, "e2e: the first product to order");
ABSL_FLAG(int64_t, products, 1,
          "e2e: order products --product .. --product+N-1 (default 1..N), the first the most "
          "often (Zipf); each gets its stock set first");
ABSL_FLAG(double, zipf_s, 1.0, "e2e: Zipf exponent of the product choice (0: uniform)");
ABSL_FLAG(uint64_t, seed, 1, "e2e: seed of the product choice");
ABSL_FLAG(int64_t, initial_stock, -1,
          "e2e: stock to set first, per product (-1: 90% of the orders the product gets)");
ABSL_FLAG(double, rate, 0,
          "messages (broker) or orders (e2e) started per second, open loop: latency counts from "
          "each one's scheduled time, with at most --producers x --inflight (broker) or "
          "--concurrency (e2e) in flight; 0: closed loop, each finished one starts the next");
ABSL_FLAG(bool, json, false, "print the result as one JSON document on stdout");
ABSL_FLAG(int32_t, broker_pid, 0, "e2e: pid of the broker (0: the process listening on --broker)");
ABSL_FLAG(int32_t, order_pid, 0, "e2e: pid of order-service (0: the one listening on --order)");
ABSL_FLAG(int32_t, stock_pid, 0, "e2e: pid of stock-service (0: the one listening on --stock)");

namespace {

int RunE2e() {
  txmsg::bench::E2eBenchOptions e;
  e.order = absl::GetFlag(FLAGS_order);
  e.stock = absl::GetFlag(FLAGS_stock);
  e.broker = absl::GetFlag(FLAGS_broker);
  e.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  e.orders = absl::GetFlag(FLAGS_orders);
  e.concurrency = absl::GetFlag(FLAGS_concurrency);
  e.product = absl::GetFlag(FLAGS_product);
  e.products = absl::GetFlag(FLAGS_products);
  e.zipf_s = absl::GetFlag(FLAGS_zipf_s);
  e.seed = absl::GetFlag(FLAGS_seed);
  e.initial_stock = absl::GetFlag(FLAGS_initial_stock);
  e.rate = absl::GetFlag(FLAGS_rate);
  e.json = absl::GetFlag(FLAGS_json);
  e.broker_pid = absl::GetFlag(FLAGS_broker_pid);
  e.order_pid = absl::GetFlag(FLAGS_order_pid);
  e.stock_pid = absl::GetFlag(FLAGS_stock_pid);
  if (e.orders < 1 || e.concurrency < 1 || e.product < 1 || e.products < 1) {
    std::fprintf(stderr,
                 "txmsg-bench: --orders, --concurrency, --product and --products must be >= 1\n");
    return 2;
  }
  if (!(e.zipf_s >= 0) || !(e.rate >= 0)) {
    std::fprintf(stderr, "txmsg-bench: --zipf_s and --rate must be >= 0\n");
    return 2;
  }
  if (!e.tls_ca.empty()) {
    if (auto ctx = txmsg::base::MakeClientTlsContext({e.tls_ca, "", ""}); !ctx.ok()) {
      std::fprintf(stderr, "txmsg-bench: --tls_ca: %s\n",
                   std::string(ctx.status().message()).c_str());
      return 2;
    }
  }
  return txmsg::bench::RunE2eBench(e);
}

int RunBroker() {
  txmsg::bench::BrokerBenchOptions o;
  o.broker = absl::GetFlag(FLAGS_broker);
  o.tls = {absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
           absl::GetFlag(FLAGS_tls_key)};
  o.user = absl::GetFlag(FLAGS_user);
  if (const char* secret = std::getenv("TXMSG_SECRET"); secret != nullptr) o.secret = secret;
  o.messages = static_cast<uint64_t>(absl::GetFlag(FLAGS_messages));
  o.producers = absl::GetFlag(FLAGS_producers);
  o.consumers = absl::GetFlag(FLAGS_consumers);
  o.size = static_cast<size_t>(absl::GetFlag(FLAGS_size));
  o.inflight = absl::GetFlag(FLAGS_inflight);
  o.max_unacked = static_cast<uint32_t>(absl::GetFlag(FLAGS_max_unacked));
  o.idle_timeout = std::chrono::seconds(absl::GetFlag(FLAGS_idle_timeout_s));
  o.topic = absl::GetFlag(FLAGS_topic);
  o.rate = absl::GetFlag(FLAGS_rate);
  o.json = absl::GetFlag(FLAGS_json);
  if (o.topic.empty()) o.topic = absl::StrCat("bench-", ::getpid(), "-", std::time(nullptr));
  if (absl::GetFlag(FLAGS_messages) < 1 || o.producers < 1 || o.consumers < 0 || o.inflight < 1 ||
      absl::GetFlag(FLAGS_size) < 24 || o.max_unacked < 1 || !(o.rate >= 0)) {
    std::fprintf(stderr,
                 "txmsg-bench: --messages, --producers, --inflight, --max_unacked must be >= 1, "
                 "--consumers >= 0 (0: produce only), --size >= 24 and --rate >= 0\n");
    return 2;
  }
  return txmsg::bench::RunBrokerBench(o);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args = txmsg::base::ParseFlags(
      argc, argv,
      "Load generators for txmsg.\n"
      "Usage: txmsg-bench broker --broker HOST:PORT --messages N --producers P --consumers C "
      "--size 200\n"
      "       txmsg-bench e2e --order HOST:PORT --stock HOST:PORT --broker HOST:PORT --orders N "
      "--concurrency C [--products N --zipf_s 1.0]\n"
      "Both: [--rate N] (open loop) [--json]");
  if (args.size() == 1 && args[0] == "e2e") return RunE2e();
  if (args.size() != 1 || args[0] != "broker") {
    std::fprintf(stderr, "txmsg-bench: give one subcommand: broker or e2e (see --help)\n");
    return 2;
  }
  return RunBroker();
}
