// txmsg-log-bench: durable appends/s of the broker's log with 1, 8 and 64
// concurrent appenders, beside the raw ceiling of the same disk (one write +
// fdatasync per batch of the same size, no framing, no log).
//
// "Appenders" are appends in flight at once. In --mode=async (the default,
// how the broker uses the log) each appender issues its next append from the
// completion of the previous one; in --mode=threads each is a thread blocked
// in AppendAndWait.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "broker/log/log.h"
#include "base/flags.h"

ABSL_FLAG(std::string, dir, "./log-bench-data", "scratch directory (emptied first, removed after)");
ABSL_FLAG(double, seconds, 3.0, "duration of each measurement");
ABSL_FLAG(int, record_size, 200, "payload bytes per record");
ABSL_FLAG(std::string, appenders, "1,8,64", "comma-separated counts of concurrent appenders");
ABSL_FLAG(std::string, mode, "async", "async (completion-chained) or threads (blocking)");

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  int appenders = 0;
  double per_s = 0;
  double avg_batch = 0;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

Result RunLog(const std::string& dir, int appenders, double seconds, int size, bool async) {
  std::filesystem::remove_all(dir);
  txmsg::log::LogOptions options;
  options.dir = dir;
  auto opened = txmsg::log::Log::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), opened.status().ToString().c_str());
    std::exit(1);
  }
  txmsg::log::Log& log = **opened;
  const std::string payload(size, 'p');
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  const auto start = Clock::now();
  if (async) {
    std::atomic<int> live{appenders};
    absl::Notification all_stopped;
    struct Chain {
      txmsg::log::Log* log;
      const std::string* payload;
      std::atomic<bool>* stop;
      std::atomic<uint64_t>* done;
      std::atomic<int>* live;
      absl::Notification* all_stopped;
      void Next() {
        absl::Status s = log->Append(1, *payload, [this](absl::StatusOr<uint64_t> r) {
          if (!r.ok()) std::exit(1);
          done->fetch_add(1, std::memory_order_relaxed);
          if (stop->load(std::memory_order_relaxed)) {
            if (live->fetch_sub(1) == 1) all_stopped->Notify();
          } else {
            Next();
          }
        });
        if (!s.ok()) std::exit(1);
      }
    };
    std::vector<Chain> chains(appenders, Chain{&log, &payload, &stop, &done, &live, &all_stopped});
    for (auto& c : chains) c.Next();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    all_stopped.WaitForNotification();
  } else {
    std::vector<std::thread> threads;
    for (int t = 0; t < appenders; ++t) {
      threads.emplace_back([&] {
        while (!stop) {
          if (!log.AppendAndWait(1, payload).ok()) std::exit(1);
          done.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : threads) t.join();
  }
  const double elapsed = Seconds(Clock::now() - start);
  const auto stats = log.stats();
  opened->reset();
  std::filesystem::remove_all(dir);
  return {appenders, static_cast<double>(done) / elapsed,
          static_cast<double>(stats.appends) / static_cast<double>(stats.syncs)};
}

// One write + fdatasync per batch of `batch_bytes`, nothing else.
double RunRaw(const std::string& dir, size_t batch_bytes, double seconds) {
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/raw";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (fd < 0) {
    std::perror("open raw");
    std::exit(1);
  }
  const std::string buf(batch_bytes, 'r');
  uint64_t batches = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size()) ||
        ::fdatasync(fd) != 0) {
      std::perror("raw write");
      std::exit(1);
    }
    ++batches;
  }
  const double elapsed = Seconds(Clock::now() - start);
  ::close(fd);
  std::filesystem::remove_all(dir);
  return static_cast<double>(batches) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  txmsg::base::ParseFlags(
      argc, argv,
      "Measures durable appends/s of the txmsg log against the disk's raw write+fdatasync "
      "ceiling.\nUsage: txmsg-log-bench [--dir DIR] [--seconds S] [--appenders 1,8,64]");
  const std::string dir = absl::GetFlag(FLAGS_dir);
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const int size = absl::GetFlag(FLAGS_record_size);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "async" && mode != "threads") {
    std::fprintf(stderr, "--mode must be async or threads, not '%s'\n", mode.c_str());
    return 2;
  }
  std::vector<int> counts;
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_appenders), ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 1) {
      std::fprintf(stderr, "--appenders: '%.*s' is not a positive count\n",
                   static_cast<int>(part.size()), part.data());
      return 2;
    }
    counts.push_back(n);
  }

  std::printf("%-10s %14s %10s %16s %8s\n", "appenders", "appends/s", "avg batch", "raw ceiling/s",
              "of raw");
  std::vector<Result> results;
  for (int n : counts) {
    Result r = RunLog(dir + "/log", n, seconds, size, mode == "async");
    // The ceiling for this batch size: whole batches of the same bytes.
    const auto batch = static_cast<size_t>(r.avg_batch + 0.5);
    const double raw = RunRaw(dir + "/raw", std::max<size_t>(batch, 1) * size, seconds) *
                       static_cast<double>(std::max<size_t>(batch, 1));
    std::printf("%-10d %14.0f %10.1f %16.0f %7.0f%%\n", n, r.per_s, r.avg_batch, raw,
                100.0 * r.per_s / raw);
    std::fflush(stdout);
    results.push_back(r);
    results.back().avg_batch = raw;  // keep the ceiling for the summary
  }
  std::filesystem::remove_all(dir);
  std::printf("RESULT mode=%s record_size=%d", mode.c_str(), size);
  for (const Result& r : results) {
    std::printf(" appends_per_s_%d=%.0f ceiling_%d=%.0f", r.appenders, r.per_s, r.appenders,
                r.avg_batch);
  }
  if (results.size() > 1) {
    std::printf(" speedup_last_vs_first=%.1f", results.back().per_s / results.front().per_s);
  }
  std::printf("\n");
}
