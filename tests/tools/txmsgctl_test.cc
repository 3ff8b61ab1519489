// txmsgctl, run as a user would, against a real broker holding half messages
// in every state: pending (never checked), checked, discarded, committed,
// rolled back.
#include <google/protobuf/struct.pb.h>

#include <google/protobuf/util/json_util.h>
#include <sys/wait.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/testutil/broker_process.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "txmsg/blocking_client.h"
#include "txmsg/consumer.h"
#include "txmsg/producer.h"

namespace txmsg {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;

struct CtlRun {
  int code;
  std::string out;
};

class TxmsgctlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new testing::TempDir;
    // First check after 100 ms; unanswered for 3 s more, discarded.
    broker_ = new testing::BrokerProcess(
        tmp_->File("data"), {"--tx_timeout=100ms", "--check_interval=3s", "--max_checks=1"});
    ASSERT_TRUE(broker_->Start());
    ClientOptions o;
    o.broker = broker_->address();
    unknown_ = new TransactionProducer(o, "undecided",
                                       [](const CheckRequest&) { return TxOutcome::kUnknown; });
    ASSERT_OK(unknown_->Start());
    // Discarded: checked once, then unanswered for a check interval.
    auto d = unknown_->SendHalf(Msg("will-be-discarded"), "tx-discarded");
    ASSERT_OK(d);
    discarded_ = *d;
    auto c = unknown_->ExecuteTransaction(Msg("committed"), "tx-c",
                                          [](uint64_t) { return TxOutcome::kCommit; });
    ASSERT_OK(c);
    committed_ = c->message_id;
    auto r = unknown_->ExecuteTransaction(Msg("rolled"), "tx-r",
                                          [](uint64_t) { return TxOutcome::kRollback; });
    ASSERT_OK(r);
    rolled_ = r->message_id;
    ASSERT_TRUE(WaitFor([] { return State(discarded_) == "discarded"; }, 10s));
    // Pending: its group has no live producer, so its due check counts as
    // unanswered; stored after the wait above so that it is not discarded yet.
    {
      TransactionProducer gone(o, "gone", nullptr);
      ASSERT_OK(gone.Start());
      auto p = gone.SendHalf(Msg("orphan"), "tx-orphan");
      ASSERT_OK(p);
      orphan_ = *p;
    }
    // Checked: stored after the others, checked once, not yet discarded.
    auto k = unknown_->SendHalf(Msg("{\"json\": \"ish\"}", "other_topic"), "tx-checked");
    ASSERT_OK(k);
    checked_ = *k;
    ASSERT_TRUE(WaitFor([] { return Checks(checked_) == 1; }, 5s));
  }
  static void TearDownTestSuite() {
    delete unknown_;
    delete broker_;
    delete tmp_;
  }

  static Message Msg(const std::string& body, const std::string& topic = "topic_txmsg") {
    Message m;
    m.topic = topic;
    m.body = body;
    m.key = "key-" + body.substr(0, 4);
    return m;
  }

  static CtlRun Ctl(std::vector<std::string> args, const std::string& broker = "") {
    std::vector<std::string> argv = {TXMSGCTL_BIN,
                                     "--broker=" + (broker.empty() ? broker_->address() : broker)};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::Subprocess p(argv);
    CtlRun r;
    r.out = p.ReadAll(10s);
    const int status = p.Wait();
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }
  // Like Ctl, with standard error in `out` too (where errors are printed).
  static CtlRun CtlWithErrors(const std::vector<std::string>& args, const std::string& broker) {
    std::string cmd = std::string(TXMSGCTL_BIN) + " '--broker=" + broker + "'";
    for (const std::string& a : args) cmd += " '" + a + "'";
    testing::Subprocess p({"/bin/sh", "-c", cmd + " 2>&1"});
    CtlRun r;
    r.out = p.ReadAll(10s);
    const int status = p.Wait();
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }
  static google::protobuf::Struct Json(const std::string& text) {
    google::protobuf::Struct s;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &s).ok()) << text;
    return s;
  }
  static std::string State(uint64_t id) {
    CtlRun r = Ctl({"half", "show", std::to_string(id), "--json"});
    if (r.code != 0) return "";
    return Json(r.out).fields().at("state").string_value();
  }
  static int Checks(uint64_t id) {
    CtlRun r = Ctl({"half", "show", std::to_string(id), "--json"});
    if (r.code != 0) return -1;
    return static_cast<int>(Json(r.out).fields().at("checks").number_value());
  }

  static testing::TempDir* tmp_;
  static testing::BrokerProcess* broker_;
  static TransactionProducer* unknown_;
  static uint64_t discarded_, orphan_, committed_, rolled_, checked_;
};

testing::TempDir* TxmsgctlTest::tmp_;
testing::BrokerProcess* TxmsgctlTest::broker_;
TransactionProducer* TxmsgctlTest::unknown_;
uint64_t TxmsgctlTest::discarded_, TxmsgctlTest::orphan_, TxmsgctlTest::committed_,
    TxmsgctlTest::rolled_, TxmsgctlTest::checked_;

TEST_F(TxmsgctlTest, HalfListShowsOpenHalvesOldestFirstWithTotals) {
  CtlRun r = Ctl({"half", "list"});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("ID"), std::string::npos);
  EXPECT_NE(r.out.find("NEXT_CHECK"), std::string::npos);
  EXPECT_NE(r.out.find("3 half messages: 2 pending, 1 discarded"), std::string::npos) << r.out;
  const size_t d = r.out.find("tx-discarded"), o = r.out.find("tx-orphan"),
               k = r.out.find("tx-checked");
  ASSERT_NE(d, std::string::npos);
  EXPECT_LT(d, o);
  EXPECT_LT(o, k);
  EXPECT_EQ(r.out.find("tx-c "), std::string::npos);  // settled halves are not listed
}

TEST_F(TxmsgctlTest, HalfListJsonHasTheDocumentedFieldsAndFiltersWork) {
  CtlRun r = Ctl({"half", "list", "--json"});
  ASSERT_EQ(r.code, 0);
  auto doc = Json(r.out);
  const auto& msgs = doc.fields().at("messages").list_value().values();
  ASSERT_EQ(msgs.size(), 3);
  for (const auto& m : msgs) {
    for (const char* f :
         {"id", "tx_id", "group", "topic", "age_ms", "checks", "next_check_ms", "state"}) {
      EXPECT_TRUE(m.struct_value().fields().contains(f)) << f;
    }
  }
  const auto& first = msgs[0].struct_value().fields();
  EXPECT_EQ(first.at("id").number_value(), static_cast<double>(discarded_));
  EXPECT_EQ(first.at("state").string_value(), "discarded");
  EXPECT_EQ(first.at("checks").number_value(), 1);

  auto only = [&](std::vector<std::string> filter) {
    std::vector<std::string> args = {"half", "list", "--json"};
    args.insert(args.end(), filter.begin(), filter.end());
    CtlRun f = Ctl(args);
    EXPECT_EQ(f.code, 0);
    std::vector<std::string> tx;
    const google::protobuf::Struct listed = Json(f.out);
    for (const auto& m : listed.fields().at("messages").list_value().values()) {
      tx.push_back(m.struct_value().fields().at("tx_id").string_value());
    }
    return tx;
  };
  EXPECT_EQ(only({"--state", "discarded"}), std::vector<std::string>{"tx-discarded"});
  EXPECT_EQ(only({"--state=pending"}), (std::vector<std::string>{"tx-orphan", "tx-checked"}));
  EXPECT_EQ(only({"--group", "gone"}), std::vector<std::string>{"tx-orphan"});
  EXPECT_EQ(only({"--topic", "other_topic"}), std::vector<std::string>{"tx-checked"});
  EXPECT_TRUE(only({"--older-than", "1h"}).empty());
  EXPECT_EQ(only({"--older-than", "0s"}).size(), 3u);
}

TEST_F(TxmsgctlTest, HalfShowPrintsPropertiesBodyAndCheckHistory) {
  CtlRun r = Ctl({"half", "show", std::to_string(checked_)});
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("tx-checked"), std::string::npos);
  EXPECT_NE(r.out.find("body (text"), std::string::npos);
  EXPECT_NE(r.out.find("{\"json\": \"ish\"}"), std::string::npos);
  EXPECT_NE(r.out.find("check history"), std::string::npos);
  EXPECT_NE(r.out.find("TX_UNKNOWN"), std::string::npos) << r.out;
  CtlRun c = Ctl({"half", "show", std::to_string(committed_), "--json"});
  ASSERT_EQ(c.code, 0);  // committed, not yet consumed: still retained
  EXPECT_EQ(Json(c.out).fields().at("state").string_value(), "committed");
}

TEST_F(TxmsgctlTest, BodiesAreShownAsTextJsonOrHex) {
  CtlRun bin = Ctl(
      {"send", "--half", "--group", "gone", "bin_topic", std::string("a\x01\x02z", 4), "--json"});
  ASSERT_EQ(bin.code, 0) << bin.out;
  const auto id = static_cast<uint64_t>(Json(bin.out).fields().at("id").number_value());
  CtlRun r = Ctl({"half", "show", std::to_string(id)});
  EXPECT_NE(r.out.find("body (hex"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("61 01 02 7a"), std::string::npos) << r.out;
  CtlRun rb = Ctl({"half", "rollback", std::to_string(id)});
  EXPECT_EQ(rb.code, 0);
}

TEST_F(TxmsgctlTest, CommitAndRollbackChangeDeliveryAndSettledOnesAreRefused) {
  CtlRun s1 = Ctl({"send", "--half", "--group", "gone", "resolve_topic", "to-commit", "--json"});
  CtlRun s2 = Ctl({"send", "--half", "--group", "gone", "resolve_topic", "to-roll-back", "--json"});
  ASSERT_EQ(s1.code, 0);
  ASSERT_EQ(s2.code, 0);
  const auto c = static_cast<uint64_t>(Json(s1.out).fields().at("id").number_value());
  const auto rb = static_cast<uint64_t>(Json(s2.out).fields().at("id").number_value());
  absl::Mutex mu;
  std::vector<std::string> got;
  ClientOptions o;
  o.broker = broker_->address();
  Consumer consumer({o, "resolve_topic", "resolver", 16}, [&](const Delivery& d) {
    absl::MutexLock lock(&mu);
    got.push_back(d.message.body);
    return ConsumeResult::Success();
  });
  ASSERT_OK(consumer.Start());
  EXPECT_EQ(Ctl({"half", "rollback", std::to_string(rb)}).code, 0);
  CtlRun ok = Ctl({"half", "commit", std::to_string(c)});
  EXPECT_EQ(ok.code, 0);
  EXPECT_NE(ok.out.find("committed"), std::string::npos);
  ASSERT_EQ(Ctl({"send", "resolve_topic", "marker"}).code, 0);
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&mu);
    return std::count(got.begin(), got.end(), "marker") == 1;
  }));
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(std::count(got.begin(), got.end(), "to-commit"), 1);
    EXPECT_EQ(std::count(got.begin(), got.end(), "to-roll-back"), 0);
  }
  CtlRun again = Ctl({"half", "commit", std::to_string(c)});
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.out.find("already committed"), std::string::npos) << again.out;
  EXPECT_EQ(Ctl({"half", "commit", std::to_string(rb)}).code, 1);  // conflict: refused
  EXPECT_EQ(Ctl({"half", "rollback", std::to_string(committed_)}).code, 1);
}

TEST_F(TxmsgctlTest, OtherReadCommandsAnswerInTextAndJson) {
  for (const char* cmd : {"topics", "groups", "stats"}) {
    CtlRun t = Ctl({cmd});
    EXPECT_EQ(t.code, 0) << cmd;
    CtlRun j = Ctl({cmd, "--json"});
    EXPECT_EQ(j.code, 0) << cmd;
    Json(j.out);
  }
  EXPECT_NE(Ctl({"topics"}).out.find("topic_txmsg"), std::string::npos);
  EXPECT_EQ(Json(Ctl({"stats", "--json"}).out).fields().at("pending_half").number_value(), 2);
  EXPECT_EQ(Ctl({"dlq", "list", "no-such-group"}).code, 1);
}

TEST_F(TxmsgctlTest, UnreachableBrokerBadArgumentsAndBadIdsGiveTheDocumentedExitCodes) {
  CtlRun down = Ctl({"stats"}, "127.0.0.1:1");
  EXPECT_EQ(down.code, 2);
  EXPECT_EQ(Ctl({"half", "show", "not-a-number"}).code, 2);
  EXPECT_EQ(Ctl({"half", "show"}).code, 2);
  EXPECT_EQ(Ctl({"half", "list", "--state", "sideways"}).code, 2);
  EXPECT_EQ(Ctl({"half", "list", "--older-than", "yesterday"}).code, 2);
  EXPECT_EQ(Ctl({"frobnicate"}).code, 2);
  EXPECT_EQ(Ctl({"--no-such-flag", "stats"}).code, 2);
  CtlRun help = Ctl({"half", "list", "--help"});
  EXPECT_EQ(help.code, 0);  // asking for help is not an error
  EXPECT_NE(help.out.find("--older_than"), std::string::npos) << help.out;
  EXPECT_EQ(Ctl({"half", "show", "987654321"}).code, 1);  // well-formed, unknown to the broker
  CtlRun rolled = Ctl({"half", "show", std::to_string(rolled_)});
  EXPECT_EQ(rolled.code, 1);
}

TEST_F(TxmsgctlTest, SilentServerTimesOutWithExitTwoAndBadAddressesAreRefused) {
  // A server that accepts (the kernel completes the handshake) and never answers.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const std::string silent_addr = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  const auto start = std::chrono::steady_clock::now();
  CtlRun hung = CtlWithErrors({"--timeout=300ms", "stats"}, silent_addr);
  EXPECT_EQ(hung.code, 2) << hung.out;
  EXPECT_NE(hung.out.find("within 300 ms"), std::string::npos) << hung.out;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

  for (const auto& [address, why] :
       std::vector<std::pair<std::string, std::string>>{{"127.0.0.1:99999", "1 to 65535"},
                                                        {"127.0.0.1", "port is missing"},
                                                        {"::1:9876", "brackets"},
                                                        {":9876", "host is missing"}}) {
    CtlRun r = CtlWithErrors({"stats"}, address);
    EXPECT_EQ(r.code, 2) << address << ": " << r.out;
    EXPECT_NE(r.out.find(why), std::string::npos) << address << ": " << r.out;
  }
  EXPECT_EQ(Ctl({"--timeout=soon", "stats"}).code, 2);  // a bad value is a wrong argument
  EXPECT_EQ(Ctl({"--watch=x", "stats"}).code, 2);
}

TEST_F(TxmsgctlTest, BracketedIpv6AddressReachesABrokerOnIpv6Loopback) {
  testing::TempDir dir;
  testing::BrokerProcess v6(dir.File("data"), {"--bind=::1"});
  if (!v6.Start()) GTEST_SKIP() << "no IPv6 loopback here";
  CtlRun r = Ctl({"stats"}, "[::1]:" + std::to_string(v6.port()));
  EXPECT_EQ(r.code, 0) << r.out;
}

// topic delete and group delete, on a broker of their own: usage errors exit
// 2; an unknown name, and a deletion that would lose live work (connected
// consumers, an open half), exit 1 with the broker's reason; then they delete.
TEST_F(TxmsgctlTest, TopicAndGroupDeleteRefuseLiveWorkWithTheDocumentedExitCodes) {
  testing::TempDir dir;
  testing::BrokerProcess b(dir.File("data"), {});
  ASSERT_TRUE(b.Start());
  const std::string addr = b.address();
  EXPECT_EQ(Ctl({"topic", "delete"}, addr).code, 2);
  EXPECT_EQ(Ctl({"group", "delete", "g"}, addr).code, 2);
  EXPECT_EQ(Ctl({"topic", "remove", "t"}, addr).code, 2);
  CtlRun unknown = CtlWithErrors({"topic", "delete", "nope"}, addr);
  EXPECT_EQ(unknown.code, 1) << unknown.out;
  EXPECT_NE(unknown.out.find("no topic 'nope'"), std::string::npos) << unknown.out;
  EXPECT_EQ(CtlWithErrors({"group", "delete", "g", "nope"}, addr).code, 1);

  auto connected = BlockingClient::Connect(addr, wire::ROLE_CONSUMER);
  ASSERT_OK(connected.status());
  std::unique_ptr<BlockingClient> consumer = std::move(*connected);
  wire::Frame sub;
  sub.mutable_subscribe()->set_topic("doomed");
  sub.mutable_subscribe()->set_group("g");
  sub.mutable_subscribe()->set_max_unacked(1);
  ASSERT_OK(consumer->Call(sub).status());
  ASSERT_EQ(Ctl({"send", "doomed", "owed to g"}, addr).code, 0);
  CtlRun busy_group = CtlWithErrors({"group", "delete", "g", "doomed"}, addr);
  EXPECT_EQ(busy_group.code, 1);
  EXPECT_NE(busy_group.out.find("connected consumer"), std::string::npos) << busy_group.out;
  CtlRun busy_topic = CtlWithErrors({"topic", "delete", "doomed"}, addr);
  EXPECT_EQ(busy_topic.code, 1);
  EXPECT_NE(busy_topic.out.find("connected consumers"), std::string::npos) << busy_topic.out;

  consumer.reset();  // the broker notices the close on its own time
  CtlRun deleted;
  ASSERT_TRUE(WaitFor([&] {
    deleted = Ctl({"group", "delete", "g", "doomed"}, addr);
    return deleted.code == 0;
  }));
  EXPECT_NE(deleted.out.find("deleted group g on topic doomed"), std::string::npos) << deleted.out;
  EXPECT_EQ(Ctl({"group", "delete", "g", "doomed"}, addr).code, 1);  // gone

  CtlRun half = Ctl({"send", "--half", "--group", "gone", "doomed", "undecided", "--json"}, addr);
  ASSERT_EQ(half.code, 0);
  const auto id = static_cast<uint64_t>(Json(half.out).fields().at("id").number_value());
  CtlRun open = CtlWithErrors({"topic", "delete", "doomed"}, addr);
  EXPECT_EQ(open.code, 1);
  EXPECT_NE(open.out.find("open half"), std::string::npos) << open.out;
  ASSERT_EQ(Ctl({"half", "rollback", std::to_string(id)}, addr).code, 0);
  CtlRun topic = Ctl({"topic", "delete", "doomed", "--json"}, addr);
  EXPECT_EQ(topic.code, 0) << topic.out;
  Json(topic.out);
  EXPECT_EQ(Ctl({"topics"}, addr).out.find("doomed"), std::string::npos);
  EXPECT_EQ(Ctl({"topic", "delete", "doomed"}, addr).code, 1);
  // Still deleted after a restart of the broker (the deletion is in its log).
  ASSERT_TRUE(b.Restart());
  EXPECT_EQ(Ctl({"topics"}, addr).out.find("doomed"), std::string::npos);
  EXPECT_EQ(Ctl({"topic", "delete", "doomed"}, addr).code, 1);
}

// A broker with a small frame limit answers listings in pages of a few
// entries; txmsgctl reads every page, prints them as one table or one JSON
// document, and says on stderr that it took several.
TEST_F(TxmsgctlTest, ListingsLongerThanOnePageArePrintedWhole) {
  testing::TempDir dir;
  testing::BrokerProcess small(dir.File("data"), {"--max_frame_size=4096"});
  ASSERT_TRUE(small.Start());
  auto producer = BlockingClient::Connect(small.address(), wire::ROLE_PRODUCER, "pg");
  ASSERT_OK(producer.status());
  auto consumer = BlockingClient::Connect(small.address(), wire::ROLE_CONSUMER);
  ASSERT_OK(consumer.status());
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) {
    names.push_back(absl::StrCat("topic-", i, "-", std::string(150, 'x')));
    wire::Frame sub;
    sub.mutable_subscribe()->set_group("g");
    sub.mutable_subscribe()->set_topic(names.back());
    sub.mutable_subscribe()->set_max_unacked(1);
    ASSERT_OK((*consumer)->Call(sub).status());
    wire::Frame half;
    half.mutable_send_half()->set_tx_id(absl::StrCat("tx-", i));
    half.mutable_send_half()->mutable_content()->set_topic(names.back());
    half.mutable_send_half()->mutable_content()->set_key(std::string(400, 'k'));
    ASSERT_OK((*producer)->Call(half).status());
  }
  const std::string address = small.address();
  for (const char* cmd : {"topics", "groups"}) {
    CtlRun text = CtlWithErrors({cmd}, address);
    ASSERT_EQ(text.code, 0) << text.out;
    for (const std::string& n : names) EXPECT_NE(text.out.find(n), std::string::npos) << cmd;
    EXPECT_NE(text.out.find("several pages"), std::string::npos) << text.out;
    CtlRun json = Ctl({cmd, "--json"}, address);
    ASSERT_EQ(json.code, 0) << json.out;
    const google::protobuf::Struct doc = Json(json.out);
    EXPECT_EQ(doc.fields_size(), 1) << json.out;  // the paging field is not printed
    EXPECT_EQ(doc.fields().begin()->second.list_value().values_size(), 12) << json.out;
  }
  CtlRun halves = Ctl({"half", "list", "--json"}, address);
  ASSERT_EQ(halves.code, 0) << halves.out;
  EXPECT_EQ(Json(halves.out).fields().at("messages").list_value().values_size(), 12);
  EXPECT_EQ(Json(halves.out).fields().at("total").number_value(), 12);
}

}  // namespace
}  // namespace txmsg
