// txmsg-chaos-proxy: relays 127.0.0.1:PORT to the broker and mistreats the
// frames in between (see chaos_proxy.h); it can also cut every connection
// and stall all traffic on a schedule. For trying failures by hand; the fault
// suite uses the same proxy in-process.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/flags/flag.h"
#include "base/signals.h"
#include "tools/chaos/chaos_proxy.h"
#include "base/flags.h"

ABSL_FLAG(int32_t, target_port, 9876, "broker port on 127.0.0.1 to relay to");
ABSL_FLAG(int32_t, port, 0, "port to listen on (127.0.0.1); 0 picks a free one, printed");
ABSL_FLAG(double, drop, 0, "probability a frame is dropped");
ABSL_FLAG(double, duplicate, 0, "probability a frame is sent twice");
ABSL_FLAG(double, hold, 0, "probability a frame is held back --hold_ms (and overtaken)");
ABSL_FLAG(int32_t, hold_ms, 100, "how long a held frame waits");
ABSL_FLAG(int32_t, delay_ms, 0, "every frame waits this long, in order (a slow link)");
ABSL_FLAG(int32_t, cut_every_ms, 0, "cut every relayed connection this often (0: never)");
ABSL_FLAG(int32_t, stall_every_ms, 0, "stall all traffic this often (0: never)");
ABSL_FLAG(int32_t, stall_ms, 1500, "how long each stall lasts");
ABSL_FLAG(int64_t, seed, 1, "random seed");

namespace {

bool Valid(double p) { return p >= 0 && p <= 1; }

}  // namespace

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  txmsg::base::ParseFlags(argc, argv,
                         "relays connections to the txmsg broker, dropping, duplicating, "
                         "delaying and reordering frames, cutting connections and stalling "
                         "traffic.\nUsage: txmsg-chaos-proxy --target_port 9876 [--port 9877] "
                         "[--drop 0.01] [--duplicate 0.05] [--hold 0.05] [--cut_every_ms 5000]");
  txmsg::chaos::ChaosOptions o;
  o.drop = absl::GetFlag(FLAGS_drop);
  o.duplicate = absl::GetFlag(FLAGS_duplicate);
  o.hold = absl::GetFlag(FLAGS_hold);
  o.hold_ms = absl::GetFlag(FLAGS_hold_ms);
  o.delay_ms = absl::GetFlag(FLAGS_delay_ms);
  o.seed = static_cast<uint64_t>(absl::GetFlag(FLAGS_seed));
  const int32_t port = absl::GetFlag(FLAGS_port);
  const int32_t target = absl::GetFlag(FLAGS_target_port);
  const milliseconds cut_every(absl::GetFlag(FLAGS_cut_every_ms));
  const milliseconds stall_every(absl::GetFlag(FLAGS_stall_every_ms));
  const milliseconds stall_for(absl::GetFlag(FLAGS_stall_ms));
  if (!Valid(o.drop) || !Valid(o.duplicate) || !Valid(o.hold)) {
    std::fprintf(stderr, "txmsg-chaos-proxy: --drop, --duplicate and --hold are in [0, 1]\n");
    return 2;
  }
  if (port < 0 || port > 65535 || target <= 0 || target > 65535) {
    std::fprintf(stderr, "txmsg-chaos-proxy: ports are in 1..65535 (--port may be 0)\n");
    return 2;
  }
  if (o.hold_ms < 0 || o.delay_ms < 0 || cut_every.count() < 0 || stall_every.count() < 0 ||
      stall_for.count() < 0) {
    std::fprintf(stderr, "txmsg-chaos-proxy: durations cannot be negative\n");
    return 2;
  }
  o.port = static_cast<uint16_t>(port);
  txmsg::base::BlockStopSignals();
  txmsg::chaos::ChaosProxy proxy(static_cast<uint16_t>(target), o);
  if (absl::Status s = proxy.Start(); !s.ok()) {
    std::fprintf(stderr, "txmsg-chaos-proxy: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("txmsg-chaos-proxy listening on 127.0.0.1:%u\n", proxy.port());
  std::fflush(stdout);

  // Cuts and stalls on their schedule until SIGINT/SIGTERM.
  const sigset_t stop = txmsg::base::StopSignals();
  auto next_cut = Clock::now() + cut_every;
  auto next_stall = Clock::now() + stall_every;
  bool stalled = false;
  Clock::time_point stall_ends;
  while (true) {
    // Sleep until the next cut or stall edge (or a stop signal).
    auto next = Clock::now() + std::chrono::hours(1);
    if (cut_every.count() > 0) next = std::min(next, next_cut);
    if (stalled)
      next = std::min(next, stall_ends);
    else if (stall_every.count() > 0)
      next = std::min(next, next_stall);
    const auto wait = std::max(next - Clock::now(), Clock::duration::zero());
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(wait);
    const timespec timeout{static_cast<time_t>(secs.count()),
                           static_cast<long>(std::chrono::nanoseconds(wait - secs).count())};
    if (sigtimedwait(&stop, nullptr, &timeout) > 0) break;
    const auto now = Clock::now();
    if (cut_every.count() > 0 && now >= next_cut) {
      proxy.CutAll();
      next_cut = now + cut_every;
      std::printf("cut every connection\n");
      std::fflush(stdout);
    }
    if (stall_every.count() > 0 && !stalled && now >= next_stall) {
      proxy.SetStall(true);
      stalled = true;
      stall_ends = now + stall_for;
      std::printf("stalled\n");
      std::fflush(stdout);
    }
    if (stalled && now >= stall_ends) {
      proxy.SetStall(false);
      stalled = false;
      next_stall = now + stall_every;
      std::printf("flowing again\n");
      std::fflush(stdout);
    }
  }
  const auto st = proxy.stats();
  std::fprintf(stderr, "frames=%llu dropped=%llu duplicated=%llu held=%llu cuts=%llu\n",
               static_cast<unsigned long long>(st.frames),
               static_cast<unsigned long long>(st.dropped),
               static_cast<unsigned long long>(st.duplicated),
               static_cast<unsigned long long>(st.held), static_cast<unsigned long long>(st.cuts));
  return 0;
}
