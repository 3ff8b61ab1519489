#include "tools/bench/proc_stats.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "gtest/gtest.h"

namespace txmsg::bench {
namespace {

// A listening TCP socket on a free loopback port, owned by the test.
class Listener {
 public:
  explicit Listener(bool v6) : fd_(socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0)) {
    sockaddr_storage addr{};
    socklen_t len;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof(*a);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof(*a);
    }
    ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
          listen(fd_, 4) == 0 && getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                     : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return ok_; }
  uint16_t port() const { return port_; }

 private:
  int fd_;
  bool ok_ = false;
  uint16_t port_ = 0;
};

TEST(ProcStatsTest, TheOwnerOfAListeningSocketIsThisProcess) {
  Listener l(false);
  ASSERT_TRUE(l.ok());
  absl::StatusOr<pid_t> pid = FindListeningPid(l.port());
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_EQ(*pid, getpid());
}

TEST(ProcStatsTest, AnIpv6ListenerIsFoundToo) {
  Listener l(true);
  if (!l.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  absl::StatusOr<pid_t> pid = FindListeningPid(l.port());
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_EQ(*pid, getpid());
}

TEST(ProcStatsTest, APortNobodyListensOnIsNotFound) {
  uint16_t port;
  {
    Listener l(false);
    ASSERT_TRUE(l.ok());
    port = l.port();
  }
  EXPECT_EQ(FindListeningPid(port).status().code(), absl::StatusCode::kNotFound);
}

TEST(ProcStatsTest, OnlyListenStateRowsOfThePortCount) {
  const std::string table =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0   "
      "     0 4242 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0   "
      "     0 5555 1 0000000000000000 20 4 30 10 -1\n"
      "   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0   "
      "     0 6666 1 0000000000000000 100 0 0 10 0\n";
  EXPECT_EQ(ListeningInodes(table, 8080), std::vector<uint64_t>{4242});
  EXPECT_EQ(ListeningInodes(table, 8081), std::vector<uint64_t>{6666});
  EXPECT_TRUE(ListeningInodes(table, 9000).empty());
}

TEST(ProcStatsTest, PortOfParsesHostPortForms) {
  EXPECT_EQ(*PortOf("127.0.0.1:8081"), 8081);
  EXPECT_EQ(*PortOf("[::1]:19876"), 19876);
  EXPECT_FALSE(PortOf("localhost").ok());
  EXPECT_FALSE(PortOf("h:70000").ok());
}

TEST(ProcStatsTest, CpuTicksSkipACommandNameWithSpacesAndParens) {
  const std::string stat =
      "1234 (odd) name (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 "
      "250 17 0 0 20 0 3 0 100 0 0";
  absl::StatusOr<uint64_t> ticks = CpuTicksFromStat(stat);
  ASSERT_TRUE(ticks.ok()) << ticks.status();
  EXPECT_EQ(*ticks, 267u);
  EXPECT_FALSE(CpuTicksFromStat("1234 (short) S 1 2").ok());
}

TEST(ProcStatsTest, CpuSecondsOfThisProcessGrowWhenItWorks) {
  CpuMeter meter;
  meter.Add("self", getpid());
  meter.Add("nobody", -1);
  meter.Start();
  // Burn CPU until the kernel has counted a tick of it (10 ms, usually).
  const double before = *CpuSeconds(getpid());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  volatile uint64_t sink = 0;
  while (*CpuSeconds(getpid()) <= before && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 1'000'000; ++i) sink = sink + 1;
  }
  meter.Stop();
  ASSERT_EQ(meter.processes().size(), 2u);
  EXPECT_GT(meter.processes()[0].seconds, 0.0);
  EXPECT_EQ(meter.processes()[1].seconds, -1.0);
  EXPECT_NE(ProcessName(getpid()), "?");
}

}  // namespace
}  // namespace txmsg::bench
