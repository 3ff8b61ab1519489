#include "proto/frame_codec.h"

#include "absl/strings/str_cat.h"

namespace txmsg::proto {
namespace {

void PutBigEndian32(uint32_t v, char* out) {
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
}

uint32_t GetBigEndian32(const char* in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

absl::Status AppendFrame(const wire::Frame& frame, uint32_t max_frame_size, std::string* out) {
  const size_t size = frame.ByteSizeLong();
  if (size > max_frame_size) {
    return absl::OutOfRangeError(
        absl::StrCat("frame of ", size, " bytes exceeds the maximum of ", max_frame_size));
  }
  const size_t start = out->size();
  out->resize(start + kFrameHeaderSize + size);
  char* dst = out->data() + start;
  PutBigEndian32(static_cast<uint32_t>(size), dst);
  if (!frame.SerializeToArray(dst + kFrameHeaderSize, static_cast<int>(size))) {
    out->resize(start);
    return absl::InternalError("frame serialization failed");
  }
  return absl::OkStatus();
}

FrameDecoder::FrameDecoder(uint32_t max_frame_size) : max_frame_size_(max_frame_size) {}

std::optional<uint32_t> FrameDecoder::PeekLength() const {
  if (buffered() < kFrameHeaderSize) return std::nullopt;
  return GetBigEndian32(buffer_.data() + consumed_);
}

void FrameDecoder::Compact() {
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 4096 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
}

void FrameDecoder::Feed(std::string_view bytes) {
  if (!error_.ok()) return;  // poisoned: keep nothing more
  Compact();
  buffer_.append(bytes);
  if (auto len = PeekLength(); len && *len > max_frame_size_) {
    error_ = absl::OutOfRangeError(
        absl::StrCat("frame length ", *len, " exceeds the maximum of ", max_frame_size_));
    buffer_.clear();
    consumed_ = 0;
  }
}

absl::StatusOr<std::optional<wire::Frame>> FrameDecoder::Next() {
  if (!error_.ok()) return error_;
  const std::optional<uint32_t> len = PeekLength();
  if (!len) return std::nullopt;
  if (*len > max_frame_size_) {
    error_ = absl::OutOfRangeError(
        absl::StrCat("frame length ", *len, " exceeds the maximum of ", max_frame_size_));
    buffer_.clear();
    consumed_ = 0;
    return error_;
  }
  if (buffered() < kFrameHeaderSize + *len) return std::nullopt;
  wire::Frame frame;
  const char* body = buffer_.data() + consumed_ + kFrameHeaderSize;
  if (!frame.ParseFromArray(body, static_cast<int>(*len))) {
    error_ = absl::InvalidArgumentError(
        absl::StrCat("frame body of ", *len, " bytes is not a valid txmsg.wire.Frame"));
    buffer_.clear();
    consumed_ = 0;
    return error_;
  }
  consumed_ += kFrameHeaderSize + *len;
  Compact();
  return std::optional<wire::Frame>(std::move(frame));
}

}  // namespace txmsg::proto
