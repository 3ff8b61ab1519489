// Named crash points for fault-injection tests. With the environment
// variable TXMSG_CRASH_AT=name[:nth] set, the nth time (default 1st) the
// process reaches CrashPoint("name") it dies on the spot with SIGKILL: no
// destructors, no flush, as a power cut or OOM kill would leave it.
// Without the variable a crash point costs one relaxed load.
#ifndef TXMSG_BASE_CRASH_POINT_H_
#define TXMSG_BASE_CRASH_POINT_H_

namespace txmsg {

void CrashPoint(const char* name);

// Runs `fn` when a crash point fires, just before the process dies (the
// broker's power-cut switch drops every unsynced byte there). Set once,
// before any crash point can fire.
void SetBeforeCrash(void (*fn)());

// Test-only mutations that break a guarantee on purpose, so the fault suite
// can prove it notices: TXMSG_TEST_MUTATION=name[,name]. Known names:
//   ack_before_fsync   broker: completes log appends before writing them
//   skip_idempotency   stock-service: ignores tx_log (deducts again on redelivery)
//   ack_before_commit  stock-service: acks an order before its transaction
bool TestMutation(const char* name);

}  // namespace txmsg

#endif  // TXMSG_BASE_CRASH_POINT_H_
