#include "broker/core/broker_metrics.h"

#include "absl/strings/str_cat.h"

namespace txmsg::broker {
namespace {

void Metric(std::string* out, const char* name, const char* type, const char* help, uint64_t value,
            const char* labels = "") {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, labels,
                  " ", value, "\n");
}

}  // namespace

std::string RenderPrometheus(const BrokerMetrics& m) {
  std::string out;
  Metric(&out, "txmsg_connections", "gauge", "Open client connections.", m.connections);
  Metric(&out, "txmsg_connections_total", "counter", "Connections accepted.", m.connections_total);
  Metric(&out, "txmsg_connections_refused_total", "counter", "Connections refused at the limit.",
         m.connections_refused);
  absl::StrAppend(&out, "# HELP txmsg_messages Messages by state.\n# TYPE txmsg_messages gauge\n");
  absl::StrAppend(&out, "txmsg_messages{state=\"pending_half\"} ", m.pending_half, "\n");
  absl::StrAppend(&out, "txmsg_messages{state=\"committed\"} ", m.committed, "\n");
  absl::StrAppend(&out, "txmsg_messages{state=\"in_flight\"} ", m.in_flight, "\n");
  absl::StrAppend(&out, "txmsg_messages{state=\"discarded\"} ", m.discarded, "\n");
  absl::StrAppend(&out, "txmsg_messages{state=\"dlq\"} ", m.dlq, "\n");
  Metric(&out, "txmsg_acked_total", "counter", "Acks applied.", m.acked);
  Metric(&out, "txmsg_half_stored_total", "counter", "Half messages stored.", m.halves_stored);
  Metric(&out, "txmsg_plain_stored_total", "counter", "Plain messages stored.", m.plain_stored);
  Metric(&out, "txmsg_commits_total", "counter", "Half messages committed.", m.commits);
  Metric(&out, "txmsg_rollbacks_total", "counter", "Half messages rolled back.", m.rollbacks);
  Metric(&out, "txmsg_tx_conflicts_total", "counter",
         "EndTx/check answers/operator requests refused as conflicting.", m.conflicts);
  Metric(&out, "txmsg_delivered_total", "counter", "Deliveries sent (redeliveries included).",
         m.delivered);
  Metric(&out, "txmsg_redelivered_total", "counter", "Redeliveries sent.", m.redelivered);
  Metric(&out, "txmsg_nacked_total", "counter", "Nacks received.", m.nacked);
  Metric(&out, "txmsg_dead_lettered_total", "counter", "Messages moved to a DLQ.", m.dead_lettered);
  Metric(&out, "txmsg_checks_sent_total", "counter", "Check-backs sent.", m.checks_sent);
  absl::StrAppend(&out,
                  "# HELP txmsg_checks_answered_total Check-back answers by outcome.\n"
                  "# TYPE txmsg_checks_answered_total counter\n");
  absl::StrAppend(&out, "txmsg_checks_answered_total{outcome=\"commit\"} ",
                  m.checks_answered_commit, "\n");
  absl::StrAppend(&out, "txmsg_checks_answered_total{outcome=\"rollback\"} ",
                  m.checks_answered_rollback, "\n");
  absl::StrAppend(&out, "txmsg_checks_answered_total{outcome=\"unknown\"} ",
                  m.checks_answered_unknown, "\n");
  Metric(&out, "txmsg_discarded_total", "counter", "Half messages discarded after max checks.",
         m.discards);
  Metric(&out, "txmsg_protocol_errors_total", "counter", "Requests answered with an error.",
         m.protocol_errors);
  Metric(&out, "txmsg_carried_total", "counter", "Live records carried forward.", m.carried);
  Metric(&out, "txmsg_log_appends_total", "counter", "Records appended to the log.", m.log.appends);
  Metric(&out, "txmsg_log_fsyncs_total", "counter", "fdatasync calls.", m.log.syncs);
  Metric(&out, "txmsg_log_bytes", "gauge", "Bytes in the log's segment files.", m.log.disk_bytes);
  Metric(&out, "txmsg_log_segments", "gauge", "Segment files.", m.log.segments);
  Metric(&out, "txmsg_log_disk_full_total", "counter",
         "Log writes refused because the disk was full.", m.log.disk_full);
  Metric(&out, "txmsg_storage_refusals_total", "counter",
         "Records the broker could not store (disk full, append queue full).",
         m.storage_refusals);
  Metric(&out, "txmsg_log_segments_deleted_total", "counter", "Segments deleted.",
         m.segments_deleted);
  absl::StrAppend(&out,
                  "# HELP txmsg_log_fsync_seconds Write+fdatasync latency of one batch.\n"
                  "# TYPE txmsg_log_fsync_seconds histogram\n");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < log::kSyncLatencyBuckets; ++i) {
    cumulative += m.log.sync_latency[i];
    const std::string le = i < std::size(log::kSyncLatencyBucketsUs)
                               ? absl::StrCat(log::kSyncLatencyBucketsUs[i] / 1e6)
                               : "+Inf";
    absl::StrAppend(&out, "txmsg_log_fsync_seconds_bucket{le=\"", le, "\"} ", cumulative, "\n");
  }
  absl::StrAppend(&out, "txmsg_log_fsync_seconds_sum ", m.log.sync_time_us / 1e6, "\n");
  absl::StrAppend(&out, "txmsg_log_fsync_seconds_count ", m.log.syncs, "\n");
  Metric(&out, "txmsg_uptime_seconds", "gauge", "Seconds since start.", m.uptime_ms / 1000);
  return out;
}

}  // namespace txmsg::broker
