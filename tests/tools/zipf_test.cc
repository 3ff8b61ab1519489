#include "tools/bench/zipf.h"

#include <map>

#include "gtest/gtest.h"

namespace txmsg::bench {
namespace {

TEST(ZipfPickerTest, RankOneIsPickedMostAndShareFallsWithRank) {
  ZipfPicker zipf(5, 1.0);
  std::mt19937_64 rng(1);
  std::map<int64_t, int> picks;
  for (int i = 0; i < 100'000; ++i) ++picks[zipf.Pick(rng)];
  ASSERT_EQ(picks.size(), 5u);
  EXPECT_EQ(picks.begin()->first, 1);
  EXPECT_EQ(picks.rbegin()->first, 5);
  for (int64_t k = 1; k < 5; ++k) EXPECT_GT(picks[k], picks[k + 1]) << k;
  // 1 / H(5) = 0.438 of the picks go to rank 1.
  EXPECT_NEAR(zipf.Probability(1), 1 / (1 + 1 / 2. + 1 / 3. + 1 / 4. + 1 / 5.), 1e-9);
  EXPECT_NEAR(picks[1] / 100'000.0, zipf.Probability(1), 0.01);
}

TEST(ZipfPickerTest, ExponentZeroIsUniform) {
  ZipfPicker zipf(4, 0.0);
  for (int64_t k = 1; k <= 4; ++k) EXPECT_NEAR(zipf.Probability(k), 0.25, 1e-9);
}

TEST(ZipfPickerTest, OneProductIsAlwaysPicked) {
  ZipfPicker zipf(1, 1.0);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(zipf.Pick(rng), 1);
}

}  // namespace
}  // namespace txmsg::bench
