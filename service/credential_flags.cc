#include "service/credential_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, broker_user, "",
          "authenticate to the broker as this principal (a broker with --auth_file)");
ABSL_FLAG(std::string, broker_secret_file, "",
          "file whose first line is --broker_user's secret (mode 0600; refused if group or "
          "others may read it)");
ABSL_FLAG(std::string, api_token_file, "",
          "file holding a bearer token every API request must carry (Authorization: Bearer); "
          "/healthz and /metrics stay open. Empty: the API is open");

namespace txmsg::service {

absl::StatusOr<ServiceCredentials> CredentialsFromFlags(const std::string& admin_token_file) {
  return LoadServiceCredentials(absl::GetFlag(FLAGS_broker_user),
                                absl::GetFlag(FLAGS_broker_secret_file),
                                absl::GetFlag(FLAGS_api_token_file), admin_token_file);
}

}  // namespace txmsg::service
