// The principals of a broker: who may connect (a name and a salted slow hash
// of its secret, or a verified TLS client certificate) and what each may do.
// Read from the file named by --auth_file, written by `txmsgctl user`. The
// format (docs/security.md) is text, one principal per line:
//
//   # comment
//   NAME CREDENTIAL PERMISSION [PERMISSION...]
//
//   CREDENTIAL  pbkdf2-sha256$ITERATIONS$SALT$HASH (base/password_hash.h),
//               or `cert`: authenticated by a verified client certificate
//               whose name is NAME, never by a secret
//   PERMISSION  ROLE[:groups=PATTERNS][:topics=PATTERNS]
//   ROLE        produce | consume | admin | admin_read
//   PATTERNS    comma-separated names; `*` matches any run of characters
//               (`orders.*`, `*`); an omitted list means `*`
//
// Deny by default: a request is allowed only if one permission allows it.
// Pure data and parsing: no I/O but the two file functions; thread-compatible.
#ifndef TXMSG_BROKER_AUTH_PRINCIPALS_H_
#define TXMSG_BROKER_AUTH_PRINCIPALS_H_

#include <optional>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace txmsg::broker::auth {

enum class Role { kProduce, kConsume, kAdmin, kAdminRead };

// "produce", "consume", "admin", "admin_read".
const char* RoleName(Role role);
std::optional<Role> ParseRole(absl::string_view name);

// Whether `name` matches `pattern`, where `*` stands for any run of
// characters (none included) and everything else for itself.
bool MatchPattern(absl::string_view pattern, absl::string_view name);

struct Grant {
  Role role = Role::kAdminRead;
  std::vector<std::string> groups{"*"};  // producer or consumer groups (produce, consume)
  std::vector<std::string> topics{"*"};  // topics (produce, consume)
};

struct Principal {
  static constexpr char kCert[] = "cert";
  std::string name;
  std::string credential;  // an encoded hash, or kCert
  std::vector<Grant> grants;

  bool by_certificate() const { return credential == kCert; }
  // Whether one grant of `role` matches both names; a null name is not
  // checked (Send names no group; Hello names no topic).
  bool Allows(Role role, const std::string* group, const std::string* topic) const;
  bool MayAdmin() const { return Allows(Role::kAdmin, nullptr, nullptr); }
  bool MayAdminRead() const { return MayAdmin() || Allows(Role::kAdminRead, nullptr, nullptr); }
};

class PrincipalSet {
 public:
  // Parses the file's text. INVALID_ARGUMENT naming the line and the part
  // that is wrong (never echoing a credential).
  [[nodiscard]] static absl::StatusOr<PrincipalSet> Parse(const std::string& text);
  // The file's text, a header comment first.
  std::string Serialize() const;

  // By name, in constant time (the broker asks on every request).
  const Principal* Find(const std::string& name) const;
  // Adds `p`, or replaces the principal of that name. INVALID_ARGUMENT if
  // its name, credential or patterns would not parse back.
  [[nodiscard]] absl::Status Put(Principal p);
  // False if there was none of that name.
  bool Remove(const std::string& name);
  const std::vector<Principal>& principals() const { return principals_; }

 private:
  void Reindex();

  std::vector<Principal> principals_;                 // in file order
  absl::flat_hash_map<std::string, size_t> by_name_;  // index into principals_
};

// Checks a principal's name: 1-255 of [A-Za-z0-9._@-].
[[nodiscard]] absl::Status CheckPrincipalName(const std::string& name);
// Checks a pattern: 1-255 bytes, no whitespace, ',' or ':'.
[[nodiscard]] absl::Status CheckPattern(const std::string& pattern);
// One PERMISSION as the file writes it (ROLE[:groups=P,..][:topics=P,..]);
// INVALID_ARGUMENT naming what is wrong.
[[nodiscard]] absl::StatusOr<Grant> ParsePermission(absl::string_view text);
// "groups=a,b:topics=*" style text of a grant, for listings.
std::string DescribeGrant(const Grant& grant);

// Reads and parses the file. NOT_FOUND if it does not exist; errors name it.
[[nodiscard]] absl::StatusOr<PrincipalSet> LoadPrincipalsFile(const std::string& path);
// Writes the file with mode 0600 through a temporary file, fsync and rename.
[[nodiscard]] absl::Status SavePrincipalsFile(const std::string& path, const PrincipalSet& set);

}  // namespace txmsg::broker::auth

#endif  // TXMSG_BROKER_AUTH_PRINCIPALS_H_
