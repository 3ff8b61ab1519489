// TxModel: half messages as the simulation expects the broker core to keep
// them: acknowledged sends, outcomes (applied once, never contrary),
// check-backs on schedule, discards after max_checks.
#include "absl/strings/str_cat.h"
#include "tests/broker/core/sim_models.h"

namespace txmsg::broker::testing {
namespace {

std::string Show(const std::optional<wire::Frame>& answer) {
  if (!answer) return "no answer";
  if (answer->has_error()) {
    return absl::StrCat(wire::ErrorCode_Name(answer->error().code()), " (",
                        answer->error().message(), ")");
  }
  return answer->ShortDebugString();
}

bool IsOk(const std::optional<wire::Frame>& answer, wire::HalfState state, bool applied) {
  return answer && answer->has_end_tx_ok() && answer->end_tx_ok().state() == state &&
         answer->end_tx_ok().applied() == applied;
}

bool IsError(const std::optional<wire::Frame>& answer, wire::ErrorCode code) {
  return answer && answer->has_error() && answer->error().code() == code;
}

wire::HalfState Target(wire::TxOutcome outcome) {
  return outcome == wire::TX_COMMIT ? wire::HALF_COMMITTED : wire::HALF_ROLLED_BACK;
}

}  // namespace

TxModel::TxModel(const BrokerOptions& options, DeliveryModel* delivery, Violations* violations)
    : options_(options), delivery_(delivery), violations_(violations) {}

bool TxModel::NewId(uint64_t id, const char* what) {
  if (id <= state_.max_id) {
    violations_->Fail(absl::StrCat(what, " acknowledged with id ", id,
                                   ", not above the last id acknowledged (", state_.max_id, ")"));
    return false;
  }
  state_.max_id = id;
  return true;
}

std::optional<uint64_t> TxModel::OnSendHalf(const std::string& topic, const std::string& group,
                                            const std::string& tx_id, const std::string& body,
                                            uint64_t now, const std::optional<wire::Frame>& answer,
                                            bool holding) {
  if (holding) {
    if (answer) {
      violations_->Fail(
          absl::StrCat("SendHalf ", tx_id, " answered before it could be durable: ", Show(answer)));
    }
    return std::nullopt;
  }
  if (!answer || !answer->has_send_half_ok()) {
    violations_->Fail(absl::StrCat("SendHalf ", tx_id, " not acknowledged: ", Show(answer)));
    return std::nullopt;
  }
  const uint64_t id = answer->send_half_ok().message_id();
  if (!NewId(id, "SendHalf")) return std::nullopt;
  Half& h = state_.halves[id];
  h = Half{topic, group, tx_id, body, now};
  h.next_check_ms = now + options_.tx_timeout_ms;
  state_.open.insert(id);
  return id;
}

std::optional<uint64_t> TxModel::OnSend(const std::string& topic, const std::string& body,
                                        const std::optional<wire::Frame>& answer, bool holding) {
  if (holding) {
    if (answer) violations_->Fail("Send answered before it could be durable: " + Show(answer));
    return std::nullopt;
  }
  if (!answer || !answer->has_send_ok()) {
    violations_->Fail("Send not acknowledged: " + Show(answer));
    return std::nullopt;
  }
  const uint64_t id = answer->send_ok().message_id();
  if (!NewId(id, "Send")) return std::nullopt;
  delivery_->Commit(id, topic, body);
  return id;
}

void TxModel::OnOutcome(uint64_t id, wire::TxOutcome outcome, Source source,
                        const std::optional<wire::Frame>& answer, bool holding) {
  const std::string what = absl::StrCat(
      source == Source::kOperator ? "ResolveHalf "
                                  : (source == Source::kCheckAnswer ? "CheckTxAnswer " : "EndTx "),
      wire::TxOutcome_Name(outcome), " for ", id);
  auto it = state_.halves.find(id);
  if (it == state_.halves.end()) {
    if (!IsError(answer, wire::ERROR_NOT_FOUND)) {
      violations_->Fail(absl::StrCat(what, " (never stored) should be NOT_FOUND: ", Show(answer)));
    }
    return;
  }
  Half& h = it->second;
  const bool open = h.state == wire::HALF_PENDING || h.state == wire::HALF_DISCARDED;
  if (!open) return ExpectSettledAnswer(id, h, outcome, answer);
  if (h.deciding) {
    if (answer) {
      violations_->Fail(absl::StrCat(
          what, " answered while an outcome for it was not yet durable: ", Show(answer)));
    }
    return;
  }
  if (outcome == wire::TX_UNKNOWN) {
    if (!IsOk(answer, h.state, false)) {
      violations_->Fail(absl::StrCat(what, " should leave it ", wire::HalfState_Name(h.state), ": ",
                                     Show(answer)));
    }
    return;
  }
  if (holding) {
    if (answer) violations_->Fail(what + " answered before it could be durable: " + Show(answer));
    h.deciding = true;
    return;
  }
  const wire::HalfState target = Target(outcome);
  if (!IsOk(answer, target, true)) {
    return violations_->Fail(absl::StrCat(what, " (", wire::HalfState_Name(h.state),
                                          ") should be applied: ", Show(answer)));
  }
  h.state = target;
  state_.open.erase(id);
  if (target == wire::HALF_COMMITTED) delivery_->Commit(id, h.topic, h.body);
}

void TxModel::ExpectSettledAnswer(uint64_t id, const Half& h, wire::TxOutcome outcome,
                                  const std::optional<wire::Frame>& answer) {
  const bool contrary = outcome != wire::TX_UNKNOWN && Target(outcome) != h.state;
  const std::string what = absl::StrCat(wire::TxOutcome_Name(outcome), " for ", id, ", settled ",
                                        wire::HalfState_Name(h.state), ", answered ", Show(answer));
  if (IsError(answer, wire::ERROR_NOT_FOUND)) {
    if (h.state == wire::HALF_COMMITTED && delivery_->MustRetain(id)) {
      violations_->Fail("a committed half still owed to a group was forgotten: " + what);
    }
    return;
  }
  if (contrary) {
    if (!IsError(answer, wire::ERROR_CONFLICT)) {
      violations_->Fail("a contrary outcome was not refused as a conflict: " + what);
    }
    return;
  }
  if (!IsOk(answer, h.state, false)) {
    violations_->Fail("a repeated outcome was not answered with the settled state: " + what);
  }
}

std::map<uint64_t, uint32_t> TxModel::OnTick(uint64_t now,
                                             const std::map<std::string, int>& producers) {
  std::map<uint64_t, uint32_t> due;
  for (uint64_t id : state_.open) {
    Half& h = state_.halves.at(id);
    if (h.state != wire::HALF_PENDING || h.deciding || h.next_check_ms > now) continue;
    if (h.checks >= options_.max_checks) {
      h.state = wire::HALF_DISCARDED;
      if (discarded_in_hold_) discarded_in_hold_->push_back(id);
      continue;
    }
    auto p = producers.find(h.group);
    h.next_check_ms = now + options_.check_interval_ms;
    ++h.checks;
    if (p == producers.end() || p->second == 0) continue;  // nobody to ask: counted, not sent
    due[id] = h.checks;
  }
  return due;
}

void TxModel::OnCheckTx(const std::string& group, const wire::CheckTx& check,
                        std::map<uint64_t, uint32_t>& due) {
  const uint64_t id = check.message_id();
  auto it = due.find(id);
  if (it == due.end()) {
    auto h = state_.halves.find(id);
    return violations_->Fail(absl::StrCat(
        "check-back for ", id, " not due (",
        h == state_.halves.end() ? "never stored" : wire::HalfState_Name(h->second.state), ")"));
  }
  const Half& h = state_.halves.at(id);
  if (check.check_number() != it->second || check.tx_id() != h.tx_id || group != h.group ||
      check.content().body() != h.body) {
    violations_->Fail(absl::StrCat("check-back ", check.ShortDebugString(), " to group ", group,
                                   "; expected check ", it->second, " of tx ", h.tx_id,
                                   " for group ", h.group));
  }
  due.erase(it);
}

void TxModel::OnRestart() {
  for (uint64_t id : state_.open) {
    Half& h = state_.halves.at(id);
    // Check records are written after the fact and may be lost with the
    // power: the broker's count is at most the model's, adopted at the
    // audit that follows every restart.
    h.checks_uncertain = true;
    h.deciding = false;
    h.next_check_ms = h.store_ms + options_.tx_timeout_ms;
  }
}

void TxModel::BeginHold() { discarded_in_hold_.emplace(); }

void TxModel::PowerCutDuringHold() {
  for (uint64_t id : *discarded_in_hold_) state_.halves.at(id).state = wire::HALF_PENDING;
  discarded_in_hold_.reset();
  for (uint64_t id : state_.open) state_.halves.at(id).deciding = false;
}

std::string TxModel::WhyNotDeliverable(uint64_t id) const {
  auto it = state_.halves.find(id);
  if (it == state_.halves.end()) return absl::StrCat("message ", id, " delivered but never stored");
  if (it->second.state == wire::HALF_ROLLED_BACK) {
    return absl::StrCat("rolled-back half ", id, " delivered");
  }
  return absl::StrCat("half ", id, " delivered while ", wire::HalfState_Name(it->second.state));
}

}  // namespace txmsg::broker::testing
