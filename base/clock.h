// The two clocks txmsg reads. Wall time is for what people see and for
// timestamps that outlive the process (store and commit times in the log);
// monotonic time is for intervals and deadlines, which must not jump when
// someone sets the system clock.
#ifndef TXMSG_BASE_CLOCK_H_
#define TXMSG_BASE_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace txmsg::base {

// Milliseconds since the Unix epoch.
inline uint64_t WallMillis() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Milliseconds since an arbitrary fixed point (boot); only differences mean anything.
inline uint64_t MonotonicMillis() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace txmsg::base

#endif  // TXMSG_BASE_CLOCK_H_
