// Drives a BrokerCore in-process, as broker/net would but without sockets,
// threads of its own or real time: fake peers record the frames the core
// sends them, a manual clock stands still until a test moves it, and the log
// lives in memory behind the fault-injecting file system, so a test can cut
// the power and reopen. Every call that hands the core work returns only once
// the core is quiet again (every log append completed and its completion run),
// so a test reads the answers right after asking and runs the same way every
// time. Used by the core's tests and by the seeded simulation.
//
// Written against BrokerCore's public interface and the wire protocol only.
#ifndef TXMSG_TESTS_BROKER_CORE_CORE_HARNESS_H_
#define TXMSG_TESTS_BROKER_CORE_CORE_HARNESS_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/core/broker_core.h"
#include "broker/core/peer.h"
#include "broker/log/append_tracker.h"
#include "broker/log/fault_file_system.h"
#include "tests/broker/core/core_frames.h"
#include "tests/broker/core/mem_file_system.h"
#include "txmsg/broker.pb.h"

namespace txmsg::broker::testing {

// A connection as the core sees it: keeps every frame sent to it.
class FakePeer final : public Peer {
 public:
  explicit FakePeer(uint64_t id) : id_(id) {}
  void Send(const wire::Frame& frame) override { frames_.push_back(frame); }
  void Close() override { closed_ = true; }
  uint64_t id() const override { return id_; }
  std::string description() const override { return "fake-peer-" + std::to_string(id_); }

  // Frames received and not yet taken, oldest first.
  std::deque<wire::Frame>& frames() { return frames_; }
  bool closed() const { return closed_; }

 private:
  const uint64_t id_;
  std::deque<wire::Frame> frames_;
  bool closed_ = false;
};

// Time that moves only when told to. Starts at a fixed, realistic epoch.
class ManualClock {
 public:
  static constexpr uint64_t kStartMs = 1'700'000'000'000;
  uint64_t now() const { return now_ms_; }
  void Advance(uint64_t ms) { now_ms_ += ms; }
  BrokerCore::Clock AsClock() {
    return [this] { return now_ms_; };
  }

 private:
  uint64_t now_ms_ = kStartMs;
};

// Blocks the log's writer before each fsync while closed: what is written
// meanwhile is never synced, so a power cut loses it, every time.
class SyncGate {
 public:
  void Close();
  void Open();
  // True while the writer waits at the closed gate.
  bool writer_waiting();
  // Called by the writer thread before each fsync.
  void PassOrWait();

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
};

class CoreHarness;

// One client connection to the core: requests go in with fresh correlation
// ids; answers are matched by id; Deliver and CheckTx frames (which the core
// pushes on its own) are kept apart.
class CoreClient {
 public:
  CoreClient(CoreHarness* harness, std::unique_ptr<FakePeer> peer);
  // Sends `request` with a new correlation id (0 if `one_way`) and returns
  // that id; does not wait for the core to settle.
  uint64_t Send(wire::Frame request, bool one_way = false);
  // The answer to the request with this id, if it came (taken).
  std::optional<wire::Frame> TakeAnswer(uint64_t correlation_id);
  // Sends, settles the core, and returns the answer; an Error frame with
  // code ERROR_CODE_UNSPECIFIED if none came.
  wire::Frame Call(wire::Frame request);
  // Deliver and CheckTx frames received so far, oldest first (taken).
  std::vector<wire::Frame> TakePushed();
  // Answers no one took (taken).
  std::vector<wire::Frame> TakeUnclaimed();
  // Tells the core the connection is gone.
  void Disconnect();
  bool connected() const { return connected_; }
  FakePeer& peer() { return *peer_; }

 private:
  friend class CoreHarness;
  void Sort();  // moves the peer's frames into answers_ and pushed_

  CoreHarness* const harness_;
  std::unique_ptr<FakePeer> peer_;
  bool connected_ = true;
  uint64_t next_correlation_ = 1;
  std::vector<wire::Frame> answers_;
  std::vector<wire::Frame> pushed_;
};

class CoreHarness {
 public:
  struct Options {
    BrokerOptions broker;
    uint64_t segment_size = 1 << 20;
  };
  explicit CoreHarness(Options options);
  ~CoreHarness();
  CoreHarness(const CoreHarness&) = delete;
  CoreHarness& operator=(const CoreHarness&) = delete;

  // Opens the core on the harness's files, replaying whatever they hold.
  [[nodiscard]] absl::Status Open();
  // Stops the core cleanly (a graceful shutdown); its clients are gone.
  void Close();
  // The power goes out: every byte not synced is lost and the core is gone
  // (its clients too). Open brings it back.
  [[nodiscard]] absl::Status PowerCut();
  // From now until PowerCut the log writes but never syncs, so every append
  // made meanwhile is lost by the cut and nothing waiting on one completes.
  void HoldSyncs();
  bool holding_syncs() const { return holding_syncs_; }

  bool is_open() const { return core_ != nullptr; }
  BrokerCore& core() { return *core_; }
  ManualClock& clock() { return clock_; }
  log::FaultInjectionFileSystem& fs() { return fault_fs_; }
  static constexpr const char* kDir = "/broker-data";

  // Runs the core's io_context until the core is quiet: every log append
  // completed and every completion handled (while syncs are held: until no
  // handler is ready).
  void Settle();
  // Runs the core's periodic upkeep at the current time, then settles.
  void Tick();
  // Moves the clock forward by `ms`, then Tick().
  void Advance(uint64_t ms);

  // A new connection; with a role, its Hello is sent and answered first.
  CoreClient& Connect();
  CoreClient& Connect(wire::ClientRole role, const std::string& producer_group = "",
                      const std::string& client_id = "");

 private:
  friend class CoreClient;
  void DropClients();
  // While syncs are held: waits until the writer stops at the gate with the
  // batch it took (or has nothing to write), so what a power cut finds does
  // not depend on how far the writer thread happened to get.
  void WaitForWriterToPark();

  const Options options_;
  ManualClock clock_;
  MemFileSystem mem_fs_;
  log::FaultInjectionFileSystem fault_fs_{&mem_fs_};
  log::AppendTracker tracker_;
  SyncGate gate_;
  bool holding_syncs_ = false;
  boost::asio::io_context io_{1};
  std::unique_ptr<BrokerCore> core_;
  std::vector<std::unique_ptr<CoreClient>> clients_;  // every one ever (tests keep references)
  std::vector<CoreClient*> connected_;                // those still connected
  uint64_t next_peer_id_ = 1;
};

}  // namespace txmsg::broker::testing

#endif  // TXMSG_TESTS_BROKER_CORE_CORE_HARNESS_H_
