// Where a broker is: "HOST:PORT", with IPv6 hosts in brackets ("[::1]:9876").
#ifndef TXMSG_CLIENT_INCLUDE_TXMSG_BROKER_ADDRESS_H_
#define TXMSG_CLIENT_INCLUDE_TXMSG_BROKER_ADDRESS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace txmsg {

struct BrokerAddress {
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  uint16_t port = 0;
  // Back in the HOST:PORT form (brackets around an IPv6 address).
  std::string ToString() const;
};

// Parses HOST:PORT. INVALID_ARGUMENT, naming the input and what is wrong,
// for a missing or empty host or port, a port that is not 1-65535, or an
// IPv6 address without brackets; never guesses a default.
absl::StatusOr<BrokerAddress> ParseBrokerAddress(std::string_view text);

}  // namespace txmsg

#endif  // TXMSG_CLIENT_INCLUDE_TXMSG_BROKER_ADDRESS_H_
