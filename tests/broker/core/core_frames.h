// The frames a test sends to the broker core, built in one line each, and a
// short description of an answer for failure messages.
#ifndef TXMSG_TESTS_BROKER_CORE_CORE_FRAMES_H_
#define TXMSG_TESTS_BROKER_CORE_CORE_FRAMES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "txmsg/broker.pb.h"

namespace txmsg::broker::testing {

wire::Frame HelloFrame(wire::ClientRole role, const std::string& producer_group = "",
                       const std::string& client_id = "");
wire::Frame SendHalfFrame(const std::string& topic, const std::string& tx_id,
                          const std::string& body);
wire::Frame SendFrame(const std::string& topic, const std::string& body);
wire::Frame EndTxFrame(uint64_t id, const std::string& tx_id, wire::TxOutcome outcome);
wire::Frame CheckAnswerFrame(uint64_t id, const std::string& tx_id, wire::TxOutcome outcome);
wire::Frame SubscribeFrame(const std::string& topic, const std::string& group,
                           uint32_t max_unacked);
wire::Frame AckFrame(const std::string& group, const std::string& topic,
                     const std::vector<uint64_t>& ids);
wire::Frame NackFrame(const std::string& group, const std::string& topic, uint64_t id,
                      uint32_t delay_ms = 0);
wire::Frame ResolveFrame(uint64_t id, wire::TxOutcome outcome);
wire::Frame ShowHalfFrame(uint64_t id);
wire::Frame ListHalfFrame(wire::HalfState state = wire::HALF_STATE_UNSPECIFIED);
wire::Frame ListGroupsFrame();
wire::Frame ListDlqFrame(const std::string& group);
wire::Frame ReplayDlqFrame(const std::string& group, uint64_t id = 0);
wire::Frame StatsFrame();

// "COMMITTED", "ERROR_CONFLICT: ...", for failure messages.
std::string Describe(const wire::Frame& frame);
// "no answer" when there is none.
std::string Describe(const std::optional<wire::Frame>& answer);

}  // namespace txmsg::broker::testing

#endif  // TXMSG_TESTS_BROKER_CORE_CORE_FRAMES_H_
