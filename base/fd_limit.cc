#include "base/fd_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace txmsg::base {
namespace {

// The largest RLIMIT_NOFILE the kernel accepts (fs.nr_open), 1,048,576 by
// default; used when the hard limit says "unlimited".
uint64_t KernelMaxOpen() {
  std::ifstream in("/proc/sys/fs/nr_open");
  uint64_t n = 0;
  if (in >> n && n > 0) return n;
  return 1u << 20;
}

}  // namespace

absl::StatusOr<FdLimit> CurrentFdLimit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return absl::InternalError(absl::StrCat("getrlimit(RLIMIT_NOFILE): ", std::strerror(errno)));
  }
  return FdLimit{static_cast<uint64_t>(rl.rlim_cur), static_cast<uint64_t>(rl.rlim_max)};
}

absl::StatusOr<FdLimit> RaiseFdLimit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return absl::InternalError(absl::StrCat("getrlimit(RLIMIT_NOFILE): ", std::strerror(errno)));
  }
  const rlim_t want = rl.rlim_max == RLIM_INFINITY ? KernelMaxOpen() : rl.rlim_max;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    struct rlimit raised = rl;
    raised.rlim_cur = want;
    // May fail (a container's seccomp policy, say): the old limit stays.
    (void)::setrlimit(RLIMIT_NOFILE, &raised);
  }
  return CurrentFdLimit();
}

uint64_t ConnectionCap(uint64_t wanted, uint64_t soft, uint64_t reserve) {
  const uint64_t room = soft > reserve ? soft - reserve : 1;
  return std::max<uint64_t>(1, std::min(wanted, room));
}

bool IsDescriptorExhaustion(int error_number) {
  return error_number == EMFILE || error_number == ENFILE || error_number == ENOBUFS ||
         error_number == ENOMEM;
}

}  // namespace txmsg::base
