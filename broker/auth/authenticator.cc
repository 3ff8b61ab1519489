#include "broker/auth/authenticator.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/password_hash.h"
#include "base/secret_file.h"
#include "base/printable.h"

namespace txmsg::broker::auth {
namespace {

// Hashed once, so that an unknown user costs as much time as a known one
// and the answer's delay does not say which names exist.
const std::string& DecoyHash() {
  static const std::string* decoy = [] {
    absl::StatusOr<std::string> h = base::HashSecret("txmsg-decoy-secret");
    return new std::string(h.ok() ? *h : "");
  }();
  return *decoy;
}

// The one key of the broker-wide budget of slow hashes.
constexpr char kEveryone[] = "*";

}  // namespace

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::FromFile(
    std::string path, FailureThrottle::Options throttle) {
  absl::StatusOr<PrincipalSet> set = LoadPrincipalsFile(path);
  if (!set.ok()) return set.status();
  auto auth = std::make_unique<Authenticator>(std::move(*set), throttle);
  auth->path_ = std::move(path);
  return auth;
}

Authenticator::Authenticator(PrincipalSet principals, FailureThrottle::Options throttle)
    : principals_(std::move(principals)), throttle_(throttle) {}

absl::Status Authenticator::Reload() {
  if (path_.empty()) return absl::FailedPreconditionError("no principals file to reload");
  absl::StatusOr<PrincipalSet> set = LoadPrincipalsFile(path_);
  if (!set.ok()) return set.status();
  Replace(std::move(*set));
  return absl::OkStatus();
}

void Authenticator::Replace(PrincipalSet principals) {
  principals_ = std::move(principals);
  verified_.clear();
}

bool Authenticator::RememberedSecret(const Principal& p, const std::string& secret) const {
  auto it = verified_.find(p.name);
  return it != verified_.end() &&
         base::SecretEquals(it->second, base::Sha256(absl::StrCat(
                                                  p.credential, std::string(1, '\0'), secret)));
}

bool Authenticator::SlowSecretMatches(const Principal& p, const std::string& secret) {
  absl::StatusOr<bool> ok = base::VerifySecret(secret, p.credential);
  if (!ok.ok() || !*ok) return false;
  verified_[p.name] = base::Sha256(absl::StrCat(p.credential, std::string(1, '\0'), secret));
  return true;
}

uint64_t Authenticator::SlowBudgetWaitMs(uint64_t now_ms) const {
  return slow_failures_.WaitMs(kEveryone, now_ms);
}

absl::Status Authenticator::Fail(const std::string& source, uint64_t now_ms, std::string why) {
  ++failures_;
  throttle_.Failed(source, now_ms);
  return absl::UnauthenticatedError(std::move(why));
}

absl::StatusOr<std::string> Authenticator::Authenticate(const std::string& user,
                                                        const std::string& secret,
                                                        const std::string& verified_peer_name,
                                                        const std::string& source,
                                                        uint64_t now_ms) {
  if (const uint64_t wait = throttle_.WaitMs(source, now_ms); wait > 0) {
    ++failures_;
    return absl::UnauthenticatedError(
        absl::StrCat("too many failed authentications from ", source, "; retry in ", wait, " ms"));
  }
  const std::string& name = user.empty() ? verified_peer_name : user;
  if (name.empty()) {
    return Fail(source, now_ms,
                "this broker requires authentication: Hello must name a user (and its secret)");
  }
  const std::string refused = absl::StrCat("Hello as user \"", base::Printable(name),
                                           "\" refused: unknown user or wrong secret");
  const Principal* p = principals_.Find(name);
  if (p != nullptr && p->by_certificate()) {
    if (!verified_peer_name.empty() && verified_peer_name == p->name) return p->name;
    return Fail(source, now_ms, refused);
  }
  if (secret.empty()) return Fail(source, now_ms, refused);
  if (p != nullptr && RememberedSecret(*p, secret)) return p->name;
  // A slow hash from here on (a decoy one for an unknown user, so that the
  // delay does not tell which names exist).
  if (const uint64_t wait = SlowBudgetWaitMs(now_ms); wait > 0) {
    ++failures_;
    return absl::UnauthenticatedError(absl::StrCat(
        "too many failed authentications on this broker; retry in ", wait, " ms"));
  }
  if (p == nullptr) {
    (void)base::VerifySecret(secret, DecoyHash());
  } else if (SlowSecretMatches(*p, secret)) {
    return p->name;
  }
  slow_failures_.Failed(kEveryone, now_ms);
  return Fail(source, now_ms, refused);
}

}  // namespace txmsg::broker::auth
