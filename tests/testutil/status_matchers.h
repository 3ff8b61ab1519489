// ASSERT_OK / EXPECT_OK / ASSERT_OK_AND_ASSIGN for absl::Status and StatusOr.
#ifndef TXMSG_TESTS_TESTUTIL_STATUS_MATCHERS_H_
#define TXMSG_TESTS_TESTUTIL_STATUS_MATCHERS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace txmsg::testing {
inline const absl::Status& ToStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace txmsg::testing

#define TXMSG_CONCAT_INNER(a, b) a##b
#define TXMSG_CONCAT(a, b) TXMSG_CONCAT_INNER(a, b)

#define ASSERT_OK(expr) \
  ASSERT_TRUE(::txmsg::testing::ToStatus(expr).ok()) << ::txmsg::testing::ToStatus(expr)
#define EXPECT_OK(expr) \
  EXPECT_TRUE(::txmsg::testing::ToStatus(expr).ok()) << ::txmsg::testing::ToStatus(expr)

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(TXMSG_CONCAT(status_or_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  ASSERT_TRUE(tmp.ok()) << tmp.status();          \
  lhs = std::move(*tmp)

#endif  // TXMSG_TESTS_TESTUTIL_STATUS_MATCHERS_H_
