// Length-prefixed protobuf framing shared by the broker and the client SDK.
//
// A frame on the wire is a 4-byte big-endian length N followed by N bytes of
// a serialized txmsg.wire.Frame (docs/protocol.md). The length is checked
// against the connection's maximum before any byte of the body is buffered
// beyond what one socket read delivered, so a hostile length costs nothing.
#ifndef TXMSG_PROTO_FRAME_CODEC_H_
#define TXMSG_PROTO_FRAME_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "txmsg/broker.pb.h"

namespace txmsg::proto {

inline constexpr size_t kFrameHeaderSize = 4;
// Default cap on a frame's body: room for a 1 MiB message body with its
// properties, far below anything that would strain the broker's memory.
inline constexpr uint32_t kDefaultMaxFrameSize = 4u << 20;

// Serializes `frame` and appends header + body to `*out`, so that many frames
// can share one socket write. Fails (and appends nothing) if the body would
// exceed `max_frame_size`.
[[nodiscard]] absl::Status AppendFrame(const wire::Frame& frame, uint32_t max_frame_size,
                                       std::string* out);

// Incremental decoder for one connection's byte stream. Bytes arrive in any
// split (Feed); complete frames come out in order (Next). After an error the
// decoder is poisoned: every later Next returns the same error, and the
// connection must be closed. Not thread-safe; one per connection.
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_frame_size = kDefaultMaxFrameSize);
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Adds bytes read from the stream. Buffers at most one frame plus what was
  // fed since the last Next; an oversized header poisons the decoder at once.
  void Feed(std::string_view bytes);

  // The next complete frame, std::nullopt if more bytes are needed, or an
  // error: OUT_OF_RANGE for an oversized length, INVALID_ARGUMENT for a body
  // that is not a Frame.
  [[nodiscard]] absl::StatusOr<std::optional<wire::Frame>> Next();

  // Forgets everything (for a new connection).
  void Reset() {
    buffer_.clear();
    consumed_ = 0;
    error_ = absl::OkStatus();
  }

  // Bytes fed but not yet returned as frames.
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  // Reads the length of the frame at consumed_ if its header is complete.
  std::optional<uint32_t> PeekLength() const;
  void Compact();

  const uint32_t max_frame_size_;
  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already returned
  absl::Status error_;   // sticky
};

}  // namespace txmsg::proto

#endif  // TXMSG_PROTO_FRAME_CODEC_H_
