// File descriptors: how many a process may open, and how a server should
// behave when they run out. Every connection costs one; the broker's log
// must always be able to open its next segment.
#ifndef TXMSG_BASE_FD_LIMIT_H_
#define TXMSG_BASE_FD_LIMIT_H_

#include <cstdint>
#include <string>

namespace txmsg::base {

struct FdLimit {
  uint64_t soft = 0;  // in force after the call
  uint64_t hard = 0;
  bool raised = false;  // the soft limit was raised
};

// Raises the soft RLIMIT_NOFILE to the hard limit (the most an unprivileged
// process may), capped at `ceiling`, and returns the limits now in force.
FdLimit RaiseFdLimit(uint64_t ceiling = 1u << 20);

// How many connections a server can hold with `soft` descriptors while
// keeping `reserve` of them for everything else (log segments, listening
// sockets, stdio): min(wanted, soft - reserve), at least 1.
uint64_t ConnectionCap(uint64_t wanted, uint64_t soft, uint64_t reserve);

// True for accept() errors that mean "out of descriptors or memory for
// now" (EMFILE, ENFILE, ENOBUFS, ENOMEM): back off and retry, never spin.
bool IsResourceExhaustion(int error);

}  // namespace txmsg::base

#endif  // TXMSG_BASE_FD_LIMIT_H_
