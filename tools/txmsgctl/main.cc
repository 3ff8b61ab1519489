// txmsgctl: the operator's CLI, over the broker's own protocol.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/time/time.h"
#include "base/flags.h"
#include "tools/txmsgctl/commands.h"
#include "tools/txmsgctl/user_commands.h"

ABSL_FLAG(std::string, broker, "127.0.0.1:9876", "broker address HOST:PORT ([IPv6]:PORT)");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA file: connect with TLS and trust the broker's certificate only if it chains "
          "to it and names the --broker host");
ABSL_FLAG(std::string, tls_cert, "", "mutual TLS: this client's PEM certificate (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "mutual TLS: the PEM private key of --tls_cert");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5),
          "give up on a connection or an answer after this long (exit 2)");
ABSL_FLAG(bool, json, false, "print one JSON document (snake_case fields) instead of a table");
ABSL_FLAG(int32_t, watch, 0, "list commands: refresh every this many seconds (0: once)");
ABSL_FLAG(std::string, group, "", "half list: only this producer group; send: producer group");
ABSL_FLAG(std::string, topic, "", "half list: only this topic");
ABSL_FLAG(std::string, state, "", "half list: pending or discarded");
ABSL_FLAG(std::string, older_than, "", "half list: only halves older than this (30s, 5m)");
ABSL_FLAG(bool, half, false, "send: store a half message and leave it pending");
ABSL_FLAG(std::string, key, "", "send: message key");
ABSL_FLAG(std::vector<std::string>, prop, {}, "send: properties k=v[,k=v...] (repeatable)");
ABSL_FLAG(std::string, user, "",
          "authenticate as this user (a broker with --auth_file); the secret is read from the "
          "environment variable TXMSG_SECRET, never from a flag");
ABSL_FLAG(std::vector<std::string>, role, {},
          "user add: produce, consume, admin or admin_read (repeat for several); a role may "
          "carry its own patterns: produce:groups=G,..:topics=T,..");
ABSL_FLAG(std::string, groups, "", "user add: group patterns, comma-separated (* wildcard)");
ABSL_FLAG(std::string, topics, "", "user add: topic patterns, comma-separated (* wildcard)");
ABSL_FLAG(int32_t, hold, 0, "send --half: stay this many seconds answering check-backs UNKNOWN");

namespace {

constexpr char kUsage[] =
    "inspects and resolves the txmsg broker's half messages, groups and DLQs.\n\n"
    "Usage: txmsgctl [--broker HOST:PORT] [--user NAME] [--timeout 5s] [--json]\n"
    "                [--tls_ca FILE [--tls_cert FILE --tls_key FILE]] COMMAND\n"
    "(with --user, the secret comes from the environment variable TXMSG_SECRET)\n\n"
    "Commands:\n"
    "  half list [--group G] [--topic T] [--state pending|discarded] [--older-than 30s]\n"
    "  half show ID\n"
    "  half commit ID | half rollback ID\n"
    "  topics | groups | stats\n"
    "  dlq list GROUP | dlq replay GROUP [ID]\n"
    "  topic delete NAME           (refused while it has open halves or connected consumers)\n"
    "  group delete GROUP TOPIC    (refused while consumers of it are connected)\n"
    "  send TOPIC BODY [--half --group G] [--key K] [--prop k=v]\n"
    "  user add FILE NAME --role produce|consume|admin|admin_read[:groups=P:topics=P] [--role "
    "...]\n"
    "           [--groups PATTERNS] [--topics PATTERNS]   (secret: TXMSG_SECRET or stdin)\n"
    "  user remove FILE NAME | user list FILE\n"
    "List commands take --watch SECONDS.\n\n"
    "Exit codes: 0 success, 1 the broker refused the request, 2 the broker cannot be\n"
    "reached or the arguments are wrong.";

// Abseil exits 1 on an unknown flag or a bad value; txmsgctl promises 2 for
// wrong arguments. Check them first, and accept --older-than for --older_than.
// Every --role given (Abseil keeps only the last occurrence of a flag).
std::vector<std::string> AllRoles(int argc, char** argv) {
  std::vector<std::string> roles;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    std::string value;
    if (arg.rfind("--role=", 0) == 0) {
      value = arg.substr(7);
    } else if (arg == "--role" && i + 1 < argc) {
      value = argv[++i];
    } else {
      continue;
    }
    roles.push_back(value);
  }
  return roles;
}

bool CheckFlags(int argc, char** argv, std::vector<std::string>* storage) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) continue;
    const size_t eq = arg.find('=');
    std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    for (char& c : name) c = c == '-' ? '_' : c;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && name.rfind("no", 0) == 0)
      flag = absl::FindCommandLineFlag(name.substr(2));
    if (flag == nullptr) {
      std::fprintf(stderr, "txmsgctl: unknown flag --%s (see txmsgctl --help)\n", name.c_str());
      return false;
    }
    storage->push_back("--" + name + (eq == std::string::npos ? "" : arg.substr(eq)));
    argv[i] = storage->back().data();
    std::string value;
    bool has_value = eq != std::string::npos;
    if (has_value) {
      value = arg.substr(eq + 1);
    } else if (!flag->IsOfType<bool>() && i + 1 < argc) {
      value = argv[++i];  // its value
      has_value = true;
    }
    // A bad value is a wrong argument too (exit 2), not Abseil's exit 1.
    std::string error;
    if (has_value && !flag->IsOfType<bool>() && !flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "txmsgctl: bad value for --%s: %s (see txmsgctl --help)\n", name.c_str(),
                   error.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  txmsg::base::HandleHelp(argc, argv, kUsage);  // --help exits 0 before the flag check
  std::vector<std::string> storage;
  storage.reserve(static_cast<size_t>(argc));
  const std::vector<std::string> roles = AllRoles(argc, argv);
  if (!CheckFlags(argc, argv, &storage)) return 2;
  const std::vector<std::string> args = txmsg::base::ParseFlags(argc, argv, kUsage);
  txmsg::ctl::CtlOptions o;
  o.broker = absl::GetFlag(FLAGS_broker);
  o.json = absl::GetFlag(FLAGS_json);
  o.watch_seconds = absl::GetFlag(FLAGS_watch);
  o.group = absl::GetFlag(FLAGS_group);
  o.topic = absl::GetFlag(FLAGS_topic);
  o.state = absl::GetFlag(FLAGS_state);
  o.older_than = absl::GetFlag(FLAGS_older_than);
  o.half = absl::GetFlag(FLAGS_half);
  o.key = absl::GetFlag(FLAGS_key);
  o.props = absl::GetFlag(FLAGS_prop);
  o.hold_seconds = absl::GetFlag(FLAGS_hold);
  o.timeout = absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_timeout));
  o.tls = {absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
           absl::GetFlag(FLAGS_tls_key)};
  if (o.tls.ca_file.empty() && !(o.tls.cert_file.empty() && o.tls.key_file.empty())) {
    std::fprintf(stderr, "txmsgctl: --tls_cert/--tls_key need --tls_ca (the broker's CA)\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_timeout) <= absl::ZeroDuration()) {
    std::fprintf(stderr, "txmsgctl: --timeout must be positive\n");
    return 2;
  }
  if (o.watch_seconds < 0 || o.hold_seconds < 0) {
    std::fprintf(stderr, "txmsgctl: --watch and --hold cannot be negative\n");
    return 2;
  }
  if (args.empty()) {
    std::fprintf(stderr, "%s\n", kUsage);
    return 2;
  }
  if (args[0] == "user") {
    txmsg::ctl::UserOptions u;
    u.roles = roles;
    u.groups = absl::GetFlag(FLAGS_groups);
    u.topics = absl::GetFlag(FLAGS_topics);
    return txmsg::ctl::RunUserCommand(args, u);
  }
  o.user = absl::GetFlag(FLAGS_user);
  if (!o.user.empty()) {
    o.secret = txmsg::ctl::ReadSecret(/*from_stdin=*/false);
    if (o.secret.empty()) {
      std::fprintf(stderr,
                   "txmsgctl: --user needs its secret in the environment variable "
                   "TXMSG_SECRET\n");
      return 2;
    }
  }
  return txmsg::ctl::RunCommand(args, o);
}
