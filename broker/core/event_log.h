// One line per notable event on stderr, with a UTC timestamp:
//   2026-11-24T20:41:07.123Z check-back sent: id=4096 group=tx_order_group ...
// Control characters in a line (a client id with a newline, say) are
// escaped, so a client cannot forge or split log lines.
#ifndef TXMSG_BROKER_CORE_EVENT_LOG_H_
#define TXMSG_BROKER_CORE_EVENT_LOG_H_

#include <string_view>

#include "absl/strings/str_cat.h"

namespace txmsg::broker {

void LogLine(std::string_view line);

template <typename... Args>
void LogEvent(const Args&... args) {
  LogLine(absl::StrCat(args...));
}

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_CORE_EVENT_LOG_H_
