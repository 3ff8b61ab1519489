// Test helper: appends records to a log in a loop from several threads and
// prints "<position> <id>" on stdout for every append the log reported
// durable. log_kill_test kills it with SIGKILL and checks the printed ones.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker/log/log.h"
#include "tests/broker/log/log_test_util.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DIR THREADS FIRST_ID\n", argv[0]);
    return 2;
  }
  txmsg::log::LogOptions options;
  options.dir = argv[1];
  options.segment_size = 16 * 1024;  // roll often: crashes land in segment creation too
  const int threads = std::atoi(argv[2]);
  const uint64_t first_id = std::strtoull(argv[3], nullptr, 10);
  auto log = txmsg::log::Log::Open(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(log.status().message()).c_str());
    return 1;
  }
  absl::Mutex out_mu;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = 0;; ++i) {
        const uint64_t id = first_id + i * threads + t;
        auto pos = (*log)->AppendAndWait(1, txmsg::log::testing::PayloadFor(id, 40 + id % 300));
        if (!pos.ok()) {
          std::fprintf(stderr, "append: %s\n", std::string(pos.status().message()).c_str());
          std::_Exit(1);
        }
        const std::string line = std::to_string(*pos) + " " + std::to_string(id) + "\n";
        absl::MutexLock lock(&out_mu);
        if (::write(STDOUT_FILENO, line.data(), line.size()) < 0) std::_Exit(1);
      }
    });
  }
  for (auto& w : workers) w.join();
}
