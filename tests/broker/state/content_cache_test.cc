#include "broker/state/content_cache.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace txmsg::broker {
namespace {

std::shared_ptr<const wire::MessageContent> Content(const std::string& body) {
  auto c = std::make_shared<wire::MessageContent>();
  c->set_topic("t");
  c->set_body(body);
  return c;
}

TEST(ContentCacheTest, FindsWhatWasPutUntilErased) {
  ContentCache cache(1 << 20);
  cache.Put(7, Content("seven"));
  ASSERT_NE(cache.Find(7), nullptr);
  EXPECT_EQ(cache.Find(7)->body(), "seven");
  EXPECT_EQ(cache.Find(8), nullptr);
  cache.Erase(7);
  EXPECT_EQ(cache.Find(7), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(ContentCacheTest, OldestGoFirstWhenFull) {
  const std::string body(1000, 'x');
  ContentCache cache(10 * 1200);  // room for about ten
  for (uint64_t id = 1; id <= 100; ++id) cache.Put(id, Content(body));
  EXPECT_LE(cache.bytes(), 10u * 1200);
  EXPECT_EQ(cache.Find(1), nullptr);
  ASSERT_NE(cache.Find(100), nullptr);
  EXPECT_GE(cache.size(), 5u);
}

TEST(ContentCacheTest, ZeroBytesTurnsItOff) {
  ContentCache cache(0);
  cache.Put(1, Content("a"));
  EXPECT_EQ(cache.Find(1), nullptr);
}

TEST(ContentCacheTest, ContentLargerThanTheCacheIsNotKept) {
  ContentCache cache(512);
  cache.Put(1, Content(std::string(4096, 'y')));
  EXPECT_EQ(cache.Find(1), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(ContentCacheTest, ErasedIdsDoNotPileUpBehindALongLivedEntry) {
  ContentCache cache(64 * 1024);
  cache.Put(1, Content("pinned"));
  for (uint64_t id = 2; id < 1'000'000; ++id) {
    cache.Put(id, Content("m"));
    cache.Erase(id);
  }
  // Bounded: the pinned entry may go, but the bookkeeping stays small.
  EXPECT_LE(cache.size(), 1u);
  EXPECT_LE(cache.bytes(), 64u * 1024);
}

}  // namespace
}  // namespace txmsg::broker
