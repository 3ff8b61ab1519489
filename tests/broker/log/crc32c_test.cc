#include "broker/log/crc32c.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace txmsg::log::crc32c {
namespace {

TEST(Crc32cTest, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(internal::ExtendPortable(0, "123456789"), 0xE3069283u);
  EXPECT_EQ(Value(""), 0u);
  EXPECT_EQ(Value(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4
}

TEST(Crc32cTest, FastAndPortablePathsAgreeOnRandomData) {
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string data(rng() % 300, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    EXPECT_EQ(Value(data), internal::ExtendPortable(0, data)) << "size " << data.size();
  }
}

TEST(Crc32cTest, ExtendEqualsValueOfTheConcatenation) {
  EXPECT_EQ(Extend(Value("hello "), "world"), Value("hello world"));
  EXPECT_EQ(internal::ExtendPortable(Value("hello "), "world"), Value("hello world"));
}

TEST(Crc32cTest, MaskChangesTheValueAndUnmaskRestoresIt) {
  const uint32_t crc = Value("foo");
  EXPECT_NE(Mask(crc), crc);
  EXPECT_NE(Mask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Unmask(Mask(Mask(crc)))), crc);
}

}  // namespace
}  // namespace txmsg::log::crc32c
