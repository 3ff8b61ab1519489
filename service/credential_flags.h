// The flags both services take for their secrets (--broker_user,
// --broker_secret_file, --api_token_file), defined once here; a service with
// admin routes adds its own --admin_token_file.
#ifndef TXMSG_SERVICE_CREDENTIAL_FLAGS_H_
#define TXMSG_SERVICE_CREDENTIAL_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "service/credentials.h"

namespace txmsg::service {

// Reads the files the flags name (see LoadServiceCredentials), and
// `admin_token_file` ("" : none). Call after the flags are parsed.
[[nodiscard]] absl::StatusOr<ServiceCredentials> CredentialsFromFlags(
    const std::string& admin_token_file = "");

}  // namespace txmsg::service

#endif  // TXMSG_SERVICE_CREDENTIAL_FLAGS_H_
