#include "base/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace txmsg {
namespace {

struct Armed {
  std::string name;
  long nth = 1;
  std::atomic<long> hits{0};
};

Armed* Parse() {
  const char* env = std::getenv("TXMSG_CRASH_AT");
  if (env == nullptr || *env == '\0') return nullptr;
  auto* a = new Armed;  // lives for the process
  const char* colon = std::strchr(env, ':');
  a->name = colon ? std::string(env, colon) : std::string(env);
  if (colon) a->nth = std::max(1L, std::strtol(colon + 1, nullptr, 10));
  return a;
}

void (*before_crash)() = nullptr;

}  // namespace

void SetBeforeCrash(void (*fn)()) { before_crash = fn; }

void CrashPoint(const char* name) {
  static Armed* const armed = Parse();
  if (armed == nullptr || armed->name != name) return;
  if (armed->hits.fetch_add(1) + 1 != armed->nth) return;
  const std::string msg = std::string("crash point ") + name + " reached: SIGKILL\n";
  (void)::write(STDERR_FILENO, msg.data(), msg.size());
  if (before_crash != nullptr) before_crash();
  ::kill(::getpid(), SIGKILL);
}

bool TestMutation(const char* name) {
  static const std::string mutations = [] {
    const char* env = std::getenv("TXMSG_TEST_MUTATION");
    return std::string(",") + (env ? env : "") + ",";
  }();
  if (mutations.size() <= 2) return false;  // none set: no string built on hot paths
  return mutations.find(std::string(",") + name + ",") != std::string::npos;
}

}  // namespace txmsg
