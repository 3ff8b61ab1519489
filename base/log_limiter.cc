#include "base/log_limiter.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace txmsg::base {

std::string EscapeForLog(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 8);
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == max_bytes) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += absl::StrFormat("\\x%02x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
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
