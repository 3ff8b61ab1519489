// Slows down guessing: a token bucket of failed authentications per source
// address. Each source may fail `burst` times at once, then once per
// `refill_ms`; while its bucket is empty, its attempts are refused without
// being checked (so a flood cannot keep the broker hashing). Bounded: at
// most `max_sources` addresses are remembered; when full, the ones whose
// buckets have filled up again are forgotten first, then the oldest.
// Single-threaded (the broker core's thread).
#ifndef TXMSG_BROKER_AUTH_FAILURE_THROTTLE_H_
#define TXMSG_BROKER_AUTH_FAILURE_THROTTLE_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace txmsg::broker::auth {

class FailureThrottle {
 public:
  struct Options {
    uint32_t burst = 5;
    uint64_t refill_ms = 1'000;
    size_t max_sources = 10'000;
  };
  FailureThrottle() : FailureThrottle(Options{}) {}
  explicit FailureThrottle(Options options) : options_(options) {}

  // 0 if `source` may try now, else how many ms until it may.
  uint64_t WaitMs(const std::string& source, uint64_t now_ms) const;
  // A failed attempt from `source`: takes a token.
  void Failed(const std::string& source, uint64_t now_ms);
  size_t sources() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    uint64_t at_ms;  // when `tokens` was computed
  };
  double TokensAt(const Bucket& b, uint64_t now_ms) const;
  void MakeRoom(uint64_t now_ms);

  const Options options_;
  absl::flat_hash_map<std::string, Bucket> buckets_;
};

}  // namespace txmsg::broker::auth

#endif  // TXMSG_BROKER_AUTH_FAILURE_THROTTLE_H_
