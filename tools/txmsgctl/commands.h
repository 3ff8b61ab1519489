// txmsgctl's commands. Exit codes: 0 success; 1 the broker refused the
// request (its reason is printed); 2 the broker cannot be reached or the
// arguments are wrong (what was tried is printed).
#ifndef TXMSG_TOOLS_TXMSGCTL_COMMANDS_H_
#define TXMSG_TOOLS_TXMSGCTL_COMMANDS_H_

#include <chrono>
#include <string>
#include <vector>

#include "txmsg/types.h"

namespace txmsg::ctl {

struct CtlOptions {
  std::string broker = "127.0.0.1:9876";
  bool json = false;
  int watch_seconds = 0;
  std::string group;
  std::string topic;
  std::string state;
  std::string older_than;
  bool half = false;
  std::string key;
  std::vector<std::string> props;
  int hold_seconds = 0;
  // Every connection attempt and every answer is waited for this long at most.
  std::chrono::milliseconds timeout{5000};
  // TLS to the broker (--tls_ca, --tls_cert, --tls_key); off without a CA.
  TlsOptions tls;
  // --user, and its secret from TXMSG_SECRET (a broker with --auth_file).
  std::string user;
  std::string secret;
};

// `args` are the positional arguments: {"half", "list"}, {"send", TOPIC, BODY}, ...
int RunCommand(const std::vector<std::string>& args, const CtlOptions& options);

}  // namespace txmsg::ctl

#endif  // TXMSG_TOOLS_TXMSGCTL_COMMANDS_H_
