#include "broker/log/log.h"

#include <chrono>
#include <future>
#include <thread>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "broker/log/log_format.h"
#include "broker/log/record_codec.h"
#include "broker/log/segment_reader.h"
#include "base/crash_point.h"
#include "base/crash_points.h"

namespace txmsg::log {

absl::StatusOr<std::unique_ptr<Log>> Log::Open(LogOptions options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("log directory is empty");
  if (options.segment_size < kSegmentHeaderSize + kRecordHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("segment size ", options.segment_size, " is too small"));
  }
  // One process owns a directory: two logs on one directory would hand out
  // the same positions for different records.
  if (absl::Status s = options.fs->CreateDirIfMissing(options.dir); !s.ok()) return s;
  const std::string lock_path = absl::StrCat(options.dir, "/", kLockFileName);
  absl::StatusOr<std::unique_ptr<FileLock>> lock = options.fs->LockFile(lock_path);
  if (!lock.ok()) {
    if (!absl::IsFailedPrecondition(lock.status())) return lock.status();
    return absl::FailedPreconditionError(absl::StrCat(
        "the log directory ", options.dir, " is in use: ", lock.status().message(),
        "; one broker at a time may own a data directory"));
  }
  absl::StatusOr<RecoveryReport> report =
      RecoverLog(options.fs, options.dir, options.repair, options.replay);
  if (!report.ok()) return report.status();
  std::unique_ptr<Log> log(new Log(std::move(options)));
  log->lock_ = *std::move(lock);
  if (absl::Status s = log->Start(*std::move(report)); !s.ok()) return s;
  return log;
}

Log::Log(LogOptions options) : options_(std::move(options)), fs_(options_.fs) {}

absl::Status Log::Start(RecoveryReport report) {
  recovery_ = std::move(report);
  absl::MutexLock lock(&mu_);
  for (const SegmentMeta& meta : recovery_.segments) {
    auto seg = std::make_shared<Segment>();
    seg->base = meta.base;
    seg->path = meta.path;
    seg->size = meta.size;
    absl::StatusOr<std::unique_ptr<RandomAccessFile>> reader = fs_->OpenReadable(meta.path);
    if (!reader.ok()) return reader.status();
    seg->reader = std::move(*reader);
    segments_[meta.base] = seg;
    stats_.disk_bytes += meta.size;
  }
  if (segments_.empty()) {
    absl::StatusOr<NewSegment> first = CreateSegment(0);
    if (!first.ok()) return first.status();
    active_ = first->segment;
    active_file_ = std::move(first->file);
    active_size_ = kSegmentHeaderSize;
    segments_[0] = active_;
    stats_.disk_bytes += kSegmentHeaderSize;
  } else {
    active_ = segments_.rbegin()->second;
    absl::StatusOr<std::unique_ptr<WritableFile>> file = fs_->OpenAppendable(active_->path);
    if (!file.ok()) return file.status();
    active_file_ = std::move(*file);
    active_size_ = active_->size;
  }
  stats_.segments = segments_.size();
  writer_ = std::thread([this] { WriterLoop(); });
  return absl::OkStatus();
}

Log::~Log() {
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (writer_.joinable()) writer_.join();
  if (active_file_) (void)active_file_->Close();
}

absl::Status Log::Append(uint8_t type, std::string payload, AppendCallback done) {
  if (type == kInvalidRecordType) return absl::InvalidArgumentError("record type 0 is reserved");
  if (payload.size() > kMaxRecordPayload) {
    return absl::InvalidArgumentError(absl::StrCat(
        "record payload of ", payload.size(), " bytes exceeds the maximum of ", kMaxRecordPayload));
  }
  absl::MutexLock lock(&mu_);
  if (!sticky_.ok()) return sticky_;
  if (closing_) return absl::UnavailableError("log is closing");
  if (queued_bytes_ + payload.size() > options_.max_queued_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("log append queue is full (", queued_bytes_, " bytes waiting)"));
  }
  queued_bytes_ += payload.size();
  if (AppendTracker* tracker = options_.tracker) {
    tracker->Started();
    done = [tracker, done = std::move(done)](absl::StatusOr<uint64_t> r) mutable {
      done(std::move(r));
      tracker->Finished();
    };
  }
  queue_.push_back(Pending{type, std::move(payload), std::move(done)});
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Log::AppendAndWait(uint8_t type, std::string payload) {
  std::promise<absl::StatusOr<uint64_t>> promise;
  std::future<absl::StatusOr<uint64_t>> result = promise.get_future();
  absl::Status queued = Append(type, std::move(payload), [&promise](absl::StatusOr<uint64_t> r) {
    promise.set_value(std::move(r));
  });
  if (!queued.ok()) return queued;
  return result.get();
}

void Log::WriterLoop() {
  std::vector<Pending> batch;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Log* log) ABSL_EXCLUSIVE_LOCKS_REQUIRED(log->mu_) {
            return !log->queue_.empty() || log->closing_;
          },
          this));
      if (queue_.empty()) return;  // closing, and everything is written
      size_t bytes = 0;
      while (!queue_.empty() &&
             (batch.empty() || bytes + queue_.front().payload.size() + kRecordHeaderSize <=
                                   options_.max_batch_bytes)) {
        bytes += queue_.front().payload.size() + kRecordHeaderSize;
        queued_bytes_ -= queue_.front().payload.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    WriteBatch(batch);
    batch.clear();
  }
}

void Log::WriteBatch(std::vector<Pending>& batch) {
  if (absl::Status s = health(); !s.ok()) return Fail(batch, 0, s);
  std::string buffer;
  std::vector<uint64_t> positions(batch.size());
  size_t unwritten = 0;  // first record of the batch not yet durable
  auto complete = [&](size_t end) {
    for (size_t i = unwritten; i < end; ++i) batch[i].done(positions[i]);
    unwritten = end;
  };
  for (size_t i = 0; i < batch.size(); ++i) {
    const size_t record_size = kRecordHeaderSize + batch[i].payload.size();
    const uint64_t used = active_size_ + buffer.size();
    if (used + record_size > options_.segment_size && used > kSegmentHeaderSize) {
      absl::Status s = FlushActive(buffer, i - unwritten);
      if (s.ok()) {
        complete(i);
        s = RollSegment();
      }
      if (!s.ok()) return Fail(batch, unwritten, s);
      buffer.clear();
    }
    positions[i] = active_->base + active_size_ + buffer.size();
    EncodeRecord(batch[i].type, batch[i].payload, &buffer);
  }
  if (TestMutation("ack_before_fsync")) {
    // Broken on purpose (a fault-suite control): report durable first, then
    // write a little later. The suite must notice the loss this allows.
    complete(batch.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  if (absl::Status s = FlushActive(buffer, batch.size() - unwritten); !s.ok()) {
    return Fail(batch, unwritten, s);
  }
  complete(batch.size());
}

absl::Status Log::FlushActive(const std::string& buffer, size_t records) {
  if (buffer.empty()) return absl::OkStatus();
  const auto start = std::chrono::steady_clock::now();
  absl::Status s = active_file_->Append(buffer);
  if (absl::IsResourceExhausted(s)) return DiskFull(s);
  if (s.ok() && options_.before_sync) options_.before_sync(buffer);
  if (s.ok()) s = active_file_->Sync();
  const auto us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                            std::chrono::steady_clock::now() - start)
                                            .count());
  absl::MutexLock lock(&mu_);
  if (!s.ok()) {
    sticky_ = absl::Status(s.code(), absl::StrCat("log is read-only after a failed write or "
                                                  "fsync of ",
                                                  active_->path, ": ", s.message()));
    return sticky_;
  }
  active_size_ += buffer.size();
  active_->size = active_size_;
  stats_.appends += records;
  stats_.bytes += buffer.size();
  stats_.disk_bytes += buffer.size();
  ++stats_.syncs;
  stats_.sync_time_us += us;
  size_t bucket = 0;
  while (bucket < std::size(kSyncLatencyBucketsUs) && us > kSyncLatencyBucketsUs[bucket]) ++bucket;
  ++stats_.sync_latency[bucket];
  return absl::OkStatus();
}

absl::Status Log::DiskFull(const absl::Status& cause) {
  // O_APPEND: once cut back, the next write lands where this one should have.
  absl::Status cut = fs_->Truncate(active_->path, active_size_);
  absl::MutexLock lock(&mu_);
  if (!cut.ok()) {
    sticky_ = absl::Status(cause.code(),
                           absl::StrCat("log is read-only: the disk is full and the partial write "
                                        "to ",
                                        active_->path, " could not be cut off (", cut.message(),
                                        ")"));
    return sticky_;
  }
  ++stats_.disk_full;
  return absl::ResourceExhaustedError(
      absl::StrCat("disk full, nothing of this batch was stored: ", cause.message()));
}

absl::StatusOr<Log::NewSegment> Log::CreateSegment(uint64_t base) {
  const std::string path = options_.dir + "/" + SegmentFileName(base);
  absl::StatusOr<std::unique_ptr<WritableFile>> file = fs_->OpenAppendable(path);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Append(EncodeSegmentHeader(base)); !s.ok()) return s;
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  if (absl::Status s = fs_->SyncDir(options_.dir); !s.ok()) return s;
  CrashPoint(crash_points::kBrokerSegmentCreated);
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> reader = fs_->OpenReadable(path);
  if (!reader.ok()) return reader.status();
  auto seg = std::make_shared<Segment>();
  seg->base = base;
  seg->path = path;
  seg->size = kSegmentHeaderSize;
  seg->reader = std::move(*reader);
  return NewSegment{std::move(seg), std::move(*file)};
}

absl::Status Log::RollSegment() {
  const uint64_t base = active_->base + active_size_;
  absl::StatusOr<NewSegment> next = CreateSegment(base);
  if (!next.ok() && absl::IsResourceExhausted(next.status())) {
    // No room for the next segment: remove what was made of it and stay on
    // the current one. (If this crashes first, recovery drops the torn file.)
    const std::string path = options_.dir + "/" + SegmentFileName(base);
    if (absl::Status del = fs_->DeleteFile(path); del.ok() || absl::IsNotFound(del)) {
      absl::MutexLock lock(&mu_);
      ++stats_.disk_full;
      return absl::ResourceExhaustedError(absl::StrCat(
          "disk full, cannot start a new log segment: ", next.status().message()));
    }
  }
  if (next.ok()) {
    if (absl::Status s = active_file_->Close(); !s.ok()) next = s;
  }
  absl::MutexLock lock(&mu_);
  if (!next.ok()) {
    sticky_ = absl::Status(next.status().code(),
                           absl::StrCat("log is read-only after failing to create a segment: ",
                                        next.status().message()));
    return sticky_;
  }
  active_ = next->segment;
  active_file_ = std::move(next->file);
  active_size_ = kSegmentHeaderSize;
  segments_[base] = active_;
  stats_.segments = segments_.size();
  stats_.disk_bytes += kSegmentHeaderSize;
  return absl::OkStatus();
}

void Log::Fail(std::vector<Pending>& batch, size_t from, const absl::Status& status) {
  for (size_t i = from; i < batch.size(); ++i) batch[i].done(status);
}

std::shared_ptr<Log::Segment> Log::FindSegment(uint64_t position) const {
  absl::MutexLock lock(&mu_);
  auto it = segments_.upper_bound(position);
  if (it == segments_.begin()) return nullptr;
  return std::prev(it)->second;
}

absl::StatusOr<Record> Log::Read(uint64_t position) const {
  std::shared_ptr<Segment> seg = FindSegment(position);
  uint64_t size = 0;
  if (seg) {
    absl::MutexLock lock(&mu_);
    size = seg->size;
  }
  if (!seg || position - seg->base < kSegmentHeaderSize ||
      position - seg->base + kRecordHeaderSize > size) {
    return absl::NotFoundError(absl::StrCat("no record at log position ", position));
  }
  const uint64_t offset = position - seg->base;
  char header[kRecordHeaderSize];
  absl::StatusOr<size_t> n = seg->reader->Read(offset, kRecordHeaderSize, header);
  if (!n.ok()) return n.status();
  const uint32_t length = absl::little_endian::Load32(header + 4);
  if (*n < kRecordHeaderSize || length > kMaxRecordPayload ||
      offset + kRecordHeaderSize + length > size) {
    return absl::NotFoundError(absl::StrCat("no record at log position ", position));
  }
  std::string buf(kRecordHeaderSize + length, '\0');
  n = seg->reader->Read(offset, buf.size(), buf.data());
  if (!n.ok()) return n.status();
  ParsedRecord parsed = ParseRecord(std::string_view(buf.data(), *n));
  if (parsed.kind != ParsedRecord::Kind::kRecord) {
    return absl::DataLossError(absl::StrCat(
        "bad record at log position ", position, " (", seg->path, " offset ", offset,
        "): ", parsed.kind == ParsedRecord::Kind::kCorrupt ? parsed.reason : "short read"));
  }
  return Record{parsed.type, std::string(parsed.payload)};
}

absl::Status Log::Scan(uint64_t from, const ScanFn& fn) const {
  std::vector<std::pair<std::shared_ptr<Segment>, uint64_t>> todo;  // segment, durable size
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [base, seg] : segments_) {
      if (base + seg->size > from) todo.emplace_back(seg, seg->size);
    }
  }
  for (const auto& [seg, size] : todo) {
    const uint64_t start = from > seg->base
                               ? std::max<uint64_t>(from - seg->base, kSegmentHeaderSize)
                               : kSegmentHeaderSize;
    SegmentReader reader(seg->reader.get(), start, size);
    while (true) {
      absl::StatusOr<SegmentItem> item = reader.Next();
      if (!item.ok()) return item.status();
      if (item->kind == SegmentItem::Kind::kEnd) break;
      if (item->kind != SegmentItem::Kind::kRecord) {
        return absl::DataLossError(absl::StrCat("bad record in ", seg->path, " at offset ",
                                                item->offset, ": ", item->reason));
      }
      if (!fn(seg->base + item->offset, item->type, item->payload)) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> Log::DeleteSegmentsBefore(uint64_t position) {
  std::vector<std::shared_ptr<Segment>> doomed;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = segments_.begin(); it != segments_.end();) {
      const bool is_active = std::next(it) == segments_.end();
      if (is_active || it->first + it->second->size > position) break;
      doomed.push_back(it->second);
      stats_.disk_bytes -= it->second->size;
      it = segments_.erase(it);
    }
    stats_.segments = segments_.size();
  }
  for (const auto& seg : doomed) {
    if (absl::Status s = fs_->DeleteFile(seg->path); !s.ok()) return s;
  }
  if (!doomed.empty()) {
    if (absl::Status s = fs_->SyncDir(options_.dir); !s.ok()) return s;
  }
  return doomed.size();
}

std::vector<SegmentInfo> Log::Segments() const {
  absl::MutexLock lock(&mu_);
  std::vector<SegmentInfo> out;
  for (const auto& [base, seg] : segments_) out.push_back({base, seg->size});
  return out;
}

uint64_t Log::durable_end() const {
  absl::MutexLock lock(&mu_);
  const auto& last = segments_.rbegin()->second;
  return last->base + last->size;
}

absl::Status Log::health() const {
  absl::MutexLock lock(&mu_);
  return sticky_;
}

LogStats Log::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace txmsg::log
