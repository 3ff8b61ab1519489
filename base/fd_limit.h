// The process's descriptor limit. Every server raises its soft limit to the
// hard one at start (the common default soft limit of 1,024 is far below
// what a busy listener needs), and treats running out of descriptors as a
// reason to wait, not to spin: accept() failing with EMFILE leaves the
// connection in the backlog, so an accept loop that retries at once burns a
// core and writes the same error forever.
#ifndef TXMSG_BASE_FD_LIMIT_H_
#define TXMSG_BASE_FD_LIMIT_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace txmsg::base {

struct FdLimit {
  uint64_t soft = 0;  // what the process may open now
  uint64_t hard = 0;  // what it may raise `soft` to
};

// Raises the soft RLIMIT_NOFILE to the hard limit (or to what the kernel
// allows, fs.nr_open, when the hard limit is unlimited). Returns the limits
// in force afterwards; an error only if the limits cannot be read. Call once
// at start, before any thread opens descriptors. Not thread-safe.
[[nodiscard]] absl::StatusOr<FdLimit> RaiseFdLimit();

// The limits in force now.
[[nodiscard]] absl::StatusOr<FdLimit> CurrentFdLimit();

// How many connections a server can hold with `soft` descriptors while
// keeping `reserve` of them for everything else (log segments, listening
// sockets, stdio): min(wanted, soft - reserve), at least 1.
uint64_t ConnectionCap(uint64_t wanted, uint64_t soft, uint64_t reserve);

// True for an accept() (or socket/open) error that means "out of
// descriptors or kernel memory, try again later" (EMFILE, ENFILE, ENOBUFS,
// ENOMEM): the caller should pause before the next attempt.
bool IsDescriptorExhaustion(int error_number);

}  // namespace txmsg::base

#endif  // TXMSG_BASE_FD_LIMIT_H_
