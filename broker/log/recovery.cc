#include "broker/log/recovery.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/log/log_format.h"
#include "broker/log/record_codec.h"
#include "broker/log/segment_reader.h"

namespace txmsg::log {
namespace {

struct FoundSegment {
  uint64_t base;
  std::string path;
};

absl::StatusOr<std::vector<FoundSegment>> ListSegments(FileSystem* fs, const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = fs->ListDir(dir);
  if (!names.ok()) return names.status();
  std::vector<FoundSegment> found;
  for (const std::string& name : *names) {
    if (name.size() != kSegmentNameDigits + kSegmentSuffix.size() ||
        !name.ends_with(kSegmentSuffix)) {
      continue;
    }
    const std::string_view digits = std::string_view(name).substr(0, kSegmentNameDigits);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    uint64_t base = 0;
    if (!absl::SimpleAtoi(std::string(digits), &base)) continue;
    found.push_back({base, dir + "/" + name});
  }
  std::sort(found.begin(), found.end(),
            [](const FoundSegment& a, const FoundSegment& b) { return a.base < b.base; });
  return found;
}

// True if a whole, valid record starts anywhere after `offset`: evidence that
// the bad record at `offset` is damage inside written data, not a torn tail.
absl::StatusOr<bool> ValidRecordAfter(const RandomAccessFile& file, uint64_t offset,
                                      uint64_t size) {
  if (size <= offset + 1) return false;
  std::string rest(size - offset - 1, '\0');
  absl::StatusOr<size_t> n = file.Read(offset + 1, rest.size(), rest.data());
  if (!n.ok()) return n.status();
  rest.resize(*n);
  const std::string_view view(rest);
  for (size_t k = 0; k + kRecordHeaderSize <= view.size(); ++k) {
    if (ParseRecord(view.substr(k)).kind == ParsedRecord::Kind::kRecord) return true;
  }
  return false;
}

// Cuts `path` at `offset`, keeping the cut bytes in `<path>.<label>-<offset>`.
absl::Status CutSegment(FileSystem* fs, const std::string& path, const RandomAccessFile& file,
                        uint64_t offset, uint64_t size, std::string_view label) {
  std::string cut(size - offset, '\0');
  absl::StatusOr<size_t> n = file.Read(offset, cut.size(), cut.data());
  if (!n.ok()) return n.status();
  cut.resize(*n);
  const std::string keep = absl::StrCat(path, ".", std::string(label), "-", offset);
  if (absl::Status s = WriteFileAtomically(fs, keep, cut); !s.ok()) return s;
  if (absl::Status s = fs->Truncate(path, offset); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<WritableFile>> w = fs->OpenAppendable(path);
  if (!w.ok()) return w.status();
  if (absl::Status s = (*w)->Sync(); !s.ok()) return s;
  return (*w)->Close();
}

// Recovers one segment; returns its size after recovery.
absl::StatusOr<uint64_t> RecoverSegment(FileSystem* fs, const FoundSegment& seg, bool is_last,
                                        bool repair, const ReplayFn& replay,
                                        RecoveryReport* report) {
  absl::StatusOr<uint64_t> size = fs->FileSize(seg.path);
  if (!size.ok()) return size.status();
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> file = fs->OpenReadable(seg.path);
  if (!file.ok()) return file.status();

  std::string header(kSegmentHeaderSize, '\0');
  absl::StatusOr<size_t> got = (*file)->Read(0, header.size(), header.data());
  if (!got.ok()) return got.status();
  if (*got < kSegmentHeaderSize || !SegmentHeaderMatches(header, seg.base)) {
    return absl::DataLossError(
        absl::StrCat("corrupt log segment ", seg.path, " at offset 0: bad segment header"));
  }

  SegmentReader reader(file->get(), kSegmentHeaderSize, *size);
  while (true) {
    absl::StatusOr<SegmentItem> item = reader.Next();
    if (!item.ok()) return item.status();
    if (item->kind == SegmentItem::Kind::kRecord) {
      if (replay) {
        if (absl::Status s = replay(seg.base + item->offset, item->type, item->payload); !s.ok()) {
          return s;
        }
      }
      ++report->records;
      continue;
    }
    if (item->kind == SegmentItem::Kind::kEnd) return *size;

    const char* reason = item->kind == SegmentItem::Kind::kTorn
                             ? "incomplete record at the end of the file"
                             : item->reason;
    bool torn_tail = false;
    if (is_last) {
      absl::StatusOr<bool> more = ValidRecordAfter(**file, item->offset, *size);
      if (!more.ok()) return more.status();
      torn_tail = !*more;
    }
    if (!torn_tail && !repair) {
      return absl::DataLossError(absl::StrCat("corrupt log segment ", seg.path, " at offset ",
                                              item->offset, ": ", reason,
                                              " (start with repair to cut it off)"));
    }
    const char* label = torn_tail ? "torn" : "corrupt";
    if (absl::Status s = CutSegment(fs, seg.path, **file, item->offset, *size, label); !s.ok()) {
      return s;
    }
    report->cut_bytes += *size - item->offset;
    report->actions.push_back(absl::StrCat(torn_tail ? "cut torn tail of " : "repaired ", seg.path,
                                           " at offset ", item->offset, " (", *size - item->offset,
                                           " bytes: ", reason, ")"));
    return item->offset;
  }
}

}  // namespace

std::string SegmentFileName(uint64_t base) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu", static_cast<unsigned long long>(base));
  return absl::StrCat(name, std::string(kSegmentSuffix));
}

absl::StatusOr<RecoveryReport> RecoverLog(FileSystem* fs, const std::string& dir, bool repair,
                                          const ReplayFn& replay) {
  if (absl::Status s = fs->CreateDirIfMissing(dir); !s.ok()) return s;
  absl::StatusOr<std::vector<FoundSegment>> segments = ListSegments(fs, dir);
  if (!segments.ok()) return segments.status();

  RecoveryReport report;
  for (size_t i = 0; i < segments->size(); ++i) {
    const FoundSegment& seg = (*segments)[i];
    const bool is_last = i + 1 == segments->size();
    if (is_last) {
      // A segment whose creation was cut short (no whole header yet) holds
      // no record that was ever acknowledged.
      absl::StatusOr<uint64_t> size = fs->FileSize(seg.path);
      if (!size.ok()) return size.status();
      if (*size < kSegmentHeaderSize) {
        if (absl::Status s = fs->DeleteFile(seg.path); !s.ok()) return s;
        if (absl::Status s = fs->SyncDir(dir); !s.ok()) return s;
        report.actions.push_back(absl::StrCat("removed unfinished segment ", seg.path));
        continue;
      }
    }
    absl::StatusOr<uint64_t> size = RecoverSegment(fs, seg, is_last, repair, replay, &report);
    if (!size.ok()) return size.status();
    report.segments.push_back({seg.base, seg.path, *size});
  }
  return report;
}

}  // namespace txmsg::log
