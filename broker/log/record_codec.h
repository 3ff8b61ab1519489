// Encoding and parsing of one log record (layout in log_format.h).
#ifndef TXMSG_BROKER_LOG_RECORD_CODEC_H_
#define TXMSG_BROKER_LOG_RECORD_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace txmsg::log {

// Appends the framed record to `*out`. The caller has checked that the
// payload is at most kMaxRecordPayload and the type is not 0.
void EncodeRecord(uint8_t type, std::string_view payload, std::string* out);

// What ParseRecord found at the start of a buffer.
struct ParsedRecord {
  enum class Kind {
    kRecord,      // a whole, valid record
    kIncomplete,  // the buffer ends inside the record (header or body)
    kCorrupt,     // the bytes cannot be a valid record
  };
  Kind kind = Kind::kIncomplete;
  uint8_t type = 0;
  std::string_view payload;  // points into the parsed buffer
  size_t size = 0;           // header + payload, when kind == kRecord
  const char* reason = "";   // why, when kind == kCorrupt
};

// Parses the record at the start of `buf`; `buf` holds every byte available
// from there (to the end of the file, for a file).
ParsedRecord ParseRecord(std::string_view buf);

// Segment header helpers.
std::string EncodeSegmentHeader(uint64_t base);
// True if `header` (at least kSegmentHeaderSize bytes) is a valid header
// for a segment of base `base`.
bool SegmentHeaderMatches(std::string_view header, uint64_t base);

}  // namespace txmsg::log

#endif  // TXMSG_BROKER_LOG_RECORD_CODEC_H_
