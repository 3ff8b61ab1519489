// What the bench reads from Linux's /proc about the processes it loads: which
// process listens on a port, and how much CPU a process has used. Only for
// processes on this machine; every function fails cleanly elsewhere.
#ifndef TXMSG_TOOLS_BENCH_PROC_STATS_H_
#define TXMSG_TOOLS_BENCH_PROC_STATS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace txmsg::bench {

// Socket inodes in LISTEN state on `port`, from the text of /proc/net/tcp or
// /proc/net/tcp6 (any local address).
std::vector<uint64_t> ListeningInodes(const std::string& proc_net_tcp, uint16_t port);

// The process holding a LISTEN socket on TCP `port` (IPv4 or IPv6): the
// socket's inode from /proc/net/tcp{,6}, then the process whose /proc/PID/fd
// links to socket:[inode]. NOT_FOUND if nothing listens or the owner is not
// visible to this user (another user's process without privilege).
absl::StatusOr<pid_t> FindListeningPid(uint16_t port);

// The port of "HOST:PORT" (also "[::1]:PORT"); INVALID_ARGUMENT otherwise.
absl::StatusOr<uint16_t> PortOf(const std::string& host_port);

// utime + stime in clock ticks from the text of /proc/PID/stat (the command
// name in parentheses may itself hold spaces and parentheses).
absl::StatusOr<uint64_t> CpuTicksFromStat(const std::string& stat);

// CPU seconds (user + system) `pid` has used so far, from /proc/PID/stat.
// The kernel counts in clock ticks (usually 10 ms).
absl::StatusOr<double> CpuSeconds(pid_t pid);

// The command name from /proc/PID/comm, or "?".
std::string ProcessName(pid_t pid);

// CPU used by a few named processes between Start() and Stop().
class CpuMeter {
 public:
  struct Process {
    std::string role;  // "broker", "order", "stock"
    pid_t pid = -1;    // -1: unknown, not measured
    double start_s = 0;
    double seconds = -1;  // CPU seconds between Start and Stop; -1: not measured
  };
  void Add(std::string role, pid_t pid) { processes_.push_back({std::move(role), pid}); }
  void Start();
  void Stop();
  const std::vector<Process>& processes() const { return processes_; }

 private:
  std::vector<Process> processes_;
};

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_PROC_STATS_H_
