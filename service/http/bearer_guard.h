// Bearer tokens on the services' HTTP API (docs/security.md): an optional
// token for the whole API (--api_token_file) and an admin token for the
// routes that change what only an operator may (--admin_token_file, PUT
// /stock/products/{id}). As HTTP means them: no token, or one that is not
// valid, is 401 with `WWW-Authenticate: Bearer`; a valid token without the
// right to the route is 403. Tokens are compared in constant time and never
// logged or echoed.
#ifndef TXMSG_SERVICE_HTTP_BEARER_GUARD_H_
#define TXMSG_SERVICE_HTTP_BEARER_GUARD_H_

#include <string>

#include "service/http/http_server.h"

namespace txmsg::http {

struct BearerTokens {
  std::string api;    // "" : the API is open (to whoever reaches the port)
  std::string admin;  // "" : admin routes are guarded by `api` only
};

enum class Access {
  kApi,    // any valid token (none needed when `api` is unset)
  kAdmin,  // the admin token (any valid token when `admin` is unset)
};

// `handler` behind the tokens' check for `access`.
Handler Guarded(BearerTokens tokens, Access access, Handler handler);

}  // namespace txmsg::http

#endif  // TXMSG_SERVICE_HTTP_BEARER_GUARD_H_
