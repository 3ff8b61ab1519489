// txmsg-chaos-proxy: relays 127.0.0.1:PORT to the broker and mistreats the
// frames in between (see chaos_proxy.h). For trying failures by hand; the
// fault suite uses the same proxy in-process.
#include <cstdio>

#include "absl/flags/flag.h"
#include "client/signals.h"
#include "tools/chaos/chaos_proxy.h"
#include "tools/cli/usage.h"

ABSL_FLAG(int32_t, target_port, 9876, "broker port on 127.0.0.1 to relay to");
ABSL_FLAG(double, drop, 0, "probability a frame is dropped");
ABSL_FLAG(double, duplicate, 0, "probability a frame is sent twice");
ABSL_FLAG(double, hold, 0, "probability a frame is held back --hold_ms (and overtaken)");
ABSL_FLAG(int32_t, hold_ms, 100, "how long a held frame waits");
ABSL_FLAG(int64_t, seed, 1, "random seed");

int main(int argc, char** argv) {
  txmsg::cli::ParseFlags(argc, argv,
                         "relays connections to the txmsg broker, dropping, duplicating and "
                         "reordering frames.\nUsage: txmsg-chaos-proxy --target_port 9876 "
                         "[--drop 0.01] [--duplicate 0.05] [--hold 0.05]");
  txmsg::service::BlockStopSignals();
  txmsg::chaos::ChaosOptions o;
  o.drop = absl::GetFlag(FLAGS_drop);
  o.duplicate = absl::GetFlag(FLAGS_duplicate);
  o.hold = absl::GetFlag(FLAGS_hold);
  o.hold_ms = absl::GetFlag(FLAGS_hold_ms);
  o.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
  txmsg::chaos::ChaosProxy proxy(static_cast<uint16_t>(absl::GetFlag(FLAGS_target_port)), o);
  if (absl::Status s = proxy.Start(); !s.ok()) {
    std::fprintf(stderr, "txmsg-chaos-proxy: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("txmsg-chaos-proxy listening on 127.0.0.1:%u\n", proxy.port());
  std::fflush(stdout);
  txmsg::service::WaitForStopSignal();
  const auto st = proxy.stats();
  std::fprintf(stderr, "frames=%llu dropped=%llu duplicated=%llu held=%llu cuts=%llu\n",
               (unsigned long long)st.frames, (unsigned long long)st.dropped,
               (unsigned long long)st.duplicated, (unsigned long long)st.held,
               (unsigned long long)st.cuts);
  return 0;
}
