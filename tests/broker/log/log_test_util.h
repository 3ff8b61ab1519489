// Helpers shared by the log's tests.
#ifndef TXMSG_TESTS_BROKER_LOG_LOG_TEST_UTIL_H_
#define TXMSG_TESTS_BROKER_LOG_LOG_TEST_UTIL_H_

#include <cstdint>
#include <filesystem>
#include <fstream>
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

// Flips one bit of the byte at `offset` in the file at `path`.
inline void FlipBit(const std::string& path, uint64_t offset, int bit = 3) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.get(c);
  c ^= static_cast<char>(1 << bit);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(c);
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
