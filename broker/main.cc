// txmsg-broker: parse flags, open the state, serve, stop cleanly on a signal.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/crash_point.h"
#include "base/fd_limit.h"
#include "base/flags.h"
#include "base/listen.h"
#include "base/secret_file.h"
#include "base/tls.h"
#include "broker/auth/authenticator.h"
#include "broker/core/broker_core.h"
#include "broker/core/event_log.h"
#include "broker/log/fault_file_system.h"
#include "broker/net/metrics_server.h"
#include "broker/net/server.h"

ABSL_FLAG(std::string, bind, "127.0.0.1", "address to listen on");
ABSL_FLAG(int32_t, port, 9876, "TCP port for clients (0: pick a free one and print it)");
ABSL_FLAG(std::string, data_dir, "./broker-data", "directory of the log (created if missing)");
ABSL_FLAG(absl::Duration, tx_timeout, absl::Seconds(6),
          "a half message without EndTx is checked back after this long");
ABSL_FLAG(absl::Duration, check_interval, absl::Seconds(60), "time between check-backs");
ABSL_FLAG(int32_t, max_checks, 15, "check-backs before a half message is DISCARDED");
ABSL_FLAG(absl::Duration, ack_timeout, absl::Seconds(30),
          "an unacked delivery is redelivered after this long");
ABSL_FLAG(int32_t, max_attempts, 16, "deliveries of a message before it goes to the group's DLQ");
ABSL_FLAG(absl::Duration, redelivery_backoff, absl::Seconds(1),
          "delay before redelivering a nacked message; doubles per attempt");
ABSL_FLAG(absl::Duration, max_redelivery_backoff, absl::Minutes(10),
          "cap of that delay, and of the delay a consumer's nack asks for");
ABSL_FLAG(int32_t, max_frame_size, 4 << 20, "largest frame accepted, bytes");
ABSL_FLAG(int32_t, max_connections, 1024,
          "client connections beyond this are refused (lowered to fit the descriptor limit)");
ABSL_FLAG(int32_t, admin_connections, 8,
          "of --max_connections, this many are kept for admin connections (txmsgctl)");
ABSL_FLAG(int32_t, max_connections_per_source, 256,
          "connections from one IP address beyond this are refused");
ABSL_FLAG(absl::Duration, hello_timeout, absl::Seconds(10),
          "a connection that has not said Hello after this long is closed");
ABSL_FLAG(int32_t, max_unacked, 10000, "cap on a consumer's credit (Subscribe.max_unacked)");
ABSL_FLAG(int32_t, max_topics, 10000,
          "topics clients may create; more are refused (existing ones keep working)");
ABSL_FLAG(int32_t, max_groups, 10000,
          "groups clients may create, each (consumer group, topic) pair and each producer group "
          "counting one; more are refused");
ABSL_FLAG(int64_t, segment_size, 64 << 20, "log segment size, bytes");
ABSL_FLAG(int64_t, content_cache_bytes, 64 << 20,
          "memory for the contents of recent messages, so that delivering them does not read "
          "them back from the log (0 turns it off)");
ABSL_FLAG(absl::Duration, retention, absl::ZeroDuration(),
          "keep messages acked by every group this long, for groups created later");
ABSL_FLAG(int32_t, metrics_port, 0, "serve Prometheus text at /metrics on this port (0: off)");
ABSL_FLAG(std::string, metrics_bind, "127.0.0.1",
          "address /metrics listens on; any but loopback needs --metrics_token_file");
ABSL_FLAG(std::string, metrics_token_file, "",
          "file holding a bearer token: /metrics then answers only requests with "
          "'Authorization: Bearer <token>' (the file must not be world-readable)");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: clients must then connect with TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA file: mutual TLS, every client must present a certificate signed by it (its "
          "CN, or first DNS name, is the connection's verified name)");
ABSL_FLAG(std::string, auth_file, "",
          "principals file (docs/security.md): every client must authenticate in Hello and is "
          "held to its permissions; reloaded on SIGHUP. Empty: no authentication");
ABSL_FLAG(bool, insecure, false,
          "allow listening on a non-loopback address without TLS and authentication (or "
          "/metrics without a token): for those who mean it");
ABSL_FLAG(bool, repair, false,
          "start even if a log segment is corrupt, cutting it at the damage (bytes kept aside)");

namespace {

using txmsg::broker::LogEvent;

uint64_t Ms(absl::Duration d) { return static_cast<uint64_t>(absl::ToInt64Milliseconds(d)); }

// The safe defaults (docs/security.md): TLS needs its certificate and key
// together; a listener on a non-loopback address needs TLS and
// authentication, and /metrics there a token, unless --insecure.
std::string SecurityFlagsProblem() {
  const bool tls = !absl::GetFlag(FLAGS_tls_cert).empty();
  if (tls != !absl::GetFlag(FLAGS_tls_key).empty()) {
    return "--tls_cert and --tls_key go together: give both or neither";
  }
  if (!tls && !absl::GetFlag(FLAGS_tls_client_ca).empty()) {
    return "--tls_client_ca needs TLS: add --tls_cert FILE --tls_key FILE";
  }
  const bool insecure = absl::GetFlag(FLAGS_insecure);
  std::string problem =
      txmsg::base::UnsafeBindReason("broker clients", absl::GetFlag(FLAGS_bind),
                                    {{tls, "--tls_cert FILE --tls_key FILE"},
                                     {!absl::GetFlag(FLAGS_auth_file).empty(), "--auth_file FILE"}},
                                    insecure);
  if (problem.empty() && absl::GetFlag(FLAGS_metrics_port) > 0) {
    problem = txmsg::base::UnsafeBindReason(
        "/metrics", absl::GetFlag(FLAGS_metrics_bind),
        {{!absl::GetFlag(FLAGS_metrics_token_file).empty(), "--metrics_token_file FILE"}},
        insecure);
  }
  return problem;
}

// Returns an error message for the first flag out of range, or "".
std::string ValidateFlags() {
  auto positive = [](absl::Duration d) { return d > absl::ZeroDuration(); };
  if (!positive(absl::GetFlag(FLAGS_tx_timeout))) return "--tx_timeout must be positive";
  if (!positive(absl::GetFlag(FLAGS_check_interval))) return "--check_interval must be positive";
  if (!positive(absl::GetFlag(FLAGS_ack_timeout))) return "--ack_timeout must be positive";
  if (!positive(absl::GetFlag(FLAGS_redelivery_backoff)))
    return "--redelivery_backoff must be positive";
  if (absl::GetFlag(FLAGS_retention) < absl::ZeroDuration())
    return "--retention cannot be negative";
  if (absl::GetFlag(FLAGS_port) < 0 || absl::GetFlag(FLAGS_port) > 65535)
    return "--port must be 0-65535";
  if (absl::GetFlag(FLAGS_metrics_port) < 0 || absl::GetFlag(FLAGS_metrics_port) > 65535) {
    return "--metrics_port must be 0-65535";
  }
  if (absl::GetFlag(FLAGS_max_checks) < 1) return "--max_checks must be at least 1";
  if (absl::GetFlag(FLAGS_max_attempts) < 1) return "--max_attempts must be at least 1";
  if (absl::GetFlag(FLAGS_max_frame_size) < 1024) return "--max_frame_size must be at least 1024";
  if (absl::GetFlag(FLAGS_max_connections) < 1) return "--max_connections must be at least 1";
  if (absl::GetFlag(FLAGS_admin_connections) < 0) return "--admin_connections cannot be negative";
  if (absl::GetFlag(FLAGS_max_connections_per_source) < 1)
    return "--max_connections_per_source must be at least 1";
  if (!positive(absl::GetFlag(FLAGS_hello_timeout))) return "--hello_timeout must be positive";
  if (absl::GetFlag(FLAGS_max_unacked) < 1) return "--max_unacked must be at least 1";
  if (absl::GetFlag(FLAGS_max_topics) < 1) return "--max_topics must be at least 1";
  if (absl::GetFlag(FLAGS_max_groups) < 1) return "--max_groups must be at least 1";
  if (absl::GetFlag(FLAGS_content_cache_bytes) < 0) return "--content_cache_bytes must be >= 0";
  if (absl::GetFlag(FLAGS_segment_size) < 4096) return "--segment_size must be at least 4096";
  if (absl::GetFlag(FLAGS_data_dir).empty()) return "--data_dir cannot be empty";
  return SecurityFlagsProblem();
}

// Storage faults for the fault suite only, switched on by environment
// variables (docs/reliability.md); without them the log uses the real file
// system directly.
//   TXMSG_TEST_DISK_FULL_FLAG=PATH  while PATH exists, log writes fail as on a full disk
//   TXMSG_TEST_FSYNC_FAIL_AFTER=N   every fsync after the first N fails (EIO)
//   TXMSG_TEST_POWER_CUT=1          a crash point first drops every unsynced byte
txmsg::log::FaultInjectionFileSystem* test_fs = nullptr;

txmsg::log::FileSystem* TestStorageFaults() {
  const char* full_flag = std::getenv("TXMSG_TEST_DISK_FULL_FLAG");
  const char* fsync_after = std::getenv("TXMSG_TEST_FSYNC_FAIL_AFTER");
  const char* power_cut = std::getenv("TXMSG_TEST_POWER_CUT");
  if (!full_flag && !fsync_after && !power_cut) return txmsg::log::DefaultFileSystem();
  test_fs = new txmsg::log::FaultInjectionFileSystem();  // lives for the process
  LogEvent("test storage faults armed:", full_flag ? " disk-full-flag=" : "",
           full_flag ? full_flag : "", fsync_after ? " fsync-fail-after=" : "",
           fsync_after ? fsync_after : "", power_cut ? " power-cut" : "");
  if (full_flag) {
    const std::string path = full_flag;
    test_fs->SetDiskFullWhile([path] { return ::access(path.c_str(), F_OK) == 0; });
  }
  if (fsync_after) test_fs->SetFailSyncsAfter(std::strtoull(fsync_after, nullptr, 10));
  if (power_cut) {
    txmsg::SetBeforeCrash([] {
      if (test_fs->SimulatePowerCut(/*torn=*/true, static_cast<uint64_t>(::getpid())).ok()) {
        LogEvent("power cut: every byte not yet synced is gone");
      }
    });
  }
  return test_fs;
}

// Descriptors kept for everything but client connections: the log's
// segments (the active one, readers of sealed ones, one being created),
// the listening sockets, /metrics scrapes, stdio.
constexpr uint64_t kReservedDescriptors = 64;

// Raises the descriptor limit as far as allowed and fits --max_connections
// under it, keeping kReservedDescriptors for the log, so that running out of
// descriptors can refuse a connection but never stop a segment roll.
size_t ConnectionCapForDescriptors() {
  const uint64_t wanted = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_connections));
  const absl::StatusOr<txmsg::base::FdLimit> limit = txmsg::base::RaiseFdLimit();
  if (!limit.ok()) return static_cast<size_t>(wanted);  // unknown: trust the flag
  const uint64_t cap = txmsg::base::ConnectionCap(wanted, limit->soft, kReservedDescriptors);
  if (cap < wanted) {
    LogEvent("max_connections lowered from ", wanted, " to ", cap, ": the descriptor limit is ",
             limit->soft, " and ", kReservedDescriptors,
             " are kept for the log (raise it with ulimit -n or LimitNOFILE=)");
  }
  return static_cast<size_t>(cap);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args = txmsg::base::ParseFlags(
      argc, argv,
      "The txmsg broker: transactional (half) messages with check-back, and at-least-once "
      "delivery to consumer groups.\nUsage: txmsg-broker [--port 9876] [--data_dir DIR] [flags]");
  if (!args.empty()) {
    std::fprintf(stderr, "txmsg-broker: unexpected argument '%s' (see --help)\n", args[0].c_str());
    return 2;
  }
  if (const std::string bad = ValidateFlags(); !bad.empty()) {
    std::fprintf(stderr, "txmsg-broker: %s\n", bad.c_str());
    return 2;
  }
  // Debian's Abseil is built with mutex deadlock detection on, which walks a
  // lock graph on every Lock: a debugging aid, several percent of the
  // broker's CPU under load. Tests of our locking run with it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  txmsg::broker::BrokerOptions options;
  options.tx_timeout_ms = Ms(absl::GetFlag(FLAGS_tx_timeout));
  options.check_interval_ms = Ms(absl::GetFlag(FLAGS_check_interval));
  options.max_checks = static_cast<uint32_t>(absl::GetFlag(FLAGS_max_checks));
  options.delivery.ack_timeout_ms = Ms(absl::GetFlag(FLAGS_ack_timeout));
  options.delivery.max_attempts = static_cast<uint32_t>(absl::GetFlag(FLAGS_max_attempts));
  options.delivery.backoff_base_ms = Ms(absl::GetFlag(FLAGS_redelivery_backoff));
  options.delivery.backoff_max_ms =
      std::max(options.delivery.backoff_base_ms, Ms(absl::GetFlag(FLAGS_max_redelivery_backoff)));
  options.retention_ms = Ms(absl::GetFlag(FLAGS_retention));
  options.max_unacked_per_consumer = static_cast<uint32_t>(absl::GetFlag(FLAGS_max_unacked));
  options.max_frame_size = static_cast<uint32_t>(absl::GetFlag(FLAGS_max_frame_size));
  options.max_topics = static_cast<size_t>(absl::GetFlag(FLAGS_max_topics));
  options.max_groups = static_cast<size_t>(absl::GetFlag(FLAGS_max_groups));
  options.content_cache_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_content_cache_bytes));

  txmsg::log::LogOptions log_options;
  log_options.dir = absl::GetFlag(FLAGS_data_dir);
  log_options.segment_size = static_cast<uint64_t>(absl::GetFlag(FLAGS_segment_size));
  log_options.repair = absl::GetFlag(FLAGS_repair);
  log_options.fs = TestStorageFaults();

  // Secrets and certificates are read before anything is opened, so a
  // typo in a path fails the start at once.
  std::unique_ptr<boost::asio::ssl::context> tls;
  if (!absl::GetFlag(FLAGS_tls_cert).empty()) {
    auto ctx = txmsg::base::MakeServerTlsContext({absl::GetFlag(FLAGS_tls_cert),
                                                  absl::GetFlag(FLAGS_tls_key),
                                                  absl::GetFlag(FLAGS_tls_client_ca)});
    if (!ctx.ok()) {
      std::fprintf(stderr, "txmsg-broker: TLS: %s\n", std::string(ctx.status().message()).c_str());
      return 2;
    }
    tls = std::move(*ctx);
  }
  std::string metrics_token;
  if (!absl::GetFlag(FLAGS_metrics_token_file).empty()) {
    auto token = txmsg::base::ReadSecretFile(absl::GetFlag(FLAGS_metrics_token_file));
    if (!token.ok()) {
      std::fprintf(stderr, "txmsg-broker: --metrics_token_file: %s\n",
                   std::string(token.status().message()).c_str());
      return 2;
    }
    metrics_token = std::move(*token);
  }

  boost::asio::io_context io(1);
  LogEvent(
      "txmsg-broker starting: data_dir=", log_options.dir,
      tls ? (absl::GetFlag(FLAGS_tls_client_ca).empty() ? ", TLS on"
                                                        : ", TLS on, client certificates required")
          : "");
  auto core = txmsg::broker::BrokerCore::Open(options, log_options, io);
  if (!core.ok()) {
    LogEvent("cannot open ", log_options.dir, ": ", core.status().ToString());
    std::fprintf(stderr, "txmsg-broker: cannot open %s: %s\n", log_options.dir.c_str(),
                 std::string(core.status().message()).c_str());
    if (absl::IsDataLoss(core.status()) && !log_options.repair) {
      std::fprintf(stderr,
                   "txmsg-broker: acknowledged data is damaged; --repair starts anyway, cutting "
                   "the segment at the damage and keeping the cut bytes beside it\n");
    }
    return 1;
  }

  std::unique_ptr<txmsg::broker::auth::Authenticator> auth;
  if (const std::string path = absl::GetFlag(FLAGS_auth_file); !path.empty()) {
    auto loaded = txmsg::broker::auth::Authenticator::FromFile(path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "txmsg-broker: --auth_file: %s\n",
                   std::string(loaded.status().message()).c_str());
      return 2;
    }
    auth = std::move(*loaded);
    (*core)->SetAuthenticator(auth.get());
    LogEvent("authentication on: ", auth->principal_count(), " users from ", path);
  }

  txmsg::broker::ServerOptions server_options;
  server_options.bind = absl::GetFlag(FLAGS_bind);
  server_options.port = static_cast<uint16_t>(absl::GetFlag(FLAGS_port));
  server_options.max_connections = ConnectionCapForDescriptors();
  server_options.admin_connections = static_cast<size_t>(absl::GetFlag(FLAGS_admin_connections));
  server_options.max_connections_per_source =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_connections_per_source));
  server_options.limits.max_frame_size = options.max_frame_size;
  server_options.limits.hello_timeout_ms = Ms(absl::GetFlag(FLAGS_hello_timeout));
  server_options.tls = tls.get();
  txmsg::broker::Server server(io, **core, server_options);
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "txmsg-broker: %s\n", std::string(s.message()).c_str());
    return 1;
  }

  std::unique_ptr<txmsg::broker::MetricsServer> metrics;
  if (absl::GetFlag(FLAGS_metrics_port) > 0) {
    txmsg::broker::BrokerCore* c = core->get();
    metrics = std::make_unique<txmsg::broker::MetricsServer>(
        io, absl::GetFlag(FLAGS_metrics_bind),
        static_cast<uint16_t>(absl::GetFlag(FLAGS_metrics_port)),
        [c] { return txmsg::broker::RenderPrometheus(c->Metrics()); }, std::move(metrics_token));
    if (absl::Status s = metrics->Start(); !s.ok()) {
      std::fprintf(stderr, "txmsg-broker: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }

  boost::asio::steady_timer ticker(io);
  const auto tick = std::chrono::milliseconds((*core)->TickIntervalMs());
  std::function<void()> schedule = [&] {
    ticker.expires_after(tick);
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      (*core)->Tick();
      schedule();
    });
  };
  schedule();

  boost::asio::signal_set reload_signal(io, SIGHUP);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    LogEvent("signal ", sig, ": stopping (no new connections, syncing what is queued)");
    server.Stop();
    reload_signal.cancel();
    if (metrics) metrics->Stop();
    ticker.cancel();
    io.stop();
  });

  // SIGHUP re-reads --auth_file; live connections stay unless their user
  // was removed or its credential changed.
  std::function<void()> await_reload = [&] {
    reload_signal.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (!auth) {
        LogEvent("SIGHUP: no --auth_file to reload");
      } else if (absl::Status s = auth->Reload(); !s.ok()) {
        LogEvent("SIGHUP: principals not reloaded, keeping the previous ones: ", s.message());
      } else {
        (*core)->OnPrincipalsReloaded();
      }
      await_reload();
    });
  };
  await_reload();

  LogEvent("listening on ", server_options.bind, ":", server.port(),
           metrics ? absl::StrCat(", metrics on :", metrics->port()) : "");
  std::printf("txmsg-broker listening on %s:%u\n", server_options.bind.c_str(), server.port());
  std::fflush(stdout);
  io.run();
  core->reset();  // writes and syncs everything queued
  LogEvent("stopped");
  return 0;
}
