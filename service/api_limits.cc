#include "service/api_limits.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/log_limiter.h"

namespace txmsg::service {

absl::Status CheckId(const std::string& field, int64_t id) {
  if (id >= 1 && id <= kMaxId) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be an integer from 1 to ", kMaxId, ", not ", id));
}

absl::StatusOr<int64_t> ParseId(const std::string& field, const std::string& text) {
  int64_t id = 0;
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || !absl::SimpleAtoi(text, &id)) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be an integer from 1 to ", kMaxId,
                                                   ", not '", base::EscapeForLog(text, 40), "'"));
  }
  if (absl::Status s = CheckId(field, id); !s.ok()) return s;
  return id;
}

}  // namespace txmsg::service
