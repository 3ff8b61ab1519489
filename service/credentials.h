// The secrets a service is started with, each read from a file of its own
// (never a flag: anyone can read a command line in the process list): its
// broker principal's secret, and its HTTP bearer tokens. A file that group or
// others may read is refused, so a secret is never left world-readable.
#ifndef TXMSG_SERVICE_CREDENTIALS_H_
#define TXMSG_SERVICE_CREDENTIALS_H_

#include <string>

#include "absl/status/statusor.h"
#include "service/http/bearer_guard.h"

namespace txmsg::service {

struct ServiceCredentials {
  std::string broker_user;    // "" : no authentication to the broker
  std::string broker_secret;  // its secret (never logged)
  http::BearerTokens http;    // tokens guarding the HTTP API
};

// Reads every file named (base::ReadSecretFile; an empty path: that secret
// is not used); an error names the flag and the file, never the content.
// --broker_user and --broker_secret_file go together.
[[nodiscard]] absl::StatusOr<ServiceCredentials> LoadServiceCredentials(
    const std::string& broker_user, const std::string& broker_secret_file,
    const std::string& api_token_file, const std::string& admin_token_file);

}  // namespace txmsg::service

#endif  // TXMSG_SERVICE_CREDENTIALS_H_
