// Every named crash point (see crash_point.h), in one place: the call sites,
// the fault suite and docs/reliability.md use these names. A point's name
// says which process it is in and where along the flow it fires.
#ifndef TXMSG_BASE_CRASH_POINTS_H_
#define TXMSG_BASE_CRASH_POINTS_H_

#include <array>

namespace txmsg::crash_points {

// The broker.
inline constexpr char kBrokerHalfAppendedBeforeSync[] = "broker.half_appended_before_sync";
inline constexpr char kBrokerHalfSyncedBeforeAck[] = "broker.half_synced_before_ack";
inline constexpr char kBrokerCommitSyncedBeforeDispatch[] =
    "broker.commit_synced_before_dispatch";
inline constexpr char kBrokerDeliveredBeforeAck[] = "broker.delivered_before_ack";
inline constexpr char kBrokerAckReceivedBeforeSync[] = "broker.ack_received_before_sync";
inline constexpr char kBrokerSegmentCreated[] = "broker.segment_created";

// order-service.
inline constexpr char kOrderHalfAckedBeforeLocalTx[] = "order.half_acked_before_local_tx";
inline constexpr char kOrderLocalTxCommittedBeforeEndTx[] =
    "order.local_tx_committed_before_end_tx";
inline constexpr char kOrderAnsweringCheck[] = "order.answering_check";

// stock-service.
inline constexpr char kStockReceivedBeforeTx[] = "stock.received_before_tx";
inline constexpr char kStockDeductedBeforePublish[] = "stock.deducted_before_publish";
inline constexpr char kStockPublishedBeforeAck[] = "stock.published_before_ack";

inline constexpr std::array<const char*, 6> kBroker = {
    kBrokerHalfAppendedBeforeSync,    kBrokerHalfSyncedBeforeAck,
    kBrokerCommitSyncedBeforeDispatch, kBrokerDeliveredBeforeAck,
    kBrokerAckReceivedBeforeSync,     kBrokerSegmentCreated};
inline constexpr std::array<const char*, 3> kOrder = {
    kOrderHalfAckedBeforeLocalTx, kOrderLocalTxCommittedBeforeEndTx, kOrderAnsweringCheck};
inline constexpr std::array<const char*, 3> kStock = {
    kStockReceivedBeforeTx, kStockDeductedBeforePublish, kStockPublishedBeforeAck};

}  // namespace txmsg::crash_points

#endif  // TXMSG_BASE_CRASH_POINTS_H_
