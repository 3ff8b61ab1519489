// Recovery: the one place that decides what a log directory's bytes mean
// after a crash.
//
// The torn-tail rule: an incomplete or invalid record at the end of the LAST
// segment, with no valid record after it, is the remains of a write that was
// never acknowledged; it is cut off (the cut bytes are kept beside the
// segment as <segment>.torn-<offset>). Any other invalid record is
// corruption: recovery fails naming the file and offset, unless `repair` is
// set, in which case the segment is cut at the bad record (bytes kept as
// <segment>.corrupt-<offset>) and recovery goes on.
#ifndef TXMSG_BROKER_LOG_RECOVERY_H_
#define TXMSG_BROKER_LOG_RECOVERY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/log/file_system.h"

namespace txmsg::log {

// Called for every valid record, in position order. An error stops recovery
// and is returned by RecoverLog.
using ReplayFn =
    std::function<absl::Status(uint64_t position, uint8_t type, std::string_view payload)>;

struct SegmentMeta {
  uint64_t base = 0;
  std::string path;
  uint64_t size = 0;  // bytes after recovery
};

struct RecoveryReport {
  std::vector<SegmentMeta> segments;  // by base, ascending
  uint64_t records = 0;
  uint64_t cut_bytes = 0;            // torn tail or repaired corruption
  std::vector<std::string> actions;  // one line per cut, for the log
};

// Name of the segment file with base `base`.
std::string SegmentFileName(uint64_t base);

// Verifies every segment in `dir`, applies the torn-tail rule, replays each
// valid record through `replay` (may be empty) and returns what is left.
[[nodiscard]] absl::StatusOr<RecoveryReport> RecoverLog(FileSystem* fs, const std::string& dir,
                                                        bool repair, const ReplayFn& replay);

}  // namespace txmsg::log

#endif  // TXMSG_BROKER_LOG_RECOVERY_H_
