#include "service/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace txmsg::service {
namespace {

constexpr size_t kMaxSecretBytes = 4096;

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& flag, const std::string& path) {
  auto fail = [&](const std::string& why) {
    return absl::FailedPreconditionError(absl::StrCat("--", flag, " ", path, ": ", why));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    return fail(absl::StrFormat(
        "group or others may read it (mode %04o); a secret's file must be mode 0600: chmod 600 %s",
        st.st_mode & 07777, path));
  }
  std::string text(kMaxSecretBytes + 1, '\0');
  const ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n < 0) return fail(std::strerror(errno));
  text.resize(static_cast<size_t>(n));
  if (text.size() > kMaxSecretBytes) return fail("larger than 4 KiB");
  text = text.substr(0, text.find('\n'));
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return fail("empty (the secret is its first line)");
  return text;
}

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
