// CRC32C (Castagnoli), the checksum of every log record. Uses the SSE4.2
// instruction when the CPU has it, a table otherwise; both give the same
// value (crc32c("123456789") == 0xE3069283).
#ifndef TXMSG_BROKER_LOG_CRC32C_H_
#define TXMSG_BROKER_LOG_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace txmsg::log::crc32c {

// CRC of data appended to a stream whose CRC so far is `init` (0 to start).
uint32_t Extend(uint32_t init, std::string_view data);
inline uint32_t Value(std::string_view data) { return Extend(0, data); }

namespace internal {
// The table-driven path, exposed so tests can check it against the fast one.
uint32_t ExtendPortable(uint32_t init, std::string_view data);
}  // namespace internal

// A CRC stored next to the data it covers is masked, so that CRCs of data
// containing CRCs stay strong (leveldb's rotation and constant).
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace txmsg::log::crc32c

#endif  // TXMSG_BROKER_LOG_CRC32C_H_
