// The live progress of a run on stderr, once a second: one line each time,
// or, when stderr is a terminal, a progress bar redrawn in place.
#ifndef TXMSG_TOOLS_BENCH_PROGRESS_H_
#define TXMSG_TOOLS_BENCH_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

namespace txmsg::bench {

class ProgressLine {
 public:
  // `total`: the work of the whole run (messages, orders), for the bar. Draws
  // the bar if `out` is a terminal.
  explicit ProgressLine(uint64_t total, FILE* out = stderr);
  ~ProgressLine() { Finish(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Shows `done` of the total after `elapsed_s`, with the figures in `text`.
  void Show(double elapsed_s, uint64_t done, const std::string& text);
  // A line of its own (a warning, a phase change), kept above the bar.
  void Note(const std::string& line);
  // Ends the bar's line, if one is drawn.
  void Finish();

 private:
  FILE* out_;
  const uint64_t total_;
  const bool terminal_;
  bool bar_drawn_ = false;
};

// "[#######.............]  35%" for `done` of `total` in `width` cells.
std::string ProgressBar(uint64_t done, uint64_t total, int width);

// A duration in microseconds for people: "850us", "1.25ms", "3.20s".
std::string HumanMicros(int64_t us);

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_PROGRESS_H_
