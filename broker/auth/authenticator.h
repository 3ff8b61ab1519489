// Who is on the other end of a connection: checks a Hello's user and secret
// (or a TLS-verified certificate name) against the principals file, and
// throttles sources that keep failing. Messages of the errors it returns are
// fit to send to the client and to log: they never hold the secret, and they
// say the same for an unknown user and a wrong secret.
//
// A verified secret is remembered (as a SHA-256 of the stored hash and the
// secret, in memory only) so that a reconnecting client does not cost the
// broker another slow hash; the memory is dropped on every reload.
// Single-threaded: the broker core's thread.
#ifndef TXMSG_BROKER_AUTH_AUTHENTICATOR_H_
#define TXMSG_BROKER_AUTH_AUTHENTICATOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "broker/auth/failure_throttle.h"
#include "broker/auth/principals.h"

namespace txmsg::broker::auth {

class Authenticator {
 public:
  // Reads the principals from `path`; the error names the file and line.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Authenticator>> FromFile(
      std::string path, FailureThrottle::Options throttle = {});
  explicit Authenticator(PrincipalSet principals, FailureThrottle::Options throttle = {});

  // Reads the file again. On any error the principals stay as they were.
  [[nodiscard]] absl::Status Reload();
  // Replaces the principals (tests, and Reload).
  void Replace(PrincipalSet principals);

  // The principal named `user`, or, when `user` is empty, the one named
  // `verified_peer_name` (the name in a client certificate the TLS layer
  // verified; "" without one). A principal marked `cert` is accepted only
  // by that name, never by a secret; any other needs its secret. Returns
  // the principal's name, or UNAUTHENTICATED. `source` is the client's
  // address (throttling is per address).
  [[nodiscard]] absl::StatusOr<std::string> Authenticate(const std::string& user,
                                                         const std::string& secret,
                                                         const std::string& verified_peer_name,
                                                         const std::string& source,
                                                         uint64_t now_ms);

  const Principal* Find(const std::string& name) const { return principals_.Find(name); }
  const std::string& path() const { return path_; }
  // Failed attempts since start (refused by the throttle included).
  uint64_t failures() const { return failures_; }
  size_t principal_count() const { return principals_.principals().size(); }

 private:
  // The secret is the one last verified for `p` (no slow hash).
  bool RememberedSecret(const Principal& p, const std::string& secret) const;
  // Checks with the slow hash, remembering the secret if it matches.
  bool SlowSecretMatches(const Principal& p, const std::string& secret);
  // 0 if the broker-wide budget allows another slow hash that may fail now.
  uint64_t SlowBudgetWaitMs(uint64_t now_ms) const;
  absl::Status Fail(const std::string& source, uint64_t now_ms, std::string why);

  std::string path_;
  PrincipalSet principals_;
  FailureThrottle throttle_;
  // Broker-wide: failed checks that cost a slow hash (about 0.2 s of the
  // core thread each). Throttling per source alone would let many source
  // addresses keep the broker hashing; past this budget, checks that would
  // need a slow hash are refused at once until it refills. Secrets already
  // verified (reconnecting clients) never need one.
  FailureThrottle slow_failures_{FailureThrottle::Options{10, 1'000, 1}};
  uint64_t failures_ = 0;
  // Principal name -> SHA-256(credential, secret) of the last secret that
  // verified.
  absl::flat_hash_map<std::string, std::string> verified_;
};

}  // namespace txmsg::broker::auth

#endif  // TXMSG_BROKER_AUTH_AUTHENTICATOR_H_
