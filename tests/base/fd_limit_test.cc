#include "base/fd_limit.h"

#include <sys/resource.h>

#include <cerrno>

#include "gtest/gtest.h"

namespace txmsg::base {
namespace {

TEST(FdLimitTest, RaisesTheSoftLimitToTheHardLimit) {
  struct rlimit rl {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 64) GTEST_SKIP() << "hard limit too low";
  struct rlimit low = rl;
  low.rlim_cur = 32;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);

  absl::StatusOr<FdLimit> raised = RaiseFdLimit();
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_GT(raised->soft, 32u);
  if (rl.rlim_max != RLIM_INFINITY) {
    EXPECT_EQ(raised->soft, rl.rlim_max);
  }
  absl::StatusOr<FdLimit> now = CurrentFdLimit();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->soft, raised->soft);
}

TEST(FdLimitTest, RunningOutOfDescriptorsIsExhaustionOtherErrorsAreNot) {
  EXPECT_TRUE(IsDescriptorExhaustion(EMFILE));
  EXPECT_TRUE(IsDescriptorExhaustion(ENFILE));
  EXPECT_TRUE(IsDescriptorExhaustion(ENOBUFS));
  EXPECT_FALSE(IsDescriptorExhaustion(ECONNABORTED));
  EXPECT_FALSE(IsDescriptorExhaustion(EINVAL));
}

}  // namespace
}  // namespace txmsg::base
