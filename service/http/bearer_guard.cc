#include "service/http/bearer_guard.h"

#include <utility>

#include "absl/strings/match.h"
#include "base/password_hash.h"
#include "base/secret_file.h"

namespace txmsg::http {
namespace {

Response Unauthorized(const std::string& why) {
  Response r = JsonError(401, why);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"txmsg\"");
  return r;
}

// The token of an `Authorization: Bearer TOKEN` header, or "".
std::string BearerOf(const Request& req) {
  std::string value = req.Header("authorization");
  constexpr char kScheme[] = "bearer ";
  if (value.size() <= sizeof(kScheme) - 1 || !absl::StartsWithIgnoreCase(value, kScheme)) {
    return "";
  }
  return value.substr(sizeof(kScheme) - 1);
}

bool Matches(const std::string& given, const std::string& token) {
  return !token.empty() && base::SecretEquals(given, token);
}

}  // namespace

Handler Guarded(BearerTokens tokens, Access access, Handler handler) {
  const bool needs_admin = access == Access::kAdmin && !tokens.admin.empty();
  if (!needs_admin && tokens.api.empty()) return handler;  // nothing to check
  return [tokens = std::move(tokens), needs_admin, handler = std::move(handler)](
             const Request& req, Responder respond) {
    const std::string given = BearerOf(req);
    if (given.empty()) {
      return respond(Unauthorized("this API needs an Authorization: Bearer token"));
    }
    const bool admin = Matches(given, tokens.admin);
    const bool api = admin || Matches(given, tokens.api);
    if (!api) return respond(Unauthorized("the bearer token is not valid"));
    if (needs_admin && !admin) {
      return respond(JsonError(403, "this request needs the admin token"));
    }
    handler(req, std::move(respond));
  };
}

}  // namespace txmsg::http
