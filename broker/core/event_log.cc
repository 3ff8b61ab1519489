#include "broker/core/event_log.h"

#include <cstdio>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace txmsg::broker {

void LogLine(std::string_view line) {
  const std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::fprintf(stderr, "%s %.*s\n", ts.c_str(), static_cast<int>(line.size()), line.data());
}

}  // namespace txmsg::broker
