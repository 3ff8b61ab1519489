// BrokerCore: the caps on names and the bounds on a message: its key, its
// properties, and its size once wrapped for delivery.
//
// A client creates a topic by sending to it
// or subscribing to it, and a group by subscribing (one per group and topic)
// or by producing as a producer group; each kind is capped so that names
// cannot grow the broker's memory without bound. Only new names are
// refused: names that exist keep working, and the log's replay is never
// refused (a broker restarted with a lower cap still starts).
#include <string>

#include "absl/strings/str_cat.h"
#include "broker/core/broker_core.h"

namespace txmsg::broker {
namespace {

absl::Status Exhausted(const char* what, size_t cap, const char* flag, const std::string& name) {
  return absl::ResourceExhaustedError(absl::StrCat("the broker holds its maximum of ", cap, " ",
                                                   what, " (--", flag, "); '", name,
                                                   "' would be a new one"));
}

}  // namespace

absl::Status BrokerCore::CheckContentBounds(const wire::MessageContent& content) const {
  if (content.key().size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the key has ", content.key().size(), " bytes; at most ", kMaxKeyBytes));
  }
  if (static_cast<size_t>(content.properties_size()) > kMaxProperties) {
    return absl::InvalidArgumentError(absl::StrCat("the message has ", content.properties_size(),
                                                   " properties; at most ", kMaxProperties));
  }
  for (const auto& [name, value] : content.properties()) {
    if (name.size() > kMaxNameLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("a property name has ", name.size(), " bytes; at most ", kMaxNameLength));
    }
    if (value.size() > kMaxPropertyValueBytes) {
      return absl::InvalidArgumentError(absl::StrCat("property '", name, "' has ", value.size(),
                                                     " bytes; at most ", kMaxPropertyValueBytes));
    }
  }
  // The message goes out again inside a Deliver or CheckTx frame, with a
  // group name, a tx id and a few numbers around it: accept only what still
  // fits the frame limit then, or it could never be delivered.
  const size_t size = content.ByteSizeLong();
  if (size + kFrameEnvelopeReserve > options_.max_frame_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("the message takes ", size, " bytes; at most ",
                     options_.max_frame_size - kFrameEnvelopeReserve, " fit (the frame limit of ",
                     options_.max_frame_size, " less ", kFrameEnvelopeReserve,
                     " bytes for the delivery envelope)"));
  }
  return absl::OkStatus();
}

bool BrokerCore::AdmitMessage(PeerState& ps, uint64_t corr, const wire::MessageContent& content,
                              const std::string* producer_group) {
  if (absl::Status s = CheckContentBounds(content); !s.ok()) {
    SendError(ps, corr, wire::ERROR_INVALID_REQUEST, std::string(s.message()));
    return false;
  }
  absl::Status s = AdmitTopic(content.topic());
  if (s.ok() && producer_group != nullptr) s = AdmitProducerGroup(*producer_group);
  if (s.ok()) return true;
  SendError(ps, corr, wire::ERROR_RESOURCE_EXHAUSTED, std::string(s.message()));
  return false;
}

size_t BrokerCore::group_count() const {
  return registry_.live_group_topic_count() + registry_.producer_group_count();
}

absl::Status BrokerCore::AdmitTopic(const std::string& topic) const {
  if (registry_.FindTopic(topic) || registry_.live_topic_count() < options_.max_topics) {
    return absl::OkStatus();
  }
  return Exhausted("topics", options_.max_topics, "max_topics", topic);
}

absl::Status BrokerCore::AdmitSubscription(const std::string& group,
                                           const std::string& topic) const {
  if (absl::Status s = AdmitTopic(topic); !s.ok()) return s;
  if (registry_.HasGroupTopic(group, topic) || group_count() < options_.max_groups)
    return absl::OkStatus();
  return Exhausted("groups", options_.max_groups, "max_groups",
                   absl::StrCat(group, "' on topic '", topic));
}

absl::Status BrokerCore::AdmitProducerGroup(const std::string& group) const {
  if (registry_.IsProducerGroup(group) || group_count() < options_.max_groups) {
    return absl::OkStatus();
  }
  return Exhausted("groups", options_.max_groups, "max_groups", group);
}

}  // namespace txmsg::broker
