// Limits of the services' HTTP APIs, checked in one place so that every way
// in (an HTTP body, a path, a command-line flag) refuses the same values.
// docs/http_api.md lists them.
#ifndef TXMSG_SERVICE_API_LIMITS_H_
#define TXMSG_SERVICE_API_LIMITS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace txmsg::service {

// Ids (productId) are 1 .. 2^53-1, what a JSON number carries exactly: a
// larger id would come back rounded to a JavaScript client (and to any
// parser that reads numbers as doubles), which could then not find what it
// just wrote. Larger ids are refused with 400, not rounded.
inline constexpr int64_t kMaxId = (int64_t{1} << 53) - 1;

// OK if 1 <= id <= kMaxId; otherwise INVALID_ARGUMENT naming `field`.
[[nodiscard]] absl::Status CheckId(const std::string& field, int64_t id);
// A decimal id as text (a path segment, a flag value), checked as above.
[[nodiscard]] absl::StatusOr<int64_t> ParseId(const std::string& field, const std::string& text);

}  // namespace txmsg::service

#endif  // TXMSG_SERVICE_API_LIMITS_H_
