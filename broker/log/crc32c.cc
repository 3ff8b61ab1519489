#include "broker/log/crc32c.h"

#include <cstring>

#include <boost/crc.hpp>

namespace txmsg::log::crc32c {
namespace {

using PortableCrc = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t init, std::string_view data) {
  uint64_t crc = init ^ 0xFFFFFFFFu;
  const char* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    crc = __builtin_ia32_crc32di(crc, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(crc);
  while (n > 0) {
    c32 = __builtin_ia32_crc32qi(c32, static_cast<unsigned char>(*p));
    ++p;
    --n;
  }
  return c32 ^ 0xFFFFFFFFu;
}

bool HasSse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

namespace internal {
uint32_t ExtendPortable(uint32_t init, std::string_view data) {
  // Resume from `init`: undo the final xor, and hand Boost the remainder
  // unreflected, as its constructor expects for a reflected CRC.
  uint32_t rem = init ^ 0xFFFFFFFFu;
  uint32_t unreflected = 0;
  for (int i = 0; i < 32; ++i, rem >>= 1) unreflected = (unreflected << 1) | (rem & 1);
  PortableCrc crc(unreflected);
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}
}  // namespace internal

uint32_t Extend(uint32_t init, std::string_view data) {
#if defined(__x86_64__)
  if (HasSse42()) return ExtendSse42(init, data);
#endif
  return internal::ExtendPortable(init, data);
}

}  // namespace txmsg::log::crc32c
