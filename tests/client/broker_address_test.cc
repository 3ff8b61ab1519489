#include "txmsg/broker_address.h"

#include "gtest/gtest.h"

namespace txmsg {
namespace {

TEST(BrokerAddressTest, HostAndPortAndBracketedIpv6AreParsed) {
  absl::StatusOr<BrokerAddress> v4 = ParseBrokerAddress("127.0.0.1:9876");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9876);
  absl::StatusOr<BrokerAddress> name = ParseBrokerAddress("broker.internal:1");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->host, "broker.internal");
  absl::StatusOr<BrokerAddress> v6 = ParseBrokerAddress("[::1]:65535");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 65535);
  EXPECT_EQ(v6->ToString(), "[::1]:65535");
}

TEST(BrokerAddressTest, BadAddressesAreRefusedSayingWhyNeverGuessed) {
  for (const auto& [text, why] :
       std::vector<std::pair<std::string, std::string>>{{"127.0.0.1:99999", "1 to 65535"},
                                                        {"127.0.0.1:0", "1 to 65535"},
                                                        {"127.0.0.1:-1", "1 to 65535"},
                                                        {"127.0.0.1:80x", "1 to 65535"},
                                                        {"127.0.0.1:", "1 to 65535"},
                                                        {"127.0.0.1", "port is missing"},
                                                        {":9876", "host is missing"},
                                                        {"::1:9876", "brackets"},
                                                        {"[::1]9876", "':PORT'"},
                                                        {"[::1:9876", "']'"},
                                                        {"", "port is missing"}}) {
    absl::StatusOr<BrokerAddress> a = ParseBrokerAddress(text);
    ASSERT_FALSE(a.ok()) << text;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(a.status().message().find(why), std::string::npos) << text << ": " << a.status();
  }
}

}  // namespace
}  // namespace txmsg
