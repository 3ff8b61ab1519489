#include "service/credentials.h"

#include "absl/strings/str_cat.h"
#include "base/secret_file.h"

namespace txmsg::service {
namespace {

// base::ReadSecretFile, its error naming the flag that gave the file.
absl::StatusOr<std::string> ReadSecretFile(const std::string& flag, const std::string& path) {
  absl::StatusOr<std::string> secret = base::ReadSecretFile(path);
  if (!secret.ok()) {
    return absl::Status(secret.status().code(), absl::StrCat("--", flag, ": ", secret.status().message()));
  }
  return secret;
}

}  // namespace

absl::StatusOr<ServiceCredentials> LoadServiceCredentials(const std::string& broker_user,
                                                          const std::string& broker_secret_file,
                                                          const std::string& api_token_file,
                                                          const std::string& admin_token_file) {
  ServiceCredentials c;
  if (broker_user.empty() != broker_secret_file.empty()) {
    return absl::InvalidArgumentError("--broker_user and --broker_secret_file go together");
  }
  c.broker_user = broker_user;
  struct File {
    const char* flag;
    const std::string& path;
    std::string* into;
  };
  for (const File& f : {File{"broker_secret_file", broker_secret_file, &c.broker_secret},
                        File{"api_token_file", api_token_file, &c.http.api},
                        File{"admin_token_file", admin_token_file, &c.http.admin}}) {
    if (f.path.empty()) continue;
    absl::StatusOr<std::string> secret = ReadSecretFile(f.flag, f.path);
    if (!secret.ok()) return secret.status();
    *f.into = std::move(*secret);
  }
  return c;
}

}  // namespace txmsg::service
