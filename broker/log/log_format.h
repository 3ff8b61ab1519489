// The on-disk format of the broker's log, in one place (docs/log_format.md
// says the same in prose).
//
// The log is a sequence of segment files in one directory, each named by its
// base position as 20 decimal digits plus ".log". A segment starts with a
// 16-byte header, then holds whole records back to back:
//
//   segment header: magic "TXMLOG01" (8 bytes) | base position (uint64 LE)
//   record:         masked crc32c (uint32 LE) | length (uint32 LE) | type (1 byte) | payload
//
// The CRC covers the length, the type and the payload, and is masked as
// leveldb masks it (a CRC of data that embeds CRCs is then not trivially
// zero). A record's position is the segment's base plus the record's byte
// offset in the file; positions only grow, so they name records for ever and
// serve as message ids. Type 0 never appears in a valid record (a run of
// zeros is garbage, not data).
#ifndef TXMSG_BROKER_LOG_LOG_FORMAT_H_
#define TXMSG_BROKER_LOG_LOG_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace txmsg::log {

inline constexpr std::string_view kSegmentMagic = "TXMLOG01";
inline constexpr size_t kSegmentHeaderSize = 16;
inline constexpr size_t kRecordHeaderSize = 9;  // crc(4) + length(4) + type(1)
inline constexpr uint8_t kInvalidRecordType = 0;
// Largest payload a record may carry; also bounds what recovery will believe
// a length field says.
inline constexpr uint32_t kMaxRecordPayload = 64u << 20;
inline constexpr std::string_view kSegmentSuffix = ".log";
// The file whose lock says which process owns the directory (its pid inside).
inline constexpr char kLockFileName[] = "LOCK";
inline constexpr size_t kSegmentNameDigits = 20;

}  // namespace txmsg::log

#endif  // TXMSG_BROKER_LOG_LOG_FORMAT_H_
