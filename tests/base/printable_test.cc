#include "base/printable.h"

#include "gtest/gtest.h"

namespace txmsg::base {
namespace {

TEST(PrintableTest, ControlCharactersAreEscapedEverythingElseKept) {
  EXPECT_EQ(Printable("tx_order_group"), "tx_order_group");
  EXPECT_EQ(Printable("évènement ✓"), "évènement ✓");  // UTF-8 passes through
  EXPECT_EQ(Printable("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(Printable("\x1b[2Jcleared"), "\\x1b[2Jcleared");
  EXPECT_EQ(Printable(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(Printable("del\x7f"), "del\\x7f");
  EXPECT_EQ(Printable("back\\slash"), "back\\\\slash");  // so an escape cannot be faked
}

}  // namespace
}  // namespace txmsg::base
