#include "broker/log/record_codec.h"

#include "absl/base/internal/endian.h"
#include "broker/log/crc32c.h"
#include "broker/log/log_format.h"

namespace txmsg::log {
namespace {

void PutFixed32(uint32_t v, char* out) { absl::little_endian::Store32(out, v); }
uint32_t GetFixed32(const char* in) { return absl::little_endian::Load32(in); }

}  // namespace

void EncodeRecord(uint8_t type, std::string_view payload, std::string* out) {
  const size_t start = out->size();
  out->resize(start + kRecordHeaderSize);
  char* header = out->data() + start;
  PutFixed32(static_cast<uint32_t>(payload.size()), header + 4);
  header[8] = static_cast<char>(type);
  uint32_t crc = crc32c::Value(std::string_view(header + 4, 5));
  crc = crc32c::Extend(crc, payload);
  PutFixed32(crc32c::Mask(crc), header);
  out->append(payload);
}

ParsedRecord ParseRecord(std::string_view buf) {
  ParsedRecord r;
  if (buf.size() < kRecordHeaderSize) {
    r.kind = ParsedRecord::Kind::kIncomplete;
    return r;
  }
  const uint32_t length = GetFixed32(buf.data() + 4);
  const auto type = static_cast<uint8_t>(buf[8]);
  if (type == kInvalidRecordType) {
    r.kind = ParsedRecord::Kind::kCorrupt;
    r.reason = "record type 0 (zeroed or garbage bytes)";
    return r;
  }
  if (length > kMaxRecordPayload) {
    r.kind = ParsedRecord::Kind::kCorrupt;
    r.reason = "record length exceeds the maximum payload";
    return r;
  }
  if (buf.size() < kRecordHeaderSize + length) {
    r.kind = ParsedRecord::Kind::kIncomplete;
    return r;
  }
  const std::string_view payload = buf.substr(kRecordHeaderSize, length);
  uint32_t crc = crc32c::Value(buf.substr(4, 5));
  crc = crc32c::Extend(crc, payload);
  if (crc32c::Unmask(GetFixed32(buf.data())) != crc) {
    r.kind = ParsedRecord::Kind::kCorrupt;
    r.reason = "record checksum mismatch";
    return r;
  }
  r.kind = ParsedRecord::Kind::kRecord;
  r.type = type;
  r.payload = payload;
  r.size = kRecordHeaderSize + length;
  return r;
}

std::string EncodeSegmentHeader(uint64_t base) {
  std::string h(kSegmentMagic);
  h.resize(kSegmentHeaderSize);
  absl::little_endian::Store64(h.data() + kSegmentMagic.size(), base);
  return h;
}

bool SegmentHeaderMatches(std::string_view header, uint64_t base) {
  return header.size() >= kSegmentHeaderSize &&
         header.substr(0, kSegmentMagic.size()) == kSegmentMagic &&
         absl::little_endian::Load64(header.data() + kSegmentMagic.size()) == base;
}

}  // namespace txmsg::log
