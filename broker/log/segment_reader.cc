#include "broker/log/segment_reader.h"

#include <algorithm>

#include "absl/base/internal/endian.h"
#include "broker/log/log_format.h"
#include "broker/log/record_codec.h"

namespace txmsg::log {
namespace {
constexpr size_t kChunk = 1 << 20;
}

SegmentReader::SegmentReader(const RandomAccessFile* file, uint64_t start, uint64_t end)
    : file_(file), end_(end), buffer_offset_(start) {}

absl::Status SegmentReader::Fill(size_t want) {
  const size_t have = buffer_.size() - pos_;
  const uint64_t file_pos = buffer_offset_ + buffer_.size();
  if (have >= want || file_pos >= end_) return absl::OkStatus();
  buffer_.erase(0, pos_);
  buffer_offset_ += pos_;
  pos_ = 0;
  const size_t to_read =
      static_cast<size_t>(std::min<uint64_t>(std::max(want - have, kChunk), end_ - file_pos));
  const size_t old = buffer_.size();
  buffer_.resize(old + to_read);
  absl::StatusOr<size_t> n = file_->Read(file_pos, to_read, buffer_.data() + old);
  if (!n.ok()) return n.status();
  buffer_.resize(old + *n);
  return absl::OkStatus();
}

absl::StatusOr<SegmentItem> SegmentReader::Next() {
  if (done_) return last_;
  if (absl::Status s = Fill(kRecordHeaderSize); !s.ok()) return s;
  ParsedRecord r = ParseRecord(std::string_view(buffer_).substr(pos_));
  if (r.kind == ParsedRecord::Kind::kIncomplete && buffer_.size() - pos_ >= kRecordHeaderSize) {
    // The header is whole: read the rest of the body the header announces.
    const uint32_t len = absl::little_endian::Load32(buffer_.data() + pos_ + 4);
    if (absl::Status s = Fill(kRecordHeaderSize + len); !s.ok()) return s;
    r = ParseRecord(std::string_view(buffer_).substr(pos_));
  }
  SegmentItem item;
  item.offset = buffer_offset_ + pos_;
  switch (r.kind) {
    case ParsedRecord::Kind::kRecord:
      item.kind = SegmentItem::Kind::kRecord;
      item.type = r.type;
      item.payload = r.payload;
      pos_ += r.size;
      return item;
    case ParsedRecord::Kind::kIncomplete:
      item.kind = buffer_.size() == pos_ ? SegmentItem::Kind::kEnd : SegmentItem::Kind::kTorn;
      break;
    case ParsedRecord::Kind::kCorrupt:
      item.kind = SegmentItem::Kind::kCorrupt;
      item.reason = r.reason;
      break;
  }
  done_ = true;
  last_ = item;
  return item;
}

}  // namespace txmsg::log
