// Secrets kept in files (bearer tokens, broker secrets): read without ever echoing them,
// compared in constant time.
#ifndef TXMSG_BASE_SECRET_FILE_H_
#define TXMSG_BASE_SECRET_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace txmsg::base {

// The secret in `path`: its first line without trailing whitespace (a final
// newline from an editor is not part of it). Fails, naming the file but
// never its content, when it cannot be read, is not a regular file, is
// larger than 4 KiB, is empty, or its mode lets group or others in (the
// message says: chmod 600 it). The one reader of every secret file: bearer
// tokens, the services' broker secrets.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

// a == b, in time that depends on their lengths only (not on where they
// first differ), so a guesser learns nothing from how long a refusal takes.
bool SecretEquals(std::string_view a, std::string_view b);

}  // namespace txmsg::base

#endif  // TXMSG_BASE_SECRET_FILE_H_
