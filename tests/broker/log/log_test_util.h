// Helpers shared by the log's tests.
#ifndef TXMSG_TESTS_BROKER_LOG_LOG_TEST_UTIL_H_
#define TXMSG_TESTS_BROKER_LOG_LOG_TEST_UTIL_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "broker/log/log.h"

namespace txmsg::log::testing {

// A payload whose content is determined by `id`, so a reader can tell an
// intact record from a damaged one.
inline std::string PayloadFor(uint64_t id, size_t size = 100) {
  std::string p = "rec-" + std::to_string(id) + "-";
  while (p.size() < size) p += static_cast<char>('a' + (id + p.size()) % 26);
  return p;
}

// Opens the log in `dir` and returns every record replayed during recovery.
struct Replayed {
  std::unique_ptr<Log> log;
  std::map<uint64_t, std::string> records;  // position -> payload
};
inline absl::StatusOr<Replayed> OpenAndReplay(LogOptions options) {
  Replayed out;
  options.replay = [&out](uint64_t pos, uint8_t, std::string_view payload) {
    out.records[pos] = std::string(payload);
    return absl::OkStatus();
  };
  absl::StatusOr<std::unique_ptr<Log>> log = Log::Open(std::move(options));
  if (!log.ok()) return log.status();
  out.log = std::move(*log);
  return out;
}

// Segment files of `dir`, by name.
inline std::map<std::string, uint64_t> SegmentFiles(const std::string& dir) {
  std::map<std::string, uint64_t> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") files[e.path().string()] = e.file_size();
  }
  return files;
}

}  // namespace txmsg::log::testing

#endif  // TXMSG_TESTS_BROKER_LOG_LOG_TEST_UTIL_H_
