#include "base/log_limiter.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/printable.h"

namespace txmsg::base {

std::string EscapeForLog(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return Printable(text);
  return Printable(text.substr(0, max_bytes)) + "...";
}

bool LogLimiter::Allow(std::string_view kind, std::chrono::steady_clock::time_point now,
                       uint64_t* suppressed) {
  absl::MutexLock lock(&mu_);
  Kind& k = kinds_[std::string(kind)];
  if (k.written && now - k.last < interval_) {
    ++k.suppressed;
    return false;
  }
  *suppressed = k.suppressed;
  k.suppressed = 0;
  k.written = true;
  k.last = now;
  return true;
}

bool LogLimiter::Log(std::string_view kind, std::string_view line) {
  uint64_t suppressed = 0;
  if (!Allow(kind, std::chrono::steady_clock::now(), &suppressed)) return false;
  std::string text(line);
  if (suppressed > 0) {
    absl::StrAppend(&text, " (", suppressed, " more like this since the last one)");
  }
  text += '\n';
  // One write per line, so lines of several threads do not interleave.
  (void)::write(STDERR_FILENO, text.data(), text.size());
  return true;
}

}  // namespace txmsg::base
