// The broker over TLS, with real processes and throwaway certificates
// (tests/testutil/tls_material.h): the whole transactional round trip,
// every way a handshake must fail (wrong CA, expired or misnamed
// certificate, plaintext on either side, a stalled handshake), mutual TLS
// and its verified peer name, txmsgctl's exit codes, the /metrics token and
// the refusal to listen unprotected on a non-loopback address.
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "gmock/gmock.h"
#include "tests/broker/broker_test_fixture.h"
#include "tests/testutil/subprocess.h"
#include "tests/testutil/tls_material.h"

namespace txmsg::testing_broker {
namespace {

using ::txmsg::testing::Http;
using ::txmsg::testing::Subprocess;
using ::txmsg::testing::TlsMaterial;

struct CmdResult {
  int code;
  std::string out;  // stdout and stderr
};

// Runs a command line (its words single-quoted) with stderr into the output.
CmdResult Sh(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 15s) {
  std::string cmd;
  for (const std::string& a : argv) cmd += "'" + a + "' ";
  Subprocess p({"/bin/sh", "-c", cmd + "2>&1"});
  CmdResult r;
  r.out = p.ReadAll(timeout);
  const int status = p.Wait();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

uint16_t FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

class BrokerTlsTest : public BrokerProcessTest {
 protected:
  void SetUp() override { pki_ = ::txmsg::testing::MakeTlsMaterial(tmp_.path()); }

  // The broker with TLS on, its stderr kept in broker.log.
  void StartTlsBroker(const ::txmsg::testing::CertFiles& cert, std::vector<std::string> more = {}) {
    more.push_back("--tls_cert=" + cert.cert);
    more.push_back("--tls_key=" + cert.key);
    broker_ = std::make_unique<BrokerProcess>(tmp_.File("data"), std::move(more));
    broker_->set_wrapper("exec \"$@\" 2>>'" + tmp_.File("broker.log") + "'");
    ASSERT_TRUE(broker_->Start());
  }
  std::string BrokerLog() {
    std::ifstream in(tmp_.File("broker.log"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  ClientOptions TlsClient(const std::string& ca,
                          const ::txmsg::testing::CertFiles* cert = nullptr) {
    ClientOptions o = Client();
    o.tls.ca_file = ca;
    if (cert) {
      o.tls.cert_file = cert->cert;
      o.tls.key_file = cert->key;
    }
    return o;
  }
  // Starting a producer with `o`: how it ended, and how long it took.
  absl::Status TryProducer(const ClientOptions& o, std::chrono::milliseconds* took = nullptr) {
    TransactionProducer p(o, "tx_order_group", nullptr);
    const auto start = std::chrono::steady_clock::now();
    absl::Status s = p.Start(8s);
    if (took) {
      *took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    }
    return s;
  }
  CmdResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {TXMSGCTL_BIN, "--broker=" + broker_->address(), "--timeout=3s"});
    return Sh(args);
  }

  TlsMaterial pki_;
};

TEST_F(BrokerTlsTest, TransactionsCheckBacksAndDeliveriesWorkOverTls) {
  StartTlsBroker(pki_.server, {"--tx_timeout=100ms", "--check_interval=200ms"});
  std::atomic<int> checks{0};
  TransactionProducer producer(TlsClient(pki_.ca), "tx_order_group", [&](const CheckRequest&) {
    ++checks;
    return TxOutcome::kCommit;
  });
  ASSERT_OK(producer.Start());
  Inbox inbox;
  Consumer consumer(ConsumerOptions{TlsClient(pki_.ca), "topic_txmsg", "tx_stock_group", 64},
                    inbox.Handler());
  ASSERT_OK(consumer.Start());

  ASSERT_OK(producer.ExecuteTransaction(Msg("committed"), "tx-1",
                                        [](uint64_t) { return TxOutcome::kCommit; }));
  ASSERT_OK(producer.SendHalf(Msg("checked-back"), "tx-2"));  // no EndTx: the broker asks
  EXPECT_TRUE(inbox.WaitFor("committed"));
  EXPECT_TRUE(inbox.WaitFor("checked-back"));
  EXPECT_GE(checks.load(), 1);
  // A large message spans many TLS records.
  Message big_message = Msg("big");
  const std::string big(1 << 20, 'x');
  big_message.body = big;
  ASSERT_OK(producer.Send(big_message));
  EXPECT_TRUE(inbox.WaitFor(big));

  // The certificate names localhost too: dialling by name verifies.
  ClientOptions by_name = TlsClient(pki_.ca);
  by_name.broker = "localhost:" + std::to_string(broker_->port());
  auto admin = BlockingClient::Connect(by_name);
  ASSERT_OK(admin);
}

TEST_F(BrokerTlsTest, ClientRefusesABrokerCertificateFromAnotherCaAtOnce) {
  StartTlsBroker(pki_.other_server);
  std::chrono::milliseconds took{};
  const absl::Status s = TryProducer(TlsClient(pki_.ca), &took);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("certificate verify failed"));
  EXPECT_LT(took, 5s) << "a refused certificate ends the wait";
}

TEST_F(BrokerTlsTest, ClientRefusesAnExpiredBrokerCertificate) {
  StartTlsBroker(pki_.expired);
  const absl::Status s = TryProducer(TlsClient(pki_.ca));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("expired"));
  const CmdResult r = Ctl({"--tls_ca=" + pki_.ca, "stats"});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_THAT(r.out, ::testing::HasSubstr("expired"));
}

TEST_F(BrokerTlsTest, ClientRefusesACertificateForAnotherName) {
  StartTlsBroker(pki_.client);  // CN=tls-client: neither 127.0.0.1 nor localhost
  const absl::Status s = TryProducer(TlsClient(pki_.ca));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("mismatch"));
}

TEST_F(BrokerTlsTest, PlaintextClientIsRefusedAndTheBrokerKeepsServing) {
  StartTlsBroker(pki_.server);
  auto plain = BlockingClient::Connect(broker_->address(), wire::ROLE_ADMIN, "", 3s);
  EXPECT_FALSE(plain.ok());
  {  // raw bytes that are no TLS at all, then a hang-up
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket sock(io);
    sock.connect({boost::asio::ip::make_address("127.0.0.1"), broker_->port()});
    boost::asio::write(sock, boost::asio::buffer(std::string("GET / HTTP/1.0\r\n\r\n")));
  }
  const CmdResult r = Ctl({"stats"});  // txmsgctl without --tls_ca
  EXPECT_EQ(r.code, 2) << r.out;
  ASSERT_OK(TryProducer(TlsClient(pki_.ca)));
  EXPECT_FALSE(broker_->exited());
  EXPECT_TRUE(WaitFor([&] { return BrokerLog().find("does not speak TLS") != std::string::npos; }))
      << BrokerLog();
}

TEST_F(BrokerTlsTest, TlsClientToAPlaintextBrokerFailsCleanly) {
  StartBroker();
  std::chrono::milliseconds took{};
  EXPECT_FALSE(TryProducer(TlsClient(pki_.ca), &took).ok());
  EXPECT_LT(took, 5s);
  const CmdResult r = Ctl({"--tls_ca=" + pki_.ca, "stats"});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_THAT(r.out, ::testing::HasSubstr("TLS"));
}

TEST_F(BrokerTlsTest, AStalledHandshakeIsClosedAtTheHelloDeadline) {
  StartTlsBroker(pki_.server, {"--hello_timeout=300ms"});
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket sock(io);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), broker_->port()});
  const auto start = std::chrono::steady_clock::now();
  char c;
  boost::system::error_code ec;
  sock.read_some(boost::asio::buffer(&c, 1), ec);  // says nothing: the broker hangs up
  EXPECT_TRUE(ec) << "the broker closes the connection";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(BrokerTlsTest, MutualTlsNeedsAClientCertificateFromTheClientCa) {
  StartTlsBroker(pki_.server, {"--tls_client_ca=" + pki_.ca});
  std::chrono::milliseconds took{};
  EXPECT_FALSE(TryProducer(TlsClient(pki_.ca), &took).ok()) << "no client certificate";
  EXPECT_LT(took, 5s);
  EXPECT_FALSE(TryProducer(TlsClient(pki_.ca, &pki_.other_client)).ok()) << "another CA's";
  const CmdResult refused = Ctl({"--tls_ca=" + pki_.ca, "stats"});
  EXPECT_EQ(refused.code, 2) << refused.out;

  ASSERT_OK(TryProducer(TlsClient(pki_.ca, &pki_.client)));
  EXPECT_TRUE(WaitFor([&] {
    return BrokerLog().find("verified certificate for 'tls-client'") != std::string::npos;
  })) << BrokerLog();
  ASSERT_OK(TryProducer(TlsClient(pki_.ca, &pki_.san_client)));
  EXPECT_TRUE(WaitFor([&] {
    return BrokerLog().find("verified certificate for 'san-client.test'") != std::string::npos;
  })) << "no CN: the first DNS name";
  const CmdResult ok = Ctl({"--tls_ca=" + pki_.ca, "--tls_cert=" + pki_.client.cert,
                            "--tls_key=" + pki_.client.key, "stats"});
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_FALSE(broker_->exited());
}

TEST_F(BrokerTlsTest, MetricsNeedTheBearerTokenWhenOneIsSet) {
  const std::string token_file = tmp_.File("metrics.token");
  { std::ofstream(token_file) << "s3cret-token\n"; }
  ASSERT_EQ(::chmod(token_file.c_str(), 0600), 0);
  const uint16_t port = FreePort();
  StartBroker({"--metrics_port=" + std::to_string(port), "--metrics_token_file=" + token_file});
  EXPECT_EQ(Http(port, "GET", "/metrics").status, 401);
  EXPECT_EQ(Http(port, "GET", "/metrics", "", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(Http(port, "GET", "/metrics", "", {{"Authorization", "Bearer s3cret-token!"}}).status,
            401);
  const auto ok = Http(port, "GET", "/metrics", "", {{"Authorization", "Bearer s3cret-token"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_THAT(ok.body, ::testing::HasSubstr("txmsg_connections"));
}

TEST_F(BrokerTlsTest, AWorldReadableMetricsTokenFileIsRefused) {
  const std::string token_file = tmp_.File("metrics.token");
  { std::ofstream(token_file) << "s3cret-token\n"; }
  ASSERT_EQ(::chmod(token_file.c_str(), 0644), 0);
  const CmdResult r = Sh({TXMSG_BROKER_BIN, "--data_dir=" + tmp_.File("d"), "--port=0",
                          "--metrics_port=1", "--metrics_token_file=" + token_file});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_THAT(r.out, ::testing::HasSubstr("chmod 600"));
  EXPECT_THAT(r.out, ::testing::Not(::testing::HasSubstr("s3cret")));
}

TEST_F(BrokerTlsTest, ANonLoopbackListenerNeedsTlsAndAuthOrInsecure) {
  const std::string data = "--data_dir=" + tmp_.File("d");
  CmdResult r = Sh({TXMSG_BROKER_BIN, data, "--port=0", "--bind=0.0.0.0"});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_THAT(r.out, ::testing::HasSubstr("--tls_cert FILE --tls_key FILE and --auth_file FILE"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("--insecure"));
  r = Sh({TXMSG_BROKER_BIN, data, "--port=0", "--bind=0.0.0.0", "--tls_cert=" + pki_.server.cert,
          "--tls_key=" + pki_.server.key});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_THAT(r.out, ::testing::HasSubstr("add --auth_file FILE"));
  r = Sh({TXMSG_BROKER_BIN, data, "--port=0", "--metrics_port=1", "--metrics_bind=0.0.0.0"});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_THAT(r.out, ::testing::HasSubstr("--metrics_token_file FILE"));
  r = Sh({TXMSG_BROKER_BIN, data, "--port=0", "--tls_cert=" + pki_.server.cert});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_THAT(r.out, ::testing::HasSubstr("--tls_key"));

  // --insecure: it starts (and stops at once: a real listener on every
  // interface stays short-lived).
  BrokerProcess open(tmp_.File("d"), {"--bind=0.0.0.0", "--insecure"});
  ASSERT_TRUE(open.Start());
  EXPECT_EQ(open.Terminate(), 0);
}

}  // namespace
}  // namespace txmsg::testing_broker
