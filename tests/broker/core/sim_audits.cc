// The models against what the broker shows: its admin answers (open halves,
// counters, groups, DLQs) and its idle credit, checked after every step.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/broker/core/sim_models.h"

namespace txmsg::broker::testing {

// ----------------------------------------------------------------- TxModel

void TxModel::AuditOpenHalves(const wire::Frame& list_half) {
  if (!list_half.has_list_half_ok()) {
    return violations_->Fail("ListHalf failed: " + list_half.ShortDebugString());
  }
  std::map<uint64_t, const wire::HalfInfo*> listed;
  for (const wire::HalfInfo& info : list_half.list_half_ok().messages()) {
    listed[info.message_id()] = &info;
  }
  for (uint64_t id : state_.open) {
    Half& h = state_.halves.at(id);
    auto it = listed.find(id);
    if (it == listed.end()) {
      return violations_->Fail(absl::StrCat("acknowledged half ", id, " (",
                                            wire::HalfState_Name(h.state), ", tx ", h.tx_id,
                                            ") is missing from ListHalf"));
    }
    const wire::HalfInfo& info = *it->second;
    if (h.checks_uncertain) {
      if (info.checks() > h.checks) {
        return violations_->Fail(absl::StrCat("half ", id, " shows ", info.checks(),
                                              " checks after a restart; only ", h.checks,
                                              " were ever due"));
      }
      h.checks = info.checks();
      h.checks_uncertain = false;
    }
    if (info.state() != h.state || info.checks() != h.checks || info.tx_id() != h.tx_id ||
        info.producer_group() != h.group || info.content().topic() != h.topic) {
      return violations_->Fail(absl::StrCat("half ", id, " listed as ", info.ShortDebugString(),
                                            "; expected ", wire::HalfState_Name(h.state), " after ",
                                            h.checks, " checks, tx ", h.tx_id));
    }
    listed.erase(it);
  }
  if (!listed.empty()) {
    const uint64_t id = listed.begin()->first;
    auto h = state_.halves.find(id);
    violations_->Fail(
        absl::StrCat("ListHalf shows ", id, " as ",
                     wire::HalfState_Name(listed.begin()->second->state()), ", but it is ",
                     h == state_.halves.end() ? "unknown" : wire::HalfState_Name(h->second.state)));
  }
}

void TxModel::AuditStats(const wire::Frame& stats) {
  uint64_t pending = 0;
  for (uint64_t id : state_.open) pending += state_.halves.at(id).state == wire::HALF_PENDING;
  const uint64_t discarded = state_.open.size() - pending;
  if (!stats.has_stats_ok() || stats.stats_ok().pending_half() != pending ||
      stats.stats_ok().discarded() != discarded) {
    violations_->Fail(absl::StrCat("Stats should count ", pending, " pending and ", discarded,
                                   " discarded halves: ", stats.ShortDebugString()));
  }
}

// ----------------------------------------------------------- DeliveryModel

void DeliveryModel::CheckIdleCredit() {
  for (const auto& [gt, g] : state_.groups) {
    std::optional<uint64_t> idle;
    for (const auto& [id, c] : state_.consumers) {
      if (c.gt == gt && HeldBy(g, id) < c.credit) idle = id;
    }
    if (!idle) continue;
    for (uint64_t id : g.owed) {
      if (g.inflight.contains(id) || g.waiting.contains(id) || g.dlq.contains(id)) continue;
      return violations_->Fail(absl::StrCat("message ", id, " waits for group ", gt.first,
                                            " topic ", gt.second, " while connection ", *idle,
                                            " has credit"));
    }
  }
}

void DeliveryModel::AuditGroups(const wire::Frame& list_groups) {
  if (!list_groups.has_list_groups_ok()) {
    return violations_->Fail("ListGroups failed: " + list_groups.ShortDebugString());
  }
  size_t seen = 0;
  for (const wire::GroupInfo& info : list_groups.list_groups_ok().groups()) {
    const GroupTopic gt{info.group(), info.topic()};
    auto it = state_.groups.find(gt);
    if (it == state_.groups.end()) {
      return violations_->Fail(
          "ListGroups shows a group never subscribed (or lost with a "
          "power cut): " +
          info.ShortDebugString());
    }
    ++seen;
    const Group& g = it->second;
    const uint64_t min_lag = g.owed.size() - std::min(g.owed.size(), g.dlq.size());
    const uint64_t max_lag = g.owed.size() + g.may.size() - g.dlq.size();
    if (info.in_flight() != g.inflight.size() || info.dlq() != g.dlq.size() ||
        info.consumers() != Consumers(gt) || info.lag() < min_lag || info.lag() > max_lag) {
      return violations_->Fail(absl::StrCat(
          "ListGroups shows ", info.ShortDebugString(), "; expected in_flight ", g.inflight.size(),
          " dlq ", g.dlq.size(), " consumers ", Consumers(gt), " lag ", min_lag, "..", max_lag));
    }
  }
  if (seen != state_.groups.size()) {
    violations_->Fail(
        absl::StrCat("ListGroups shows ", seen, " groups; expected ", state_.groups.size()));
  }
}

void DeliveryModel::AuditDlq(const std::string& group, const wire::Frame& list_dlq) {
  std::set<std::pair<uint64_t, std::string>> expected;  // (id, topic)
  bool found = false;
  for (const auto& [gt, g] : state_.groups) {
    if (gt.first != group) continue;
    found = true;
    for (uint64_t id : g.dlq) expected.emplace(id, gt.second);
  }
  if (!found) {
    if (list_dlq.error().code() != wire::ERROR_NOT_FOUND) {
      violations_->Fail("ListDlq of an unknown group " + group + ": " +
                        list_dlq.ShortDebugString());
    }
    return;
  }
  std::set<std::pair<uint64_t, std::string>> listed;
  for (const wire::DlqEntry& e : list_dlq.list_dlq_ok().entries()) {
    listed.emplace(e.message_id(), e.topic());
  }
  if (!list_dlq.has_list_dlq_ok() || listed != expected) {
    std::vector<uint64_t> ids;
    for (const auto& [id, topic] : expected) ids.push_back(id);
    violations_->Fail(absl::StrCat("DLQ of group ", group, " should hold [",
                                   absl::StrJoin(ids, ","), "]: ", list_dlq.ShortDebugString()));
  }
}

std::vector<DeliveryModel::GroupTopic> DeliveryModel::GroupTopics() const {
  std::vector<GroupTopic> out;
  for (const auto& [gt, g] : state_.groups) out.push_back(gt);
  return out;
}

std::set<std::string> DeliveryModel::GroupNames() const {
  std::set<std::string> out;
  for (const auto& [gt, g] : state_.groups) out.insert(gt.first);
  return out;
}

size_t DeliveryModel::Consumers(const GroupTopic& gt) const {
  return std::count_if(state_.consumers.begin(), state_.consumers.end(),
                       [&](const auto& c) { return c.second.gt == gt; });
}

std::string DeliveryModel::Undelivered() const {
  for (const auto& [gt, g] : state_.groups) {
    if (g.owed.empty()) continue;
    std::vector<uint64_t> first(g.owed.begin(), g.owed.end());
    if (first.size() > 5) first.resize(5);
    std::string where;
    for (uint64_t id : first) {
      if (g.inflight.contains(id)) {
        absl::StrAppend(&where, " ", id, ": in flight with ", g.inflight.at(id).consumer, ";");
      } else if (g.waiting.contains(id)) {
        absl::StrAppend(&where, " ", id, ": waiting for a retry at ", g.waiting.at(id).due_ms, ";");
      } else if (g.dlq.contains(id)) {
        absl::StrAppend(&where, " ", id, ": in the DLQ;");
      }
    }
    return absl::StrCat("group ", gt.first, " topic ", gt.second, " was never given ",
                        g.owed.size(), " committed messages (", absl::StrJoin(first, ","),
                        (g.owed.size() > 5 ? ",..." : ""), ")", where, " consumers ",
                        Consumers(gt));
  }
  return "";
}

}  // namespace txmsg::broker::testing
