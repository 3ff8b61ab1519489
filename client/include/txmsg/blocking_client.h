// A blocking, single-threaded connection for request/response tools:
// txmsgctl and tests. One request at a time; not for producers or consumers.
#ifndef TXMSG_CLIENT_INCLUDE_TXMSG_BLOCKING_CLIENT_H_
#define TXMSG_CLIENT_INCLUDE_TXMSG_BLOCKING_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "txmsg/broker.pb.h"
#include "txmsg/types.h"

namespace txmsg {

class BlockingClient {
 public:
  // Connects to HOST:PORT ([IPv6]:PORT) and says Hello with `role` (ROLE_ADMIN for
  // txmsgctl). UNAVAILABLE if the broker cannot be reached.
  static absl::StatusOr<std::unique_ptr<BlockingClient>> Connect(
      const std::string& broker, wire::ClientRole role = wire::ROLE_ADMIN,
      const std::string& producer_group = "",
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The same with everything ClientOptions says: the broker, TLS (the
  // handshake within the timeout; a refused certificate is UNAVAILABLE with
  // OpenSSL's reason), and request_timeout as the timeout.
  static absl::StatusOr<std::unique_ptr<BlockingClient>> Connect(
      const ClientOptions& options, wire::ClientRole role = wire::ROLE_ADMIN,
      const std::string& producer_group = "");
  // The principal to authenticate as (a broker with --auth_file).
  struct Credentials {
    std::string user;
    std::string secret;
  };
  // As above, authenticating as `credentials` in Hello. A refused Hello is
  // UNAUTHENTICATED (or PERMISSION_DENIED) with the broker's reason.
  static absl::StatusOr<std::unique_ptr<BlockingClient>> Connect(const std::string& broker,
                                                                 wire::ClientRole role,
                                                                 const std::string& producer_group,
                                                                 std::chrono::milliseconds timeout,
                                                                 const Credentials& credentials);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // Sends `request` and returns the answer with the same correlation id
  // (frames with other ids, e.g. CheckTx pushes, are skipped). An Error
  // answer comes back as its status (see StatusFromError).
  absl::StatusOr<wire::Frame> Call(wire::Frame request);
  // Sends a frame without waiting for anything.
  absl::Status SendOnly(const wire::Frame& frame);
  // Reads the next frame, whatever it is (for tests of raw protocol).
  absl::StatusOr<wire::Frame> ReadFrame();
  // True once a send or receive failed: the connection is gone, as opposed
  // to the broker having refused a request.
  bool broken() const { return broken_; }

 private:
  struct Impl;
  explicit BlockingClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  uint64_t next_corr_ = 1;
  bool broken_ = false;
};

}  // namespace txmsg

#endif  // TXMSG_CLIENT_INCLUDE_TXMSG_BLOCKING_CLIENT_H_
