#include "base/fd_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>

namespace txmsg::base {

FdLimit RaiseFdLimit(uint64_t ceiling) {
  FdLimit out;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return out;
  out.soft = rl.rlim_cur;
  out.hard = rl.rlim_max;
  const rlim_t target = std::min<rlim_t>(rl.rlim_max, ceiling);
  if (rl.rlim_cur < target) {
    rl.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &rl) == 0) {
      out.soft = target;
      out.raised = true;
    }
  }
  return out;
}

uint64_t ConnectionCap(uint64_t wanted, uint64_t soft, uint64_t reserve) {
  const uint64_t room = soft > reserve ? soft - reserve : 1;
  return std::max<uint64_t>(1, std::min(wanted, room));
}

bool IsResourceExhaustion(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace txmsg::base
