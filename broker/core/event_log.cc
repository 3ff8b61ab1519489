#include "broker/core/event_log.h"

#include <cstdio>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/printable.h"

namespace txmsg::broker {

void LogLine(std::string_view line) {
  const std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  // Names and ids in a line come from clients: one line stays one line.
  const std::string safe = base::Printable(line);
  std::fprintf(stderr, "%s %s\n", ts.c_str(), safe.c_str());
}

}  // namespace txmsg::broker
