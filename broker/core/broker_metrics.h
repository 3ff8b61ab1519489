// Counters the broker keeps and /metrics and Stats report.
#ifndef TXMSG_BROKER_CORE_BROKER_METRICS_H_
#define TXMSG_BROKER_CORE_BROKER_METRICS_H_

#include <cstdint>
#include <string>

#include "broker/log/log.h"

namespace txmsg::broker {

struct BrokerMetrics {
  // Gauges.
  uint64_t connections = 0;
  uint64_t pending_half = 0;
  uint64_t committed = 0;  // live committed messages
  uint64_t in_flight = 0;
  uint64_t discarded = 0;
  uint64_t dlq = 0;
  uint64_t uptime_ms = 0;
  // Counters since start.
  uint64_t connections_total = 0;
  uint64_t connections_refused = 0;
  uint64_t halves_stored = 0;
  uint64_t plain_stored = 0;
  uint64_t commits = 0;
  uint64_t rollbacks = 0;
  uint64_t conflicts = 0;
  uint64_t delivered = 0;
  uint64_t redelivered = 0;
  uint64_t acked = 0;
  uint64_t nacked = 0;
  uint64_t dead_lettered = 0;
  uint64_t checks_sent = 0;
  uint64_t checks_unanswerable = 0;  // due with no producer connected
  uint64_t checks_answered_commit = 0;
  uint64_t checks_answered_rollback = 0;
  uint64_t checks_answered_unknown = 0;
  uint64_t discards = 0;
  uint64_t protocol_errors = 0;
  uint64_t carried = 0;
  uint64_t segments_deleted = 0;
  uint64_t storage_refusals = 0;  // appends refused or failed: disk full, queue full
  uint64_t auth_failures = 0;     // Hellos refused: unknown user, wrong secret, throttled
  uint64_t permission_denials = 0;
  log::LogStats log;
};

// Prometheus text exposition of `m`.
std::string RenderPrometheus(const BrokerMetrics& m);

}  // namespace txmsg::broker

#endif  // TXMSG_BROKER_CORE_BROKER_METRICS_H_
