#include "proto/json/proto_json.h"

#include <google/protobuf/util/json_util.h>

#include "gtest/gtest.h"
#include "proto/json/flat_request.h"
#include "proto/json/json_writer.h"
#include "txmsg/http_api.pb.h"

namespace txmsg::json {
namespace {

namespace pb = google::protobuf;

// Valid JSON (and so valid UTF-8) by protobuf's own parser.
bool IsValidJson(const std::string& text) {
  pb::Value v;
  return pb::util::JsonStringToMessage(text, &v).ok();
}

TEST(ProtoJsonTest, FieldsComeInDeclarationOrderEveryTime) {
  api::OrderView o;
  o.set_order_no("o-1");
  o.set_tx_no("t-1");
  o.set_product_id(3);
  o.set_pay_count(2);
  o.set_status("PENDING");
  o.set_create_time_ms(5);
  o.set_update_time_ms(6);
  const std::string expected =
      "{\"orderNo\":\"o-1\",\"txNo\":\"t-1\",\"productId\":3,\"payCount\":2,\"status\":"
      "\"PENDING\",\"reason\":\"\",\"createTimeMs\":5,\"updateTimeMs\":6}";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ToJson(o, Names::kCamel), expected);
  EXPECT_EQ(Object({{"status", "ok"}, {"broker", "connected"}, {"database", "ok"}}),
            "{\"status\":\"ok\",\"broker\":\"connected\",\"database\":\"ok\"}");
}

TEST(ProtoJsonTest, StructKeysAreSortedSoComposedDocumentsAreStableToo) {
  pb::Value v;
  auto& f = *v.mutable_struct_value()->mutable_fields();
  for (const char* k : {"zeta", "alpha", "mid", "beta", "omega", "gamma"})
    f[k].set_bool_value(true);
  EXPECT_EQ(
      Print(v, /*pretty=*/false),
      "{\"alpha\":true,\"beta\":true,\"gamma\":true,\"mid\":true,\"omega\":true,\"zeta\":true}");
  pb::Value one;
  (*one.mutable_struct_value()->mutable_fields())["a"].set_number_value(1);
  EXPECT_EQ(Print(one, /*pretty=*/true), "{\n \"a\": 1\n}");
}

TEST(ProtoJsonTest, SixtyFourBitIntegersPrintExactly) {
  api::ProductView v;
  v.set_product_id(9007199254740993);  // 2^53 + 1: a double rounds it
  v.set_total_count(INT64_MAX);
  EXPECT_EQ(ToJson(v, Names::kCamel),
            "{\"productId\":9007199254740993,\"totalCount\":9223372036854775807}");
}

TEST(ProtoJsonTest, InvalidUtf8AndControlCharactersStillMakeValidJson) {
  const std::string nasty =
      std::string("bad \xff\xfe utf8 \xc3(, \"quoted\" \\ \n\x01 end") + "\xe2\x82" /* truncated */;
  const std::string text = Object({{"error", nasty}});
  EXPECT_TRUE(IsValidJson(text)) << text;
  EXPECT_NE(text.find("\\u0001"), std::string::npos);
  EXPECT_NE(text.find("\xef\xbf\xbd"), std::string::npos);                       // U+FFFD
  EXPECT_EQ(Quote("héllo €"), "\"héllo €\"");                                    // valid UTF-8 kept
  EXPECT_EQ(Quote("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");  // a surrogate
}

TEST(ProtoJsonTest, ParseRequestRequiresEveryFieldAndRefusesUnknownOnes) {
  struct Case {
    std::string body;
    std::string error;  // "" = accepted
  };
  const std::vector<Case> cases = {
      {"{\"totalCount\": 500}", ""},
      {"{\"total_count\": 500}", ""},
      {"{\"totalcount\": 500}", "did you mean \"totalCount\""},
      {"{\"totalCount\": 5, \"extra\": 1}", "unknown field \"extra\""},
      {"{}", "missing required field totalCount"},
      {"{\"totalCount\": null}", "missing required field totalCount"},
      {"null", "must be a JSON object"},
      {"[500]", "must be a JSON object"},
      {"500", "must be a JSON object"},
      {"not json", "not valid JSON"},
      {"{\"totalCount\": \"many\"}", "invalid value \"many\""},
  };
  for (const Case& c : cases) {
    api::SetStockRequest req;
    absl::Status s = ParseRequest(c.body, &req);
    if (c.error.empty()) {
      EXPECT_TRUE(s.ok()) << c.body << ": " << s;
      EXPECT_EQ(req.total_count(), 500);
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.body;
      EXPECT_NE(s.message().find(c.error), absl::string_view::npos) << c.body << ": " << s;
    }
  }
}

TEST(ProtoJsonTest, ParseRequestKeepsLargeIntegersExact) {
  api::SubmitOrderRequest req;
  ASSERT_TRUE(ParseRequest("{\"productId\": 9007199254740993, \"payCount\": 1}", &req).ok());
  EXPECT_EQ(req.product_id(), 9007199254740993);
}

// The fast path (flat_request.h) takes a body only where protobuf's own
// strict parser gives the same message; everything else goes the general way.
TEST(ProtoJsonTest, FastPathAgreesWithProtobufOrDeclines) {
  const std::vector<std::pair<std::string, bool>> bodies = {  // body, fast path takes it
      {R"({"productId": 7, "payCount": 2})", true},
      {R"({"product_id":7,"pay_count":2})", true},
      {" \t\r\n{ \"payCount\" : -3 , \"productId\" : 0 } \n", true},
      {R"({"productId": 9223372036854775807, "payCount": 2147483647})", true},
      {R"({"productId": -9223372036854775808, "payCount": -2147483648})", true},
      {R"({"productId": 9223372036854775808, "payCount": 1})", false},  // out of range
      {R"({"productId": 7, "payCount": 2147483648})", false},
      {R"({"productId": 7.0, "payCount": 2})", false},
      {R"({"productId": 7e0, "payCount": 2})", false},
      {R"({"productId": 07, "payCount": 2})", false},
      {R"({"productId": "7", "payCount": 2})", false},
      {R"({"productId": 7, "payCount": 2, "productId": 8})", false},  // duplicate
      {R"({"productId": 7})", false},                                 // missing
      {R"({"productId": 7, "payCount": null})", false},
      {R"({"productId": 7, "payCount": 2, "x": 1})", false},
      {R"({"productId": 7, "payCount": 2,})", false},
      {R"({"productId": 7, "payCount": 2} x)", false},
      {R"({"productId": 7 "payCount": 2})", false},
      {R"({"productId": [7], "payCount": 2})", false},
      {R"({"productId": {}, "payCount": 2})", false},
      {R"({"product\u0049d": 7, "payCount": 2})", false},
      {"{\"productId\": 7, \"payCount\": 2", false},
      {"", false},
  };
  for (const auto& [body, fast] : bodies) {
    api::SubmitOrderRequest via_fast;
    const bool took = internal::ParseFlatRequest(body, &via_fast);
    EXPECT_EQ(took, fast) << body;
    if (!took) {
      EXPECT_EQ(via_fast.ByteSizeLong(), 0u) << body;  // left cleared
      continue;
    }
    api::SubmitOrderRequest via_protobuf;
    pb::util::JsonParseOptions strict;
    ASSERT_TRUE(pb::util::JsonStringToMessage(body, &via_protobuf, strict).ok()) << body;
    EXPECT_EQ(via_fast.SerializeAsString(), via_protobuf.SerializeAsString()) << body;
  }
  // Through ParseRequest, the declined ones keep their precise errors.
  api::SubmitOrderRequest req;
  EXPECT_NE(ParseRequest(R"({"productId": 7})", &req).message().find("missing required field"),
            absl::string_view::npos);
}

TEST(JsonWriterTest, PrettyOutputNestsWithOneSpacePerLevel) {
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Key("list");
  w.BeginArray();
  w.Int(1);
  w.Double(2.5);
  w.EndArray();
  w.Key("empty");
  w.BeginObject();
  w.EndObject();
  w.EndObject();
  EXPECT_EQ(w.text(), "{\n \"list\": [\n  1,\n  2.5\n ],\n \"empty\": {}\n}");
}

}  // namespace
}  // namespace txmsg::json
