#include "tools/bench/progress.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_format.h"

namespace txmsg::bench {

ProgressLine::ProgressLine(uint64_t total, FILE* out)
    : out_(out), total_(total), terminal_(isatty(fileno(out)) == 1) {}

void ProgressLine::Show(double elapsed_s, uint64_t done, const std::string& text) {
  if (terminal_) {
    // \r and "erase to end of line" redraw the bar in place.
    absl::FPrintF(out_, "\r\033[K%s %5.1fs %s", ProgressBar(done, total_, 24), elapsed_s, text);
    bar_drawn_ = true;
  } else {
    absl::FPrintF(out_, "  %5.1fs %s\n", elapsed_s, text);
  }
  std::fflush(out_);
}

void ProgressLine::Note(const std::string& line) {
  if (bar_drawn_) absl::FPrintF(out_, "\r\033[K");
  absl::FPrintF(out_, "  %s\n", line);
  bar_drawn_ = false;
  std::fflush(out_);
}

void ProgressLine::Finish() {
  if (!bar_drawn_) return;
  absl::FPrintF(out_, "\n");
  std::fflush(out_);
  bar_drawn_ = false;
}

std::string ProgressBar(uint64_t done, uint64_t total, int width) {
  const double share = total == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / total);
  const int filled = static_cast<int>(share * width);
  return absl::StrFormat("[%s%s] %3d%%", std::string(filled, '#'), std::string(width - filled, '.'),
                         static_cast<int>(share * 100));
}

std::string HumanMicros(int64_t us) {
  if (us < 1000) return absl::StrFormat("%dus", us);
  if (us < 1'000'000) return absl::StrFormat("%.2fms", us / 1e3);
  return absl::StrFormat("%.2fs", us / 1e6);
}

}  // namespace txmsg::bench
