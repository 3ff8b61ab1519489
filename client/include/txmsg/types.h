// Types shared by the txmsg client SDK's producer and consumer.
#ifndef TXMSG_CLIENT_INCLUDE_TXMSG_TYPES_H_
#define TXMSG_CLIENT_INCLUDE_TXMSG_TYPES_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace txmsg {

// TLS to the broker (docs/security.md). Off when `ca_file` is empty; on,
// the broker's certificate must chain to `ca_file` and name the host (or
// IP address) in ClientOptions::broker, or the connection is refused.
struct TlsOptions {
  std::string ca_file;    // PEM CA certificates to trust for the broker
  std::string cert_file;  // mutual TLS: this client's PEM certificate chain...
  std::string key_file;   // ...and its PEM private key (both or neither)
};

// Where the broker is and how patiently to talk to it.
struct ClientOptions {
  std::string broker = "127.0.0.1:9876";  // HOST:PORT
  std::string client_id;                  // shown in broker logs and txmsgctl
  std::chrono::milliseconds request_timeout{5000};
  // After this long without hearing from the broker, send it a Ping, so a
  // broker that stops answering (frozen, partitioned) is noticed even when
  // the client has nothing to ask: it counts as unresponsive once a request
  // or Ping goes unanswered for request_timeout. 0: no pings.
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds reconnect_min{50};    // backoff after a lost connection...
  std::chrono::milliseconds reconnect_max{2000};  // ...doubling up to this
  uint32_t max_frame_size = 4u << 20;

  // Transport security. The TLS handshake must complete within
  // request_timeout; a certificate the client refuses (or one the broker
  // refuses) ends Start/WaitReady at once with the reason, rather than
  // after the whole wait.
  TlsOptions tls;

  // ---- authentication (a broker with --auth_file; docs/security.md) ----
  // The principal to authenticate as in Hello, and its secret. Empty user:
  // none (a broker without --auth_file; or, with mutual TLS, the name in
  // the client certificate). The secret is sent only in Hello and never
  // logged; read it from a file or the environment, never a command line.
  std::string user;
  std::string secret;
};

// A message as produced.
struct Message {
  std::string topic;
  std::string key;
  std::map<std::string, std::string> properties;
  std::string body;
};

// The outcome of a local transaction, reported to the broker.
enum class TxOutcome { kCommit, kRollback, kUnknown };

// A half message's state at the broker, as EndTx reports it (the wire's
// HalfState).
enum class HalfState { kPending, kCommitted, kRolledBack, kDiscarded };
// The old name, kept so that applications written against it still build.
using TxState [[deprecated("use txmsg::HalfState")]] = HalfState;

// What the broker said to an EndTx.
struct EndTxResult {
  HalfState state = HalfState::kPending;
  bool applied = false;  // false: it was already settled this way (or UNKNOWN)
};

// A check-back: the broker asks what became of a half message.
struct CheckRequest {
  uint64_t message_id = 0;
  std::string tx_id;
  Message message;
  uint32_t check_number = 0;
};

// A message delivered to a consumer.
struct Delivery {
  uint64_t message_id = 0;
  std::string group;
  Message message;
  uint32_t attempt = 1;         // 2, 3, ... on redeliveries
  uint64_t commit_time_ms = 0;  // when it became deliverable
};

// What a consumer's handler decided. Three kinds of "not done" reach the
// broker differently (docs/protocol.md, Nack):
//   RetryLater   this delivery failed; the attempt counts, and after the
//                broker's max_attempts the message goes to the group's DLQ.
//   Unavailable  the consumer cannot work right now (its database is down):
//                deliver again after the delay without counting an attempt,
//                so an outage never dead-letters anything. Grow the delay
//                while the outage lasts, and say so in your health check.
//   DeadLetter   the message can never be processed (its body does not
//                parse, it names something that does not exist): into the
//                group's DLQ now, where an operator sees it.
// The broker caps every delay at its largest backoff (10 minutes by default).
struct ConsumeResult {
  enum class Kind { kSuccess, kRetryLater, kUnavailable, kDeadLetter };

  static ConsumeResult Success() { return {Kind::kSuccess, 0}; }
  // Deliver again later: after `delay_ms`, or the broker's backoff if 0.
  static ConsumeResult RetryLater(uint32_t delay_ms = 0) { return {Kind::kRetryLater, delay_ms}; }
  static ConsumeResult Unavailable(uint32_t delay_ms) { return {Kind::kUnavailable, delay_ms}; }
  static ConsumeResult DeadLetter() { return {Kind::kDeadLetter, 0}; }

  bool success() const { return kind == Kind::kSuccess; }

  Kind kind;
  uint32_t delay_ms;
};

}  // namespace txmsg

#endif  // TXMSG_CLIENT_INCLUDE_TXMSG_TYPES_H_
