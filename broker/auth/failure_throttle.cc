#include "broker/auth/failure_throttle.h"

#include <algorithm>
#include <cmath>

namespace txmsg::broker::auth {

double FailureThrottle::TokensAt(const Bucket& b, uint64_t now_ms) const {
  const uint64_t elapsed = now_ms > b.at_ms ? now_ms - b.at_ms : 0;
  return std::min<double>(options_.burst,
                          b.tokens + static_cast<double>(elapsed) / options_.refill_ms);
}

uint64_t FailureThrottle::WaitMs(const std::string& source, uint64_t now_ms) const {
  auto it = buckets_.find(source);
  if (it == buckets_.end()) return 0;
  const double tokens = TokensAt(it->second, now_ms);
  if (tokens >= 1.0) return 0;
  return static_cast<uint64_t>(std::ceil((1.0 - tokens) * options_.refill_ms));
}

void FailureThrottle::Failed(const std::string& source, uint64_t now_ms) {
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_sources) MakeRoom(now_ms);
    it = buckets_.emplace(source, Bucket{static_cast<double>(options_.burst), now_ms}).first;
  }
  Bucket& b = it->second;
  b.tokens = std::max(0.0, TokensAt(b, now_ms) - 1.0);
  b.at_ms = now_ms;
}

void FailureThrottle::MakeRoom(uint64_t now_ms) {
  // Full buckets say nothing: forget them. If none is full, forget the one
  // touched longest ago.
  absl::erase_if(buckets_,
                 [&](const auto& kv) { return TokensAt(kv.second, now_ms) >= options_.burst; });
  if (buckets_.size() < options_.max_sources) return;
  auto oldest = std::min_element(
      buckets_.begin(), buckets_.end(),
      [](const auto& a, const auto& b) { return a.second.at_ms < b.second.at_ms; });
  buckets_.erase(oldest);
}

}  // namespace txmsg::broker::auth
