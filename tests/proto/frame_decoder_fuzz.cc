// libFuzzer target for the frame decoder: any bytes, split at any point,
// must give frames or a clean error - never a crash, never unbounded
// buffering. Built when the compiler is clang (see tests/CMakeLists.txt):
//   CXX=clang++ cmake -S . -B build-fuzz -G Ninja && cmake --build build-fuzz --target
//   frame_decoder_fuzz
//   ./build-fuzz/tests/frame_decoder_fuzz -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/frame_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks where to split the rest into two reads.
  const size_t split = data[0] % size;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  txmsg::proto::FrameDecoder decoder(64 * 1024);
  for (std::string_view part :
       {bytes.substr(0, split), bytes.substr(std::min(split, bytes.size()))}) {
    decoder.Feed(part);
    while (true) {
      auto next = decoder.Next();
      if (!next.ok() || !next->has_value()) break;
    }
    if (decoder.buffered() > 64 * 1024 + bytes.size()) std::abort();
  }
  return 0;
}
