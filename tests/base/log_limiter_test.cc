#include "base/log_limiter.h"

#include "gtest/gtest.h"

namespace txmsg::base {
namespace {

using namespace std::chrono_literals;
using Time = std::chrono::steady_clock::time_point;

TEST(EscapeForLogTest, ControlCharactersCannotForgeALine) {
  EXPECT_EQ(EscapeForLog("client\nbroker: fatal: fake"), "client\\nbroker: fatal: fake");
  EXPECT_EQ(EscapeForLog("\x1b[2Jtab\there\r"), "\\x1b[2Jtab\\there\\r");
  EXPECT_EQ(EscapeForLog(std::string("a\0b\x7f\\", 5)), "a\\x00b\\x7f\\\\");
  EXPECT_EQ(EscapeForLog("plain text, ünïcode"), "plain text, ünïcode");
}

TEST(EscapeForLogTest, LongTextIsCut) {
  EXPECT_EQ(EscapeForLog(std::string(1000, 'x'), 10), "xxxxxxxxxx...");
}

TEST(LogLimiterTest, OneLinePerKindPerIntervalAndTheRestCounted) {
  LogLimiter limiter(10s);
  const Time t0{};
  uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.Allow("poison", t0 + 1s, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Allow("poison", t0 + 2s, &suppressed));
  EXPECT_TRUE(limiter.Allow("other", t0 + 2s, &suppressed));  // kinds are independent
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(limiter.Allow("poison", t0 + 10s, &suppressed));
  EXPECT_TRUE(limiter.Allow("poison", t0 + 11s, &suppressed));
  EXPECT_EQ(suppressed, 6u);
  EXPECT_FALSE(limiter.Allow("poison", t0 + 12s, &suppressed));
}

}  // namespace
}  // namespace txmsg::base
