#include "tests/broker/core/core_harness.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace txmsg::broker::testing {
namespace {

// Long enough for any append on a loaded machine; reaching it means a hang.
constexpr absl::Duration kSettleTimeout = absl::Seconds(60);

bool IsPushed(const wire::Frame& f) {
  return f.body_case() == wire::Frame::kDeliver || f.body_case() == wire::Frame::kCheckTx;
}

}  // namespace

// ---------------------------------------------------------------- SyncGate

void SyncGate::Close() {
  absl::MutexLock lock(&mu_);
  open_ = false;
}

void SyncGate::Open() {
  absl::MutexLock lock(&mu_);
  open_ = true;
}

void SyncGate::PassOrWait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&open_));
}

// -------------------------------------------------------------- CoreClient

CoreClient::CoreClient(CoreHarness* harness, std::unique_ptr<FakePeer> peer)
    : harness_(harness), peer_(std::move(peer)) {}

uint64_t CoreClient::Send(wire::Frame request, bool one_way) {
  const uint64_t corr = one_way ? 0 : next_correlation_++;
  request.set_correlation_id(corr);
  if (!connected_ || !harness_->is_open()) {
    ADD_FAILURE() << "request on a closed connection: " << request.ShortDebugString();
    return corr;
  }
  harness_->core().OnFrame(peer_.get(), std::move(request));
  return corr;
}

void CoreClient::Sort() {
  for (wire::Frame& f : peer_->frames()) {
    (IsPushed(f) ? pushed_ : answers_).push_back(std::move(f));
  }
  peer_->frames().clear();
}

std::optional<wire::Frame> CoreClient::TakeAnswer(uint64_t correlation_id) {
  Sort();
  auto it = std::find_if(answers_.begin(), answers_.end(), [&](const wire::Frame& f) {
    return f.correlation_id() == correlation_id;
  });
  if (it == answers_.end()) return std::nullopt;
  wire::Frame answer = std::move(*it);
  answers_.erase(it);
  return answer;
}

wire::Frame CoreClient::Call(wire::Frame request) {
  const uint64_t corr = Send(std::move(request));
  harness_->Settle();
  if (std::optional<wire::Frame> answer = TakeAnswer(corr)) return *std::move(answer);
  wire::Frame none;
  none.set_correlation_id(corr);
  none.mutable_error()->set_message("no answer");
  return none;
}

std::vector<wire::Frame> CoreClient::TakePushed() {
  Sort();
  std::vector<wire::Frame> out;
  out.swap(pushed_);
  return out;
}

void CoreClient::Disconnect() {
  if (!connected_) return;
  connected_ = false;
  if (harness_->is_open()) harness_->core().OnDisconnect(peer_.get());
}

// ------------------------------------------------------------- CoreHarness

CoreHarness::CoreHarness(Options options) : options_(std::move(options)) {}

CoreHarness::~CoreHarness() { Close(); }

absl::Status CoreHarness::Open() {
  if (core_) return absl::FailedPreconditionError("the core is open already");
  log::LogOptions log_options;
  log_options.dir = kDir;
  log_options.segment_size = options_.segment_size;
  log_options.fs = &fault_fs_;
  log_options.tracker = &tracker_;
  log_options.before_sync = [this](std::string_view) { gate_.PassOrWait(); };
  absl::StatusOr<std::unique_ptr<BrokerCore>> core =
      BrokerCore::Open(options_.broker, std::move(log_options), io_, clock_.AsClock());
  if (!core.ok()) return core.status();
  core_ = *std::move(core);
  Settle();
  return absl::OkStatus();
}

void CoreHarness::DropClients() {
  for (auto& c : clients_) c->connected_ = false;
}

void CoreHarness::Close() {
  if (!core_) return;
  gate_.Open();  // a graceful stop writes and syncs what is queued
  holding_syncs_ = false;
  DropClients();
  core_.reset();
  io_.restart();
  io_.poll();  // completions posted during the stop find the core gone
}

absl::Status CoreHarness::PowerCut() {
  absl::Status cut = fault_fs_.SimulatePowerCut(/*torn=*/false);
  // The writer may now go on: its fsync fails (the power is out) and every
  // append after the gate closed fails with it.
  gate_.Open();
  holding_syncs_ = false;
  DropClients();
  core_.reset();
  io_.restart();
  io_.poll();
  fault_fs_.Restore();
  return cut;
}

void CoreHarness::HoldSyncs() {
  Settle();
  holding_syncs_ = true;
  gate_.Close();
}

void CoreHarness::Settle() {
  while (core_) {
    if (!holding_syncs_ && !tracker_.WaitIdle(kSettleTimeout)) {
      ADD_FAILURE() << tracker_.in_flight() << " log appends never completed";
      return;
    }
    io_.restart();
    size_t ran = io_.poll();
    // A connection the core closed goes away, as broker/net's session does.
    for (auto& c : clients_) {
      if (c->connected_ && c->peer_->closed()) {
        c->Disconnect();
        ++ran;
      }
    }
    if (ran == 0 && (holding_syncs_ || tracker_.in_flight() == 0)) return;
  }
}

void CoreHarness::Tick() {
  if (!core_) return;
  core_->Tick();
  Settle();
}

void CoreHarness::Advance(uint64_t ms) {
  clock_.Advance(ms);
  Tick();
}

CoreClient& CoreHarness::Connect() {
  clients_.push_back(
      std::make_unique<CoreClient>(this, std::make_unique<FakePeer>(next_peer_id_++)));
  CoreClient& client = *clients_.back();
  if (core_) {
    core_->OnConnect(&client.peer());
  } else {
    ADD_FAILURE() << "Connect while the core is closed";
    client.connected_ = false;
  }
  return client;
}

CoreClient& CoreHarness::Connect(wire::ClientRole role, const std::string& producer_group,
                                 const std::string& client_id) {
  CoreClient& client = Connect();
  const wire::Frame ok = client.Call(HelloFrame(role, producer_group, client_id));
  EXPECT_TRUE(ok.has_hello_ok()) << Describe(ok);
  return client;
}

// ------------------------------------------------------------------ frames

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

}  // namespace txmsg::broker::testing
