// Keeps a repeated log line from flooding the log: the first occurrence is
// written, then at most one per interval, saying how many were suppressed.
// Not thread-safe; one per call site (or per thread).
#ifndef TXMSG_BASE_LOG_THROTTLE_H_
#define TXMSG_BASE_LOG_THROTTLE_H_

#include <cstdint>

namespace txmsg::base {

class LogThrottle {
 public:
  explicit LogThrottle(uint64_t interval_ms = 5'000) : interval_ms_(interval_ms) {}

  // True if the line should be written now (`now_ms`: a monotonic clock);
  // then `suppressed` is how many were held back since the last one written.
  bool Allow(uint64_t now_ms, uint64_t* suppressed) {
    if (written_ && now_ms - last_ms_ < interval_ms_) {
      ++held_;
      return false;
    }
    written_ = true;
    last_ms_ = now_ms;
    *suppressed = held_;
    held_ = 0;
    return true;
  }

 private:
  const uint64_t interval_ms_;
  bool written_ = false;
  uint64_t last_ms_ = 0;
  uint64_t held_ = 0;
};

}  // namespace txmsg::base

#endif  // TXMSG_BASE_LOG_THROTTLE_H_
