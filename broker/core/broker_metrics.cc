#include "broker/core/broker_metrics.h"

#include "absl/strings/str_cat.h"
#include "base/prometheus.h"

namespace txmsg::broker {
std::string RenderPrometheus(const BrokerMetrics& m) {
  base::PrometheusWriter w;
  w.Metric("txmsg_connections", "gauge", "Open client connections.", m.connections);
  w.Metric("txmsg_connections_total", "counter", "Connections accepted.", m.connections_total);
  w.Metric("txmsg_connections_refused_total", "counter", "Connections refused at the limit.",
           m.connections_refused);
  w.Family("txmsg_messages", "gauge", "Messages by state.");
  w.Sample("txmsg_messages", "{state=\"pending_half\"}", m.pending_half);
  w.Sample("txmsg_messages", "{state=\"committed\"}", m.committed);
  w.Sample("txmsg_messages", "{state=\"in_flight\"}", m.in_flight);
  w.Sample("txmsg_messages", "{state=\"discarded\"}", m.discarded);
  w.Sample("txmsg_messages", "{state=\"dlq\"}", m.dlq);
  w.Metric("txmsg_acked_total", "counter", "Acks applied.", m.acked);
  w.Metric("txmsg_half_stored_total", "counter", "Half messages stored.", m.halves_stored);
  w.Metric("txmsg_plain_stored_total", "counter", "Plain messages stored.", m.plain_stored);
  w.Metric("txmsg_commits_total", "counter", "Half messages committed.", m.commits);
  w.Metric("txmsg_rollbacks_total", "counter", "Half messages rolled back.", m.rollbacks);
  w.Metric("txmsg_tx_conflicts_total", "counter",
           "EndTx/check answers/operator requests refused as conflicting.", m.conflicts);
  w.Metric("txmsg_delivered_total", "counter", "Deliveries sent (redeliveries included).",
           m.delivered);
  w.Metric("txmsg_redelivered_total", "counter", "Redeliveries sent.", m.redelivered);
  w.Metric("txmsg_nacked_total", "counter", "Nacks received.", m.nacked);
  w.Metric("txmsg_dead_lettered_total", "counter", "Messages moved to a DLQ.", m.dead_lettered);
  w.Metric("txmsg_checks_sent_total", "counter", "Check-backs sent.", m.checks_sent);
  w.Metric("txmsg_checks_unanswerable_total", "counter",
           "Check-backs due with no producer of the group connected (counted unanswered).",
           m.checks_unanswerable);
  w.Family("txmsg_checks_answered_total", "counter", "Check-back answers by outcome.");
  w.Sample("txmsg_checks_answered_total", "{outcome=\"commit\"}", m.checks_answered_commit);
  w.Sample("txmsg_checks_answered_total", "{outcome=\"rollback\"}", m.checks_answered_rollback);
  w.Sample("txmsg_checks_answered_total", "{outcome=\"unknown\"}", m.checks_answered_unknown);
  w.Metric("txmsg_discarded_total", "counter", "Half messages discarded after max checks.",
           m.discards);
  w.Metric("txmsg_protocol_errors_total", "counter", "Requests answered with an error.",
           m.protocol_errors);
  w.Metric("txmsg_auth_failures_total", "counter",
           "Failed authentications (unknown user, wrong secret, throttled source).",
           m.auth_failures);
  w.Metric("txmsg_permission_denied_total", "counter",
           "Requests refused because the principal lacks the permission.", m.permission_denials);
  w.Metric("txmsg_carried_total", "counter", "Live records carried forward.", m.carried);
  w.Metric("txmsg_log_appends_total", "counter", "Records appended to the log.", m.log.appends);
  w.Metric("txmsg_log_fsyncs_total", "counter", "fdatasync calls.", m.log.syncs);
  w.Metric("txmsg_log_bytes", "gauge", "Bytes in the log's segment files.", m.log.disk_bytes);
  w.Metric("txmsg_log_segments", "gauge", "Segment files.", m.log.segments);
  w.Metric("txmsg_log_disk_full_total", "counter", "Log writes refused because the disk was full.",
           m.log.disk_full);
  w.Metric("txmsg_storage_refusals_total", "counter",
           "Records the broker could not store (disk full, append queue full).",
           m.storage_refusals);
  w.Metric("txmsg_log_segments_deleted_total", "counter", "Segments deleted.", m.segments_deleted);
  w.Family("txmsg_log_fsync_seconds", "histogram", "Write+fdatasync latency of one batch.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < log::kSyncLatencyBuckets; ++i) {
    cumulative += m.log.sync_latency[i];
    const std::string le = i < std::size(log::kSyncLatencyBucketsUs)
                               ? absl::StrCat(log::kSyncLatencyBucketsUs[i] / 1e6)
                               : "+Inf";
    w.Sample("txmsg_log_fsync_seconds_bucket", absl::StrCat("{le=\"", le, "\"}"), cumulative);
  }
  w.Sample("txmsg_log_fsync_seconds_sum", "", m.log.sync_time_us / 1e6);
  w.Sample("txmsg_log_fsync_seconds_count", "", m.log.syncs);
  w.Metric("txmsg_uptime_seconds", "gauge", "Seconds since start.", m.uptime_ms / 1000);
  return w.text();
}

}  // namespace txmsg::broker
