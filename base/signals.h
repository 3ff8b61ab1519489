// Blocks SIGINT and SIGTERM in every thread started afterwards, then waits
// for one on the calling thread. For the services' main(): call Block()
// first thing, start everything, then Wait().
#ifndef TXMSG_BASE_SIGNALS_H_
#define TXMSG_BASE_SIGNALS_H_

#include <signal.h>

namespace txmsg::base {

inline sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

inline void BlockStopSignals() {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// Returns the signal received.
inline int WaitForStopSignal() {
  sigset_t set = StopSignals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace txmsg::base

#endif  // TXMSG_BASE_SIGNALS_H_
