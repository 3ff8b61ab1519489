// Sequential reading of one segment file, record by record, in bounded
// memory (a chunked buffer, grown only for a record larger than a chunk).
// Used by recovery and by Log::Scan.
#ifndef TXMSG_BROKER_LOG_SEGMENT_READER_H_
#define TXMSG_BROKER_LOG_SEGMENT_READER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "broker/log/file_system.h"

namespace txmsg::log {

struct SegmentItem {
  enum class Kind {
    kRecord,   // a valid record at `offset`
    kEnd,      // clean end: `offset` is the end of the last record
    kTorn,     // an incomplete record starts at `offset` and runs past the end
    kCorrupt,  // an invalid record starts at `offset`; `reason` says why
  };
  Kind kind = Kind::kEnd;
  uint64_t offset = 0;
  uint8_t type = 0;
  std::string_view payload;  // valid until the next call to Next
  const char* reason = "";
};

class SegmentReader {
 public:
  // Reads `file` from byte `start` to byte `end`. `file` must outlive this.
  SegmentReader(const RandomAccessFile* file, uint64_t start, uint64_t end);
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  // The next item. After kEnd, kTorn or kCorrupt, returns the same again.
  [[nodiscard]] absl::StatusOr<SegmentItem> Next();

 private:
  // Makes at least `want` bytes available at buffer position pos_ (fewer
  // only at `end_`).
  [[nodiscard]] absl::Status Fill(size_t want);

  const RandomAccessFile* const file_;
  const uint64_t end_;
  uint64_t buffer_offset_;  // file offset of buffer_[0]
  std::string buffer_;
  size_t pos_ = 0;
  bool done_ = false;
  SegmentItem last_;
};

}  // namespace txmsg::log

#endif  // TXMSG_BROKER_LOG_SEGMENT_READER_H_
