#include "broker/auth/principals.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/password_hash.h"

namespace txmsg::broker::auth {
namespace {

constexpr size_t kMaxName = 255;
constexpr size_t kMaxFileBytes = 16u << 20;

absl::StatusOr<std::vector<std::string>> ParsePatterns(absl::string_view list) {
  std::vector<std::string> out = absl::StrSplit(list, ',');
  for (const std::string& p : out) {
    if (absl::Status s = CheckPattern(p); !s.ok()) return s;
  }
  return out;
}

absl::Status CheckCredential(const std::string& credential) {
  if (credential == Principal::kCert) return absl::OkStatus();
  return base::CheckEncodedHash(credential);
}

std::string Errno(const std::string& what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

}  // namespace

absl::StatusOr<Grant> ParsePermission(absl::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, ':');
  std::optional<Role> role = ParseRole(parts[0]);
  if (!role) {
    return absl::InvalidArgumentError(absl::StrCat("unknown role '", parts[0].substr(0, 32),
                                                   "' (produce, consume, admin, admin_read)"));
  }
  Grant g;
  g.role = *role;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::vector<std::string>* target = nullptr;
    absl::string_view value;
    if (absl::ConsumePrefix(&(value = parts[i]), "groups=")) {
      target = &g.groups;
    } else if (absl::ConsumePrefix(&(value = parts[i]), "topics=")) {
      target = &g.topics;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("after the role expected groups=PATTERNS or topics=PATTERNS in '",
                       token.substr(0, 64), "'"));
    }
    absl::StatusOr<std::vector<std::string>> patterns = ParsePatterns(value);
    if (!patterns.ok()) return patterns.status();
    *target = std::move(*patterns);
  }
  return g;
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kProduce:
      return "produce";
    case Role::kConsume:
      return "consume";
    case Role::kAdmin:
      return "admin";
    case Role::kAdminRead:
      return "admin_read";
  }
  return "?";
}

std::optional<Role> ParseRole(absl::string_view name) {
  for (Role r : {Role::kProduce, Role::kConsume, Role::kAdmin, Role::kAdminRead}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

bool MatchPattern(absl::string_view pattern, absl::string_view name) {
  // Greedy glob with one backtrack point (the last `*`): linear enough for
  // names of at most 255 bytes.
  size_t p = 0, n = 0;
  size_t star = absl::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool Principal::Allows(Role role, const std::string* group, const std::string* topic) const {
  auto any = [](const std::vector<std::string>& patterns, const std::string* name) {
    if (name == nullptr) return true;
    for (const std::string& p : patterns) {
      if (MatchPattern(p, *name)) return true;
    }
    return false;
  };
  for (const Grant& g : grants) {
    if (g.role == role && any(g.groups, group) && any(g.topics, topic)) return true;
  }
  return false;
}

absl::Status CheckPrincipalName(const std::string& name) {
  if (name.empty() || name.size() > kMaxName) {
    return absl::InvalidArgumentError("a user name has 1-255 characters");
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
        c != '@') {
      return absl::InvalidArgumentError("a user name may hold only letters, digits and . _ - @");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPattern(const std::string& pattern) {
  if (pattern.empty() || pattern.size() > kMaxName) {
    return absl::InvalidArgumentError("a pattern has 1-255 characters");
  }
  for (char c : pattern) {
    if (c == ',' || c == ':' || absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pattern '", pattern.substr(0, 64), "' holds a space, a control character, ',' or ':'"));
    }
  }
  return absl::OkStatus();
}

std::string DescribeGrant(const Grant& g) {
  if (g.role == Role::kAdmin || g.role == Role::kAdminRead) return RoleName(g.role);
  return absl::StrCat(RoleName(g.role), ":groups=", absl::StrJoin(g.groups, ","),
                      ":topics=", absl::StrJoin(g.topics, ","));
}

absl::StatusOr<PrincipalSet> PrincipalSet::Parse(const std::string& text) {
  PrincipalSet set;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](const absl::Status& why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": ", why.message()));
    };
    if (fields.size() < 3) {
      return bad(absl::InvalidArgumentError("expected NAME CREDENTIAL PERMISSION [PERMISSION...]"));
    }
    Principal p;
    p.name = fields[0];
    p.credential = fields[1];
    if (absl::Status s = CheckPrincipalName(p.name); !s.ok()) return bad(s);
    if (absl::Status s = CheckCredential(p.credential); !s.ok()) return bad(s);
    for (size_t i = 2; i < fields.size(); ++i) {
      absl::StatusOr<Grant> g = ParsePermission(fields[i]);
      if (!g.ok()) return bad(g.status());
      p.grants.push_back(std::move(*g));
    }
    if (set.Find(p.name) != nullptr) {
      return bad(absl::InvalidArgumentError(absl::StrCat("user '", p.name, "' appears twice")));
    }
    set.by_name_[p.name] = set.principals_.size();
    set.principals_.push_back(std::move(p));
  }
  return set;
}

std::string PrincipalSet::Serialize() const {
  std::string out =
      "# txmsg principals (see docs/security.md); written by `txmsgctl user`.\n"
      "# NAME CREDENTIAL ROLE[:groups=PATTERNS][:topics=PATTERNS] ...\n";
  for (const Principal& p : principals_) {
    absl::StrAppend(&out, p.name, " ", p.credential);
    for (const Grant& g : p.grants) absl::StrAppend(&out, " ", DescribeGrant(g));
    out += "\n";
  }
  return out;
}

const Principal* PrincipalSet::Find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &principals_[it->second];
}

void PrincipalSet::Reindex() {
  by_name_.clear();
  for (size_t i = 0; i < principals_.size(); ++i) by_name_[principals_[i].name] = i;
}

absl::Status PrincipalSet::Put(Principal p) {
  if (absl::Status s = CheckPrincipalName(p.name); !s.ok()) return s;
  if (absl::Status s = CheckCredential(p.credential); !s.ok()) return s;
  if (p.grants.empty()) return absl::InvalidArgumentError("a user needs at least one role");
  for (const Grant& g : p.grants) {
    for (const auto* list : {&g.groups, &g.topics}) {
      for (const std::string& pattern : *list) {
        if (absl::Status s = CheckPattern(pattern); !s.ok()) return s;
      }
    }
  }
  if (auto it = by_name_.find(p.name); it != by_name_.end()) {
    principals_[it->second] = std::move(p);
    return absl::OkStatus();
  }
  by_name_[p.name] = principals_.size();
  principals_.push_back(std::move(p));
  return absl::OkStatus();
}

bool PrincipalSet::Remove(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return false;
  principals_.erase(principals_.begin() + static_cast<std::ptrdiff_t>(it->second));
  Reindex();
  return true;
}

absl::StatusOr<PrincipalSet> LoadPrincipalsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no file ", path));
    return absl::FailedPreconditionError(Errno("cannot read", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is larger than 16 MiB"));
  }
  absl::StatusOr<PrincipalSet> set = PrincipalSet::Parse(text.str());
  if (!set.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", set.status().message()));
  return set;
}

absl::Status SavePrincipalsFile(const std::string& path, const PrincipalSet& set) {
  const std::string tmp = path + ".tmp";
  const std::string text = set.Serialize();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::FailedPreconditionError(Errno("cannot create", tmp));
  ::fchmod(fd, 0600);  // also when the temporary file already existed
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = Errno("cannot write", path);
    ::unlink(tmp.c_str());
    return absl::FailedPreconditionError(why);
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

}  // namespace txmsg::broker::auth
