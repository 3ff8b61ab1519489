#include "broker/core/event_log.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace txmsg::broker {
namespace {

TEST(EventLogTest, AClientIdWithANewlineCannotForgeALogLine) {
  ::testing::internal::CaptureStderr();
  LogEvent("client connected: id=", "evil\n2026-01-01T00:00:00.000Z operator admin resolves");
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("id=evil\\n2026-01-01"), std::string::npos) << out;
}

}  // namespace
}  // namespace txmsg::broker
