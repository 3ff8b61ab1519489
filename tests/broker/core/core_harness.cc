#include "tests/broker/core/core_harness.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

bool SyncGate::writer_waiting() {
  absl::MutexLock lock(&mu_);
  return waiting_;
}

void SyncGate::PassOrWait() {
  absl::MutexLock lock(&mu_);
  waiting_ = true;
  mu_.Await(absl::Condition(&open_));
  waiting_ = false;
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

std::vector<wire::Frame> CoreClient::TakeUnclaimed() {
  Sort();
  std::vector<wire::Frame> out;
  out.swap(answers_);
  return out;
}

void CoreClient::Disconnect() {
  if (!connected_) return;
  connected_ = false;
  std::erase(harness_->connected_, this);
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
  for (CoreClient* c : connected_) c->connected_ = false;
  connected_.clear();
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

void CoreHarness::WaitForWriterToPark() {
  const absl::Time deadline = absl::Now() + kSettleTimeout;
  while (tracker_.in_flight() > 0 && !gate_.writer_waiting()) {
    if (absl::Now() > deadline) {
      ADD_FAILURE() << "the log's writer never reached the sync gate";
      return;
    }
    absl::SleepFor(absl::Microseconds(20));
  }
}

absl::Status CoreHarness::PowerCut() {
  if (holding_syncs_) WaitForWriterToPark();
  // A machine without power writes nothing more: not the batch waiting at
  // the gate, nor a new segment the writer would start after it.
  fault_fs_.SetFailWrites(true);
  fault_fs_.SetFailSyncs(true);
  absl::Status cut = fault_fs_.SimulatePowerCut(/*torn=*/false);
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
    std::vector<CoreClient*> closed;
    for (CoreClient* c : connected_) {
      if (c->peer_->closed()) closed.push_back(c);
    }
    for (CoreClient* c : closed) c->Disconnect();
    ran += closed.size();
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
    connected_.push_back(&client);
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

}  // namespace txmsg::broker::testing
