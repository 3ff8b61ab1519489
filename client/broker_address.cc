#include "txmsg/broker_address.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace txmsg {

std::string BrokerAddress::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return absl::StrCat(v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

absl::StatusOr<BrokerAddress> ParseBrokerAddress(std::string_view text) {
  const std::string input(text);
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("broker address '", input, "' is not HOST:PORT: ", why));
  };
  BrokerAddress out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("no ']' after the IPv6 address");
    out.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return bad("no ':PORT' after ']'");
    port = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("the port is missing");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return bad("put an IPv6 address in brackets, as [::1]:9876");
    }
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) return bad("the host is missing");
  uint32_t p = 0;
  if (port.empty() ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(absl::string_view(port.data(), port.size()), &p) || p < 1 || p > 65535) {
    return bad(absl::StrCat("the port '", std::string(port), "' is not a number from 1 to 65535"));
  }
  out.port = static_cast<uint16_t>(p);
  return out;
}

}  // namespace txmsg
