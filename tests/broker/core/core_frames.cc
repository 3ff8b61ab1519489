#include "tests/broker/core/core_frames.h"

#include "absl/strings/str_cat.h"

namespace txmsg::broker::testing {

wire::Frame HelloFrame(wire::ClientRole role, const std::string& producer_group,
                       const std::string& client_id) {
  wire::Frame f;
  f.mutable_hello()->set_version(wire::PROTOCOL_VERSION_1);
  f.mutable_hello()->set_role(role);
  f.mutable_hello()->set_producer_group(producer_group);
  f.mutable_hello()->set_client_id(client_id);
  return f;
}

wire::Frame SendHalfFrame(const std::string& topic, const std::string& tx_id,
                          const std::string& body) {
  wire::Frame f;
  wire::SendHalf& half = *f.mutable_send_half();
  half.mutable_content()->set_topic(topic);
  half.mutable_content()->set_key("k-" + body);
  half.mutable_content()->set_body(body);
  half.set_tx_id(tx_id);
  return f;
}

wire::Frame SendFrame(const std::string& topic, const std::string& body) {
  wire::Frame f;
  f.mutable_send()->mutable_content()->set_topic(topic);
  f.mutable_send()->mutable_content()->set_key("k-" + body);
  f.mutable_send()->mutable_content()->set_body(body);
  return f;
}

wire::Frame EndTxFrame(uint64_t id, const std::string& tx_id, wire::TxOutcome outcome) {
  wire::Frame f;
  f.mutable_end_tx()->set_message_id(id);
  f.mutable_end_tx()->set_tx_id(tx_id);
  f.mutable_end_tx()->set_outcome(outcome);
  return f;
}

wire::Frame CheckAnswerFrame(uint64_t id, const std::string& tx_id, wire::TxOutcome outcome) {
  wire::Frame f;
  f.mutable_check_tx_answer()->set_message_id(id);
  f.mutable_check_tx_answer()->set_tx_id(tx_id);
  f.mutable_check_tx_answer()->set_outcome(outcome);
  return f;
}

wire::Frame SubscribeFrame(const std::string& topic, const std::string& group,
                           uint32_t max_unacked) {
  wire::Frame f;
  f.mutable_subscribe()->set_topic(topic);
  f.mutable_subscribe()->set_group(group);
  f.mutable_subscribe()->set_max_unacked(max_unacked);
  return f;
}

wire::Frame AckFrame(const std::string& group, const std::string& topic,
                     const std::vector<uint64_t>& ids) {
  wire::Frame f;
  f.mutable_ack()->set_group(group);
  f.mutable_ack()->set_topic(topic);
  for (uint64_t id : ids) f.mutable_ack()->add_message_ids(id);
  return f;
}

wire::Frame NackFrame(const std::string& group, const std::string& topic, uint64_t id,
                      uint32_t delay_ms) {
  wire::Frame f;
  f.mutable_nack()->set_group(group);
  f.mutable_nack()->set_topic(topic);
  f.mutable_nack()->set_message_id(id);
  f.mutable_nack()->set_delay_ms(delay_ms);
  return f;
}

wire::Frame ResolveFrame(uint64_t id, wire::TxOutcome outcome) {
  wire::Frame f;
  f.mutable_resolve_half()->set_message_id(id);
  f.mutable_resolve_half()->set_outcome(outcome);
  return f;
}

wire::Frame ShowHalfFrame(uint64_t id) {
  wire::Frame f;
  f.mutable_show_half()->set_message_id(id);
  return f;
}

wire::Frame ListHalfFrame(wire::HalfState state) {
  wire::Frame f;
  f.mutable_list_half()->set_state(state);
  f.mutable_list_half()->set_limit(100'000);
  return f;
}

wire::Frame ListGroupsFrame() {
  wire::Frame f;
  f.mutable_list_groups();
  return f;
}

wire::Frame ListDlqFrame(const std::string& group) {
  wire::Frame f;
  f.mutable_list_dlq()->set_group(group);
  return f;
}

wire::Frame ReplayDlqFrame(const std::string& group, uint64_t id) {
  wire::Frame f;
  f.mutable_replay_dlq()->set_group(group);
  f.mutable_replay_dlq()->set_message_id(id);
  return f;
}

wire::Frame StatsFrame() {
  wire::Frame f;
  f.mutable_stats();
  return f;
}

std::string Describe(const wire::Frame& frame) {
  if (frame.has_error()) {
    return absl::StrCat(wire::ErrorCode_Name(frame.error().code()), ": ", frame.error().message());
  }
  if (frame.has_end_tx_ok()) {
    return absl::StrCat("EndTxOk ", wire::HalfState_Name(frame.end_tx_ok().state()),
                        frame.end_tx_ok().applied() ? " applied" : " not applied");
  }
  return frame.ShortDebugString();
}

std::string Describe(const std::optional<wire::Frame>& answer) {
  return answer ? Describe(*answer) : "no answer";
}

}  // namespace txmsg::broker::testing
