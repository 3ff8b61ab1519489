// Named crash points for fault-injection tests. With the environment
// variable TXMSG_CRASH_AT=name[:nth] set, the nth time (default 1st) the
// process reaches CrashPoint("name") it dies on the spot with SIGKILL: no
// destructors, no flush, as a power cut or OOM kill would leave it.
// Without the variable a crash point costs one relaxed load.
#ifndef TXMSG_CLIENT_CRASH_POINT_H_
#define TXMSG_CLIENT_CRASH_POINT_H_

namespace txmsg {

void CrashPoint(const char* name);

}  // namespace txmsg

#endif  // TXMSG_CLIENT_CRASH_POINT_H_
