#include "tools/bench/proc_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace txmsg::bench {
namespace {

constexpr const char* kListenState = "0A";  // TCP_LISTEN in /proc/net/tcp

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Numeric entries of a /proc directory (PIDs, fds).
std::vector<std::string> NumericEntries(const std::string& dir) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  if (!d) return out;
  while (dirent* e = readdir(d.get())) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.emplace_back(e->d_name);
  }
  return out;
}

bool HasSocket(const std::string& pid, const std::vector<std::string>& links) {
  const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  char target[64];
  for (const std::string& fd : NumericEntries(fd_dir)) {
    const std::string path = absl::StrCat(fd_dir, "/", fd);
    const ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    const std::string link(target, static_cast<size_t>(n));
    for (const std::string& want : links) {
      if (link == want) return true;
    }
  }
  return false;
}

}  // namespace

std::vector<uint64_t> ListeningInodes(const std::string& proc_net_tcp, uint16_t port) {
  std::vector<uint64_t> out;
  std::istringstream lines(proc_net_tcp);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    if (!(f >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >>
          inode)) {
      continue;
    }
    const size_t colon = local.rfind(':');
    if (colon == std::string::npos || state != kListenState) continue;
    if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) != port) continue;
    uint64_t number = 0;
    if (absl::SimpleAtoi(inode, &number) && number != 0) out.push_back(number);
  }
  return out;
}

absl::StatusOr<pid_t> FindListeningPid(uint16_t port) {
  std::vector<std::string> links;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    for (uint64_t inode : ListeningInodes(ReadFile(table), port)) {
      links.push_back(absl::StrCat("socket:[", inode, "]"));
    }
  }
  if (links.empty()) return absl::NotFoundError(absl::StrCat("nothing listens on port ", port));
  for (const std::string& pid : NumericEntries("/proc")) {
    int number = 0;
    if (HasSocket(pid, links) && absl::SimpleAtoi(pid, &number)) return number;
  }
  return absl::NotFoundError(
      absl::StrCat("the process listening on port ", port, " is not visible to this user"));
}

absl::StatusOr<uint16_t> PortOf(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(host_port.substr(colon + 1), &port) ||
      port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("not HOST:PORT: '", host_port, "'"));
  }
  return static_cast<uint16_t>(port);
}

absl::StatusOr<uint64_t> CpuTicksFromStat(const std::string& stat) {
  // After "PID (comm) ": state is field 3, utime field 14, stime field 15.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return absl::InvalidArgumentError("no ')' in stat");
  std::istringstream f(stat.substr(paren + 1));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && f >> field; ++i) {
    if (i == 14 && !absl::SimpleAtoi(field, &utime)) break;
    if (i == 15 && absl::SimpleAtoi(field, &stime)) return utime + stime;
  }
  return absl::InvalidArgumentError("stat too short or not numeric");
}

absl::StatusOr<double> CpuSeconds(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  const std::string stat = ReadFile(path);
  if (stat.empty()) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  absl::StatusOr<uint64_t> ticks = CpuTicksFromStat(stat);
  if (!ticks.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", ticks.status().message()));
  return static_cast<double>(*ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string ProcessName(pid_t pid) {
  std::string comm = ReadFile(absl::StrCat("/proc/", pid, "/comm"));
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm.empty() ? "?" : comm;
}

void CpuMeter::Start() {
  for (Process& p : processes_) {
    absl::StatusOr<double> s = p.pid > 0 ? CpuSeconds(p.pid) : absl::NotFoundError("no pid");
    if (s.ok())
      p.start_s = *s;
    else
      p.pid = -1;
  }
}

void CpuMeter::Stop() {
  for (Process& p : processes_) {
    if (p.pid <= 0) continue;
    absl::StatusOr<double> s = CpuSeconds(p.pid);
    p.seconds = s.ok() ? *s - p.start_s : -1;
  }
}

}  // namespace txmsg::bench
