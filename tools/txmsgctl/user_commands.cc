#include "tools/txmsgctl/user_commands.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/password_hash.h"
#include "broker/auth/principals.h"

namespace txmsg::ctl {
namespace {

namespace auth = broker::auth;

constexpr int kOk = 0;
constexpr int kUsage = 2;

int Fail(const std::string& why) {
  std::fprintf(stderr, "txmsgctl: %s\n", why.c_str());
  return kUsage;
}

// The file's principals; an empty set if it does not exist yet.
absl::StatusOr<auth::PrincipalSet> LoadOrEmpty(const std::string& path) {
  absl::StatusOr<auth::PrincipalSet> set = auth::LoadPrincipalsFile(path);
  if (absl::IsNotFound(set.status())) return auth::PrincipalSet();
  return set;
}

absl::StatusOr<std::vector<auth::Grant>> GrantsOf(const UserOptions& o) {
  if (o.roles.empty()) {
    return absl::InvalidArgumentError("user add needs --role produce|consume|admin|admin_read");
  }
  std::vector<auth::Grant> grants;
  for (const std::string& spec : o.roles) {
    // ROLE, or ROLE:groups=..:topics=.. as in the file; --groups and
    // --topics fill in the lists a role does not give itself.
    absl::StatusOr<auth::Grant> g = auth::ParsePermission(spec);
    if (!g.ok()) return absl::InvalidArgumentError(absl::StrCat("--role: ", g.status().message()));
    if (!o.groups.empty() && !absl::StrContains(spec, ":groups=")) {
      g->groups = absl::StrSplit(o.groups, ',');
    }
    if (!o.topics.empty() && !absl::StrContains(spec, ":topics=")) {
      g->topics = absl::StrSplit(o.topics, ',');
    }
    grants.push_back(std::move(*g));
  }
  return grants;
}

int Add(const std::string& path, const std::string& name, const UserOptions& o) {
  absl::StatusOr<std::vector<auth::Grant>> grants = GrantsOf(o);
  if (!grants.ok()) return Fail(std::string(grants.status().message()));
  absl::StatusOr<auth::PrincipalSet> set = LoadOrEmpty(path);
  if (!set.ok()) return Fail(std::string(set.status().message()));
  if (absl::Status s = auth::CheckPrincipalName(name); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  const std::string secret = ReadSecret(/*from_stdin=*/true);
  if (secret.empty()) {
    return Fail("no secret: set TXMSG_SECRET or write it on standard input");
  }
  auth::Principal p;
  p.name = name;
  // The same secret keeps its hash: the broker then keeps the user's live
  // connections on reload (a new credential closes them).
  if (const auth::Principal* old = set->Find(name); old != nullptr && !old->by_certificate()) {
    absl::StatusOr<bool> same = base::VerifySecret(secret, old->credential);
    if (same.ok() && *same) p.credential = old->credential;
  }
  if (p.credential.empty()) {
    absl::StatusOr<std::string> hash = base::HashSecret(secret);
    if (!hash.ok()) return Fail(std::string(hash.status().message()));
    p.credential = std::move(*hash);
  }
  p.grants = std::move(*grants);
  const bool replaced = set->Find(name) != nullptr;
  if (absl::Status s = set->Put(std::move(p)); !s.ok()) return Fail(std::string(s.message()));
  if (absl::Status s = auth::SavePrincipalsFile(path, *set); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  std::printf("%s user %s in %s (send the broker SIGHUP to apply)\n",
              replaced ? "replaced" : "added", name.c_str(), path.c_str());
  return kOk;
}

int Remove(const std::string& path, const std::string& name) {
  absl::StatusOr<auth::PrincipalSet> set = auth::LoadPrincipalsFile(path);
  if (!set.ok()) return Fail(std::string(set.status().message()));
  if (!set->Remove(name)) return Fail(absl::StrCat("no user ", name, " in ", path));
  if (absl::Status s = auth::SavePrincipalsFile(path, *set); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  std::printf("removed user %s from %s (send the broker SIGHUP to apply)\n", name.c_str(),
              path.c_str());
  return kOk;
}

// Names, credential kinds and permissions; never a hash.
int List(const std::string& path) {
  absl::StatusOr<auth::PrincipalSet> set = auth::LoadPrincipalsFile(path);
  if (!set.ok()) return Fail(std::string(set.status().message()));
  for (const auth::Principal& p : set->principals()) {
    std::vector<std::string> grants;
    for (const auth::Grant& g : p.grants) grants.push_back(auth::DescribeGrant(g));
    const std::string kind = p.by_certificate() ? "cert" : base::HashAlgorithm(p.credential);
    std::printf("%-24s %-14s %s\n", p.name.c_str(), kind.c_str(),
                absl::StrJoin(grants, " ").c_str());
  }
  return kOk;
}

}  // namespace

std::string ReadSecret(bool from_stdin) {
  if (const char* env = std::getenv("TXMSG_SECRET"); env != nullptr && *env != '\0') return env;
  if (!from_stdin) return "";
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int RunUserCommand(const std::vector<std::string>& args, const UserOptions& o) {
  const std::string verb = args.size() > 1 ? args[1] : "";
  if (verb == "add" && args.size() == 4) return Add(args[2], args[3], o);
  if (verb == "remove" && args.size() == 4) return Remove(args[2], args[3]);
  if (verb == "list" && args.size() == 3) return List(args[2]);
  return Fail(
      "user takes: add FILE NAME --role ROLE [--groups P] [--topics P] | remove FILE NAME | "
      "list FILE (see txmsgctl --help)");
}

}  // namespace txmsg::ctl
