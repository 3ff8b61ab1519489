#include "base/secret_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace txmsg::base {

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read secret file ", path, ": ", std::strerror(errno)));
  }
  if (st.st_mode & S_IROTH) {
    return absl::PermissionDeniedError(
        absl::StrCat("secret file ", path, " is readable by every user: chmod 600 it"));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read secret file ", path));
  std::string secret = text.str();
  secret.erase(
      std::find_if(secret.rbegin(), secret.rend(),
                   [](char c) { return !absl::ascii_isspace(static_cast<unsigned char>(c)); })
          .base(),
      secret.end());
  if (secret.empty())
    return absl::InvalidArgumentError(absl::StrCat("secret file ", path, " is empty"));
  return secret;
}

bool SecretEquals(std::string_view a, std::string_view b) {
  // Every byte of the longer one is looked at whatever the contents.
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

}  // namespace txmsg::base
