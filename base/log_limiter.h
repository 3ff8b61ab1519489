// Log lines that cannot flood or forge: a line of one kind is written at
// most once per interval (the rest are counted and the count reported with
// the next line written), and text that came from outside (message bodies,
// client ids, request paths) has its control characters escaped, so a
// newline in it cannot start a fake line and an escape sequence cannot
// repaint a terminal.
#ifndef TXMSG_BASE_LOG_LIMITER_H_
#define TXMSG_BASE_LOG_LIMITER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace txmsg::base {

// `text` with bytes below 0x20, 0x7f and the backslash written as \n, \r,
// \t, \\ or \xNN; at most `max_bytes` of it (then "..."), so a 4 MiB body
// does not become a 4 MiB log line.
std::string EscapeForLog(std::string_view text, size_t max_bytes = 256);

// Thread-safe.
class LogLimiter {
 public:
  explicit LogLimiter(std::chrono::milliseconds interval = std::chrono::seconds(10))
      : interval_(interval) {}
  LogLimiter(const LogLimiter&) = delete;
  LogLimiter& operator=(const LogLimiter&) = delete;

  // Writes `line` (plus a newline) to stderr unless a line of `kind` was
  // written less than the interval ago; then it only counts it. A line
  // written after suppressed ones says how many were suppressed. Returns
  // whether it wrote. `line` is written as given: escape outside text first.
  bool Log(std::string_view kind, std::string_view line);

  // The decision alone (for tests and for callers with their own sink):
  // true if a line of `kind` may be written at `now`; `*suppressed` gets the
  // number of lines of that kind held back since the last one written.
  bool Allow(std::string_view kind, std::chrono::steady_clock::time_point now,
             uint64_t* suppressed);

 private:
  struct Kind {
    std::chrono::steady_clock::time_point last{};
    bool written = false;
    uint64_t suppressed = 0;
  };
  const std::chrono::milliseconds interval_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Kind> kinds_ ABSL_GUARDED_BY(mu_);
};

}  // namespace txmsg::base

#endif  // TXMSG_BASE_LOG_LIMITER_H_
