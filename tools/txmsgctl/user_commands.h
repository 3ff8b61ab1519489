// txmsgctl user add|remove|list: edits a broker's principals file
// (--auth_file, docs/security.md) locally; the broker reads it again on
// SIGHUP. Secrets come from TXMSG_SECRET or standard input, never a flag.
#ifndef TXMSG_TOOLS_TXMSGCTL_USER_COMMANDS_H_
#define TXMSG_TOOLS_TXMSGCTL_USER_COMMANDS_H_

#include <string>
#include <vector>

namespace txmsg::ctl {

struct UserOptions {
  std::vector<std::string> roles;  // every --role, in order
  std::string groups;              // --groups PATTERNS (comma-separated)
  std::string topics;              // --topics PATTERNS
};

// `args` = {"user", VERB, FILE, ...}. Exit codes as for every command: 0
// done, 2 wrong arguments or an unusable file.
int RunUserCommand(const std::vector<std::string>& args, const UserOptions& options);

// The secret for --user and `user add`: TXMSG_SECRET, else (for `user add`
// only, `from_stdin`) the first line of standard input. "" if neither.
std::string ReadSecret(bool from_stdin);

}  // namespace txmsg::ctl

#endif  // TXMSG_TOOLS_TXMSGCTL_USER_COMMANDS_H_
