// txmsg-bench broker as an operator uses it to measure a restart under load:
// a kill -9 of the broker mid-run is survived (sends and commits are retried
// once it is back), nothing committed is lost, and the halves a killed
// earlier run left behind are not mistaken for this run's.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <string>

#include "gtest/gtest.h"
#include "tests/testutil/broker_process.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/subprocess.h"
#include "tests/testutil/temp_dir.h"
#include "txmsg/blocking_client.h"

namespace txmsg {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;

class BrokerBenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Quick check-backs, so that halves whose EndTx was lost are settled fast.
    broker_ = std::make_unique<testing::BrokerProcess>(
        tmp_.File("data"),
        std::vector<std::string>{"--tx_timeout=500ms", "--check_interval=500ms"});
    ASSERT_TRUE(broker_->Start());
  }
  std::unique_ptr<testing::Subprocess> Bench(int messages, const std::string& topic) {
    return std::make_unique<testing::Subprocess>(std::vector<std::string>{
        TXMSG_BENCH_BIN, "broker", "--broker=" + broker_->address(),
        "--messages=" + std::to_string(messages), "--topic=" + topic, "--idle_timeout_s=60"});
  }
  uint64_t Acked() {
    auto admin = BlockingClient::Connect(broker_->address());
    if (!admin.ok()) return 0;
    wire::Frame f;
    f.mutable_stats();
    auto r = (*admin)->Call(f);
    return r.ok() ? r->stats_ok().acked() : 0;
  }
  // The RESULT line's value of `key` ("lost", ...), or -1.
  static long long Result(const std::string& out, const std::string& key) {
    const size_t line = out.find("RESULT ");
    if (line == std::string::npos) return -1;
    const size_t at = out.find(" " + key + "=", line);
    if (at == std::string::npos) return -1;
    return std::stoll(out.substr(at + key.size() + 2));
  }

  testing::TempDir tmp_;
  std::unique_ptr<testing::BrokerProcess> broker_;
};

TEST_F(BrokerBenchTest, KillOfTheBrokerMidRunIsSurvivedAndNothingCommittedIsLost) {
  auto bench = Bench(20'000, "bench-kill");
  ASSERT_TRUE(WaitFor([&] { return Acked() > 2'000; }, 60s));
  ASSERT_TRUE(broker_->Restart());  // kill -9, then the same port again
  const std::string out = bench->ReadAll(120s);
  const int status = bench->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_EQ(Result(out, "lost"), 0) << out;
  EXPECT_EQ(Result(out, "unexpected_checks"), 0) << out;
}

TEST_F(BrokerBenchTest, LeftoversOfAKilledRunAreNotCountedAsTheNextRunsChecks) {
  {
    auto killed = Bench(200'000, "bench-shared");
    ASSERT_TRUE(WaitFor([&] { return Acked() > 1'000; }, 60s));
    killed->Signal(SIGKILL);  // leaves halves in flight, never ended
    killed->Wait();
  }
  auto next = Bench(5'000, "bench-shared");
  const std::string out = next->ReadAll(120s);
  const int status = next->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_EQ(Result(out, "lost"), 0) << out;
  EXPECT_EQ(Result(out, "unexpected_checks"), 0) << out;
}

}  // namespace
}  // namespace txmsg
