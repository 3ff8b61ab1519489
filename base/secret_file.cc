#include "base/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace txmsg::base {
namespace {

constexpr size_t kMaxSecretBytes = 4096;

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  auto fail = [&](const std::string& why) {
    return absl::FailedPreconditionError(absl::StrCat("secret file ", path, ": ", why));
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
    return fail(absl::StrFormat("group or others may read it (mode %04o): chmod 600 it",
                                st.st_mode & 07777));
  }
  std::string text(kMaxSecretBytes + 1, '\0');
  const ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n < 0) return fail(std::strerror(errno));
  text.resize(static_cast<size_t>(n));
  if (text.size() > kMaxSecretBytes) return fail("larger than 4 KiB");
  text.resize(std::min(text.size(), text.find('\n')));
  while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.back()))) {
    text.pop_back();
  }
  if (text.empty()) return fail("empty (the secret is its first line)");
  return text;
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
