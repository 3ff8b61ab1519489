#include "tools/bench/json_text.h"

#include "gtest/gtest.h"
#include "tools/bench/latency_histogram.h"

namespace txmsg::bench {
namespace {

TEST(JsonTextTest, ReadsAStringFieldWhateverTheSpacing) {
  EXPECT_EQ(JsonStringField(R"({"orderNo": "A1", "status":"CONFIRMED"})", "orderNo"), "A1");
  EXPECT_EQ(JsonStringField(R"({"orderNo": "A1", "status":"CONFIRMED"})", "status"), "CONFIRMED");
  EXPECT_EQ(JsonStringField("{\"status\" :\n \"PENDING\"}", "status"), "PENDING");
  EXPECT_EQ(JsonStringField(R"({"note": "say \"hi\" \\ now"})", "note"), R"(say "hi" \ now)");
}

TEST(JsonTextTest, AMissingOrNonStringFieldReadsEmpty) {
  EXPECT_EQ(JsonStringField(R"({"orderNo": 5})", "orderNo"), "");
  EXPECT_EQ(JsonStringField(R"({"other": "x"})", "orderNo"), "");
  // A value equal to the name is not the field.
  EXPECT_EQ(JsonStringField(R"({"a": "status", "status": "OK"})", "status"), "OK");
  EXPECT_EQ(JsonStringField(R"({"status": "unterminated)", "status"), "");
}

TEST(JsonTextTest, ReadsEveryStringFieldOfAName) {
  const std::string list =
      R"({"orders": [{"orderNo": "a", "n": 1}, {"orderNo": "b"}, {"orderNo":"c"}]})";
  EXPECT_EQ(JsonStringFields(list, "orderNo"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(JsonStringFields(R"({"orders": []})", "orderNo").empty());
}

TEST(JsonTextTest, ReadsIntegerFields) {
  const std::string json = R"({"updateTimeMs": 1712345678901, "delta": -3, "s": "x"})";
  EXPECT_EQ(JsonIntField(json, "updateTimeMs"), 1712345678901);
  EXPECT_EQ(JsonIntField(json, "delta"), -3);
  EXPECT_EQ(JsonIntField(json, "s"), std::nullopt);
  EXPECT_EQ(JsonIntField(json, "missing"), std::nullopt);
}

TEST(JsonTextTest, WritesFieldsInOrderWithEscapesAndNulls) {
  JsonObjectWriter inner;
  inner.Int("n", 2);
  JsonObjectWriter o;
  o.Str("name", "a\"b\\c\n").Int("count", -7).Num("rate", 2000.5).Num("nan", 0.0 / 0.0);
  o.Bool("ok", true).Null("none").Obj("inner", inner);
  EXPECT_EQ(o.str(), R"({"name": "a\"b\\c\u000a", "count": -7, "rate": 2000.5, "nan": null, )"
                     R"("ok": true, "none": null, "inner": {"n": 2}})");
  EXPECT_EQ(JsonObjectWriter().str(), "{}");
}

TEST(JsonTextTest, LatencyObjectHoldsThePercentiles) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(LatencyJson(h).str(),
            R"({"count": 100, "min": 1, "mean": 50.5, "p50": 50, "p90": 90, "p99": 99, )"
            R"("p999": 100, "max": 100})");
}

}  // namespace
}  // namespace txmsg::bench
