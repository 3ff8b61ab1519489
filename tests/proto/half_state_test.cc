#include "proto/half_state.h"

#include <string>

#include "gtest/gtest.h"

namespace txmsg::proto {
namespace {

TEST(HalfStateLabelTest, EveryStateHasTheLabelTxmsgctlPrints) {
  EXPECT_EQ(std::string(HalfStateLabel(wire::HALF_PENDING)), "pending");
  EXPECT_EQ(std::string(HalfStateLabel(wire::HALF_COMMITTED)), "committed");
  EXPECT_EQ(std::string(HalfStateLabel(wire::HALF_ROLLED_BACK)), "rolled_back");
  EXPECT_EQ(std::string(HalfStateLabel(wire::HALF_DISCARDED)), "discarded");
}

TEST(HalfStateLabelTest, AnUnspecifiedOrUnknownStateIsLabelledUnknown) {
  EXPECT_EQ(std::string(HalfStateLabel(wire::HALF_STATE_UNSPECIFIED)), "unknown");
  EXPECT_EQ(std::string(HalfStateLabel(static_cast<wire::HalfState>(99))), "unknown");
}

}  // namespace
}  // namespace txmsg::proto
