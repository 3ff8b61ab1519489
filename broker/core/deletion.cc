// BrokerCore: an operator deletes a topic or a consumer group's
// subscription to a topic, and the broker forgets messages nobody needs.
//
// A deletion is refused while it would lose live work: open halves of the
// topic (their producers still expect an outcome), messages of it on their
// way to the log, connected consumers. Otherwise its record is queued first
// and the state changes at once, in the log's order, so that the replay
// (replay.cc) rebuilds exactly this: the deleted names are gone, their
// slots free under the caps, and a name used again starts empty. The
// operator is answered once the record is durable.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/core/broker_core.h"
#include "broker/core/event_log.h"
#include "txmsg/records.pb.h"

namespace txmsg::broker {
namespace {

constexpr size_t kMaxIdsPerForgetRecord = 65'536;

}  // namespace

std::optional<std::string> BrokerCore::TopicBusy(uint32_t t) const {
  const std::string& name = registry_.TopicName(t);
  uint64_t open = 0;
  halves_.ForEachOpenHalf([&](uint64_t, const MessageEntry& m) { open += m.topic == t; });
  if (open > 0) {
    return absl::StrCat("topic '", name, "' has ", open,
                        " open half message(s) (pending or discarded); commit or roll them back "
                        "first (txmsgctl half list --topic ",
                        name, ")");
  }
  if (registry_.topic(t).storing > 0) {
    return absl::StrCat("messages for topic '", name, "' are being stored right now; try again");
  }
  std::vector<std::string> busy;
  for (uint32_t g : registry_.topic(t).groups) {
    const GroupTopic& gt = registry_.group_topic(g);
    if (!gt.consumers.empty()) busy.push_back(registry_.Name(gt.group));
  }
  if (!busy.empty()) {
    return absl::StrCat("topic '", name, "' has connected consumers in group(s) ",
                        absl::StrJoin(busy, ", "), "; stop them first");
  }
  return std::nullopt;
}

void BrokerCore::HandleDeleteTopic(PeerState& ps, uint64_t corr, const wire::DeleteTopic& req) {
  const std::optional<uint32_t> t = registry_.FindTopic(req.topic());
  if (!t) {
    return SendError(ps, corr, wire::ERROR_NOT_FOUND, absl::StrCat("no topic '", req.topic(), "'"));
  }
  if (std::optional<std::string> busy = TopicBusy(*t)) {
    return SendError(ps, corr, wire::ERROR_FAILED_PRECONDITION, *busy);
  }
  store::StoredDeleteTopic rec;
  rec.set_topic(req.topic());
  rec.set_time_ms(clock_());
  wire::Frame ok;
  wire::DeleteTopicOk& answer = *ok.mutable_delete_topic_ok();
  answer.set_dropped_groups(static_cast<uint32_t>(registry_.topic(*t).groups.size()));
  answer.set_dropped_messages(halves_.IdsOfTopic(*t).size());
  if (!AppendDeletion(ps, corr, RecordType::kDeleteTopic, rec, ok)) return;
  DropTopic(*t);
  LogEvent("operator ", ps.client_id, " deleted topic ", req.topic(), ": ",
           answer.dropped_messages(), " messages and ", answer.dropped_groups(), " groups dropped");
}

void BrokerCore::HandleDeleteGroup(PeerState& ps, uint64_t corr, const wire::DeleteGroup& req) {
  GroupTopic* gt = registry_.FindGroupTopic(req.group(), req.topic());
  if (gt == nullptr) {
    return SendError(
        ps, corr, wire::ERROR_NOT_FOUND,
        absl::StrCat("no consumer group '", req.group(), "' on topic '", req.topic(), "'"));
  }
  if (!gt->consumers.empty()) {
    return SendError(
        ps, corr, wire::ERROR_FAILED_PRECONDITION,
        absl::StrCat("consumer group '", req.group(), "' on topic '", req.topic(), "' has ",
                     gt->consumers.size(), " connected consumer(s); stop them first"));
  }
  store::StoredDeleteGroup rec;
  rec.set_group(req.group());
  rec.set_topic(req.topic());
  rec.set_time_ms(clock_());
  wire::Frame ok;
  ok.mutable_delete_group_ok()->set_dlq(gt->queue.dlq().size());
  ok.mutable_delete_group_ok()->set_unacked(gt->queue.unacked());
  if (!AppendDeletion(ps, corr, RecordType::kDeleteGroup, rec, ok)) return;
  // What only this group still needed is dropped (with retention, the
  // sweep decides by time, as for any acked message).
  std::vector<uint64_t> forgotten;
  for (uint64_t id : DropGroupTopic(*gt)) {
    MessageEntry* m = halves_.Find(id);
    if (m == nullptr || m->state() != wire::HALF_COMMITTED) continue;
    if (m->unacked_groups > 0) --m->unacked_groups;
    if (m->unacked_groups == 0 && options_.retention_ms == 0) {
      Forget(id);
      forgotten.push_back(id);
    }
  }
  AppendForget(forgotten);
  LogEvent("operator ", ps.client_id, " deleted consumer group ", req.group(), " on topic ",
           req.topic(), ": ", ok.delete_group_ok().unacked(), " unacked (",
           ok.delete_group_ok().dlq(), " in its DLQ), ", forgotten.size(), " messages dropped");
}

bool BrokerCore::AppendDeletion(PeerState& ps, uint64_t corr, RecordType type,
                                const google::protobuf::Message& record, wire::Frame ok) {
  TxReply reply = ReplyLater(ps, corr);
  const bool queued =
      Append(type, record, [reply, ok = std::move(ok)](absl::StatusOr<uint64_t> pos) {
        if (pos.ok()) return reply(ok);
        reply(ErrorFrame(0, wire::ERROR_UNAVAILABLE,
                         "the deletion could not be stored (" + pos.status().ToString() +
                             "): it may come back after a restart; delete it again"));
      });
  if (!queued) {
    SendError(ps, corr, wire::ERROR_UNAVAILABLE, "the broker cannot store the deletion right now");
  }
  return queued;
}

std::vector<uint64_t> BrokerCore::DropGroupTopic(GroupTopic& gt) {
  const uint32_t index = gt.index;
  // Its acks go with it: the slot may serve a new group-topic, which must
  // not look as if it had acked them.
  for (uint64_t id : halves_.IdsOfTopic(gt.topic)) {
    auto& acked = halves_.Find(id)->acked_by;
    acked.erase(std::remove(acked.begin(), acked.end(), index), acked.end());
  }
  std::vector<uint64_t> owed;
  gt.queue.ForEachUnacked([&owed](uint64_t id) { owed.push_back(id); });
  registry_.RemoveGroupTopic(index);
  return owed;
}

void BrokerCore::DropTopic(uint32_t t) {
  const std::vector<uint32_t> groups = registry_.topic(t).groups;
  for (uint32_t g : groups) registry_.RemoveGroupTopic(g);
  halves_.ForgetTopic(t);
  registry_.RemoveTopic(t);
}

void BrokerCore::AppendForget(const std::vector<uint64_t>& ids) {
  for (size_t from = 0; from < ids.size(); from += kMaxIdsPerForgetRecord) {
    store::StoredForget rec;
    const size_t to = std::min(ids.size(), from + kMaxIdsPerForgetRecord);
    for (size_t k = from; k < to; ++k) rec.add_message_ids(ids[k]);
    Append(RecordType::kForget, rec, [](absl::StatusOr<uint64_t>) {});
  }
}

}  // namespace txmsg::broker
