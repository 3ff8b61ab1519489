#include "broker/log/log.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker/log/fault_file_system.h"
#include "broker/log/log_format.h"
#include "gtest/gtest.h"
#include "tests/broker/log/log_test_util.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace txmsg::log {
namespace {

using testing::FlipBit;
using testing::OpenAndReplay;
using testing::PayloadFor;
using testing::SegmentFiles;
using txmsg::testing::TempDir;

LogOptions Options(const std::string& dir, uint64_t segment_size = 64 << 20) {
  LogOptions o;
  o.dir = dir;
  o.segment_size = segment_size;
  return o;
}

TEST(LogTest, RoundTripsRecordsAcrossSegmentRollsAndReopen) {
  TempDir tmp;
  std::map<uint64_t, std::string> written;  // position -> payload
  {
    ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(tmp.path(), 4096)));
    absl::Mutex mu;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 150; ++i) {
          const uint64_t id = t * 1000 + i;
          std::string payload = PayloadFor(id, 20 + (id * 37) % 400);
          auto pos = log->AppendAndWait(static_cast<uint8_t>(1 + id % 200), payload);
          ASSERT_OK(pos);
          absl::MutexLock lock(&mu);
          written[*pos] = payload;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_GT(log->Segments().size(), 10u);
    for (const auto& [pos, payload] : written) {
      ASSERT_OK_AND_ASSIGN(Record r, log->Read(pos));
      EXPECT_EQ(r.payload, payload);
    }
    // Scan visits the same records in position order.
    std::vector<uint64_t> scanned;
    ASSERT_OK(log->Scan(0, [&](uint64_t pos, uint8_t, std::string_view payload) {
      EXPECT_EQ(payload, written[pos]);
      scanned.push_back(pos);
      return true;
    }));
    ASSERT_EQ(scanned.size(), written.size());
    EXPECT_TRUE(std::is_sorted(scanned.begin(), scanned.end()));
    EXPECT_EQ(log->stats().appends, written.size());
  }
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenAndReplay(Options(tmp.path(), 4096)));
  EXPECT_EQ(reopened.records, written);
  // New appends after reopen get positions after every old one.
  ASSERT_OK_AND_ASSIGN(uint64_t next, reopened.log->AppendAndWait(1, "after"));
  EXPECT_GT(next, written.rbegin()->first);
}

TEST(LogTest, SecondLogOnTheSameDirectoryIsRefusedNamingTheHolder) {
  TempDir dir;
  LogOptions options;
  options.dir = dir.File("log");
  absl::StatusOr<std::unique_ptr<Log>> first = Log::Open(options);
  ASSERT_OK(first.status());
  ASSERT_OK((*first)->AppendAndWait(1, "owned by the first").status());

  absl::StatusOr<std::unique_ptr<Log>> second = Log::Open(options);
  ASSERT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_NE(second.status().message().find("is in use"), std::string::npos) << second.status();
  EXPECT_NE(second.status().message().find(absl::StrCat("pid ", ::getpid())), std::string::npos)
      << second.status();

  first->reset();  // closing the log frees the directory
  absl::StatusOr<std::unique_ptr<Log>> third = Log::Open(options);
  ASSERT_OK(third.status());
  EXPECT_EQ((*third)->recovery_report().records, 1u);
}

TEST(LogTest, ScanFromAPositionStartsThere) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(tmp.path(), 1024)));
  std::vector<uint64_t> positions;
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK_AND_ASSIGN(uint64_t p, log->AppendAndWait(2, PayloadFor(i)));
    positions.push_back(p);
  }
  std::vector<uint64_t> seen;
  ASSERT_OK(log->Scan(positions[20], [&](uint64_t pos, uint8_t, std::string_view) {
    seen.push_back(pos);
    return seen.size() < 10;
  }));
  EXPECT_EQ(seen, std::vector<uint64_t>(positions.begin() + 20, positions.begin() + 30));
}

TEST(LogTest, ReadOfAPositionWithNoRecordIsAnError) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(tmp.path())));
  ASSERT_OK_AND_ASSIGN(uint64_t p, log->AppendAndWait(1, PayloadFor(1)));
  EXPECT_EQ(log->Read(p + 1000).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(log->Read(0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(log->Read(p + 1).ok());
}

TEST(LogTest, RefusesTypeZeroAndOversizedPayloads) {
  TempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(tmp.path())));
  EXPECT_EQ(log->Append(0, "x", [](auto) {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Append(1, std::string(kMaxRecordPayload + 1, 'x'), [](auto) {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_OK(log->health());
}

TEST(LogTest, TruncatedLastRecordAtEveryByteOffsetRecoversAllEarlierRecords) {
  TempDir tmp;
  const std::string dir = tmp.File("log");
  std::map<uint64_t, std::string> written;
  uint64_t last_pos = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(dir)));
    for (int i = 0; i < 20; ++i) {
      ASSERT_OK_AND_ASSIGN(last_pos, log->AppendAndWait(1, PayloadFor(i, 60)));
      written[last_pos] = PayloadFor(i, 60);
    }
  }
  const std::string segment = SegmentFiles(dir).begin()->first;
  const uint64_t full_size = std::filesystem::file_size(segment);
  auto earlier = written;
  earlier.erase(last_pos);
  for (uint64_t cut = last_pos; cut < full_size; ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const std::string copy = tmp.File("copy-" + std::to_string(cut));
    std::filesystem::copy(dir, copy);
    std::filesystem::resize_file(copy + "/" + std::filesystem::path(segment).filename().string(),
                                 cut);
    ASSERT_OK_AND_ASSIGN(auto r, OpenAndReplay(Options(copy)));
    EXPECT_EQ(r.records, earlier);
    if (cut > last_pos) {
      EXPECT_EQ(r.log->recovery_report().cut_bytes, cut - last_pos);
      EXPECT_TRUE(std::filesystem::exists(copy + "/" +
                                          std::filesystem::path(segment).filename().string() +
                                          ".torn-" + std::to_string(last_pos)));
    }
    // The log goes on where the cut left it.
    ASSERT_OK_AND_ASSIGN(uint64_t p, r.log->AppendAndWait(1, "next"));
    EXPECT_EQ(p, last_pos);
    r.log.reset();
    std::filesystem::remove_all(copy);
  }
}

TEST(LogTest, FlippedBitInASealedSegmentIsReportedWithFileAndOffset) {
  TempDir tmp;
  std::vector<uint64_t> positions;
  {
    ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(tmp.path(), 1024)));
    for (int i = 0; i < 40; ++i) {
      ASSERT_OK_AND_ASSIGN(uint64_t p, log->AppendAndWait(1, PayloadFor(i)));
      positions.push_back(p);
    }
  }
  const auto files = SegmentFiles(tmp.path());
  ASSERT_GT(files.size(), 2u);
  const std::string first = files.begin()->first;
  // The third record of the first segment: offset = position (base 0).
  const uint64_t bad = positions[2];
  FlipBit(first, bad + kRecordHeaderSize + 10);
  auto opened = Log::Open(Options(tmp.path(), 1024));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(opened.status().message().find(first), std::string_view::npos) << opened.status();
  EXPECT_NE(opened.status().message().find("offset " + std::to_string(bad)), std::string_view::npos)
      << opened.status();

  // With repair the segment is cut at the bad record; the rest of the log stays.
  LogOptions repair = Options(tmp.path(), 1024);
  repair.repair = true;
  ASSERT_OK_AND_ASSIGN(auto r, OpenAndReplay(repair));
  EXPECT_TRUE(r.records.contains(positions[0]));
  EXPECT_TRUE(r.records.contains(positions[1]));
  EXPECT_FALSE(r.records.contains(positions[2]));
  EXPECT_TRUE(r.records.contains(positions.back()));
  EXPECT_TRUE(std::filesystem::exists(first + ".corrupt-" + std::to_string(bad)));
}

TEST(LogTest, FlippedBitInTheTailRecordIsCut) {
  TempDir tmp;
  std::vector<uint64_t> positions;
  {
    ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(tmp.path())));
    for (int i = 0; i < 10; ++i) {
      ASSERT_OK_AND_ASSIGN(uint64_t p, log->AppendAndWait(1, PayloadFor(i)));
      positions.push_back(p);
    }
  }
  const std::string seg = SegmentFiles(tmp.path()).begin()->first;
  for (uint64_t where : {positions.back() + 1, positions.back() + 5, positions.back() + 40}) {
    SCOPED_TRACE(where);
    FlipBit(seg, where);
  }
  ASSERT_OK_AND_ASSIGN(auto r, OpenAndReplay(Options(tmp.path())));
  EXPECT_EQ(r.records.size(), 9u);
  EXPECT_FALSE(r.records.contains(positions.back()));
  EXPECT_EQ(r.log->recovery_report().actions.size(), 1u);
}

TEST(LogTest, FlippedBitBeforeTheTailOfTheLastSegmentIsCorruptionNotATornTail) {
  TempDir tmp;
  std::vector<uint64_t> positions;
  {
    ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(tmp.path())));
    for (int i = 0; i < 10; ++i) {
      ASSERT_OK_AND_ASSIGN(uint64_t p, log->AppendAndWait(1, PayloadFor(i)));
      positions.push_back(p);
    }
  }
  FlipBit(SegmentFiles(tmp.path()).begin()->first, positions[4] + 20);
  auto opened = Log::Open(Options(tmp.path()));
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("offset " + std::to_string(positions[4])),
            std::string_view::npos)
      << opened.status();
}

TEST(LogTest, ZeroFilledTailIsCut) {
  TempDir tmp;
  {
    ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(tmp.path())));
    for (int i = 0; i < 3; ++i) ASSERT_OK(log->AppendAndWait(1, PayloadFor(i)));
  }
  const std::string seg = SegmentFiles(tmp.path()).begin()->first;
  std::filesystem::resize_file(seg, std::filesystem::file_size(seg) + 4096);  // zeros
  ASSERT_OK_AND_ASSIGN(auto r, OpenAndReplay(Options(tmp.path())));
  EXPECT_EQ(r.records.size(), 3u);
}

TEST(LogTest, UnfinishedNewSegmentIsRemoved) {
  TempDir tmp;
  uint64_t end = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(tmp.path())));
    ASSERT_OK(log->AppendAndWait(1, PayloadFor(1)));
    end = log->durable_end();
  }
  // A crash while creating the next segment leaves a file shorter than a header.
  std::ofstream(tmp.File(SegmentFileName(end)), std::ios::binary) << "TXML";
  ASSERT_OK_AND_ASSIGN(auto r, OpenAndReplay(Options(tmp.path())));
  EXPECT_EQ(r.records.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(tmp.File(SegmentFileName(end))));
}

TEST(LogTest, PowerCutKeepsEveryCompletedAppendAndNoHalfRecord) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir tmp;
    FaultInjectionFileSystem fs;
    std::map<uint64_t, std::string> completed;
    std::set<std::string> all_payloads;
    absl::Mutex mu;
    {
      LogOptions o = Options(tmp.path(), 8192);
      o.fs = &fs;
      ASSERT_OK_AND_ASSIGN(auto log, Log::Open(o));
      std::atomic<int> done_count{0};
      std::atomic<bool> cut{false};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; !cut && i < 100000; ++i) {
            const uint64_t id = t * 1000000 + i;
            std::string payload = PayloadFor(id, 50 + id % 200);
            {
              absl::MutexLock lock(&mu);
              all_payloads.insert(payload);
            }
            auto pos = log->AppendAndWait(1, payload);
            if (!pos.ok()) return;  // the power is out
            absl::MutexLock lock(&mu);
            completed[*pos] = payload;
            ++done_count;
          }
        });
      }
      // Cut the power at a moment that depends on the seed.
      while (done_count < static_cast<int>(20 + seed * 37)) std::this_thread::yield();
      ASSERT_OK(fs.SimulatePowerCut(/*torn=*/true, seed));
      cut = true;
      for (auto& th : threads) th.join();
    }
    fs.Restore();
    LogOptions o = Options(tmp.path(), 8192);
    o.fs = &fs;
    ASSERT_OK_AND_ASSIGN(auto r, OpenAndReplay(o));
    for (const auto& [pos, payload] : completed) {
      auto it = r.records.find(pos);
      ASSERT_NE(it, r.records.end()) << "lost completed append at " << pos;
      EXPECT_EQ(it->second, payload);
    }
    // Whatever else survived is a whole record that was really appended.
    for (const auto& [pos, payload] : r.records) {
      EXPECT_TRUE(all_payloads.contains(payload)) << "garbage record at " << pos;
    }
  }
}

TEST(LogTest, FailedFsyncIsStickyAndRefusesEveryLaterAppend) {
  TempDir tmp;
  FaultInjectionFileSystem fs;
  LogOptions o = Options(tmp.path());
  o.fs = &fs;
  ASSERT_OK_AND_ASSIGN(auto log, Log::Open(o));
  ASSERT_OK(log->AppendAndWait(1, "before"));
  fs.SetFailSyncs(true);
  auto failed = log->AppendAndWait(1, "during");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("fdatasync"), std::string_view::npos) << failed.status();
  fs.SetFailSyncs(false);  // the disk "recovers": the log must not pretend it did
  EXPECT_FALSE(log->AppendAndWait(1, "after").ok());
  EXPECT_FALSE(log->health().ok());
  EXPECT_FALSE(log->Append(1, "later", [](auto) {}).ok());
}

TEST(LogTest, FullDiskFailsTheBatchCutsItsPartialWriteAndResumesWhenSpaceIsFreed) {
  TempDir tmp;
  FaultInjectionFileSystem fs;
  LogOptions o = Options(tmp.path());
  o.fs = &fs;
  uint64_t first = 0, third = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto log, Log::Open(o));
    ASSERT_OK_AND_ASSIGN(first, log->AppendAndWait(1, PayloadFor(1)));
    fs.SetWriteBudget(50);  // room for part of one record
    auto full = log->AppendAndWait(1, PayloadFor(2));
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted) << full.status();
    EXPECT_NE(full.status().message().find("disk full"), std::string_view::npos);
    EXPECT_OK(log->health());  // not sticky: nothing half-done is left behind
    EXPECT_EQ(log->stats().disk_full, 1u);
    // Still full: refused again, and the partial write is cut each time.
    EXPECT_FALSE(log->AppendAndWait(1, PayloadFor(2)).ok());
    fs.SetWriteBudget(-1);  // space is freed
    ASSERT_OK_AND_ASSIGN(third, log->AppendAndWait(1, PayloadFor(3)));
    ASSERT_OK_AND_ASSIGN(Record r, log->Read(third));
    EXPECT_EQ(r.payload, PayloadFor(3));
  }
  // After a restart: the records that succeeded, nothing of those that failed.
  ASSERT_OK_AND_ASSIGN(auto r, OpenAndReplay(Options(tmp.path())));
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records.at(first), PayloadFor(1));
  EXPECT_EQ(r.records.at(third), PayloadFor(3));
  EXPECT_EQ(r.log->recovery_report().cut_bytes, 0u);  // the cut left no torn tail
}

TEST(LogTest, FullDiskAtASegmentRollKeepsTheActiveSegmentAndRollsLater) {
  TempDir tmp;
  FaultInjectionFileSystem fs;
  LogOptions o = Options(tmp.path(), 1024);
  o.fs = &fs;
  std::vector<uint64_t> written;
  {
    ASSERT_OK_AND_ASSIGN(auto log, Log::Open(o));
    // Fill the first segment to just below its size.
    while (log->durable_end() + 2 * (kRecordHeaderSize + PayloadFor(0).size()) < 1024) {
      ASSERT_OK_AND_ASSIGN(uint64_t p, log->AppendAndWait(1, PayloadFor(written.size())));
      written.push_back(p);
    }
    bool disk_full = true;
    fs.SetDiskFullWhile([&] { return disk_full; });
    int refused = 0;
    for (int i = 0; i < 5; ++i) {
      auto r = log->AppendAndWait(1, PayloadFor(written.size()));
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
        ++refused;
      } else {
        written.push_back(*r);
      }
    }
    EXPECT_EQ(refused, 5);  // writes and the new segment's header both fail
    EXPECT_OK(log->health());
    EXPECT_EQ(SegmentFiles(tmp.path()).size(), 1u);  // no half-made segment left
    disk_full = false;
    for (int i = 0; i < 20; ++i) {
      ASSERT_OK_AND_ASSIGN(uint64_t p, log->AppendAndWait(1, PayloadFor(written.size())));
      written.push_back(p);
    }
    EXPECT_GT(log->Segments().size(), 1u);
  }
  ASSERT_OK_AND_ASSIGN(auto r, OpenAndReplay(Options(tmp.path(), 1024)));
  ASSERT_EQ(r.records.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) EXPECT_EQ(r.records.at(written[i]), PayloadFor(i));
}

TEST(LogTest, DeletesOnlySealedSegmentsEntirelyBeforeThePosition) {
  TempDir tmp;
  std::vector<uint64_t> positions;
  ASSERT_OK_AND_ASSIGN(auto log, Log::Open(Options(tmp.path(), 1024)));
  for (int i = 0; i < 60; ++i) {
    ASSERT_OK_AND_ASSIGN(uint64_t p, log->AppendAndWait(1, PayloadFor(i)));
    positions.push_back(p);
  }
  const auto before = log->Segments();
  ASSERT_GT(before.size(), 3u);
  // Keep everything from record 30 on.
  ASSERT_OK_AND_ASSIGN(size_t deleted, log->DeleteSegmentsBefore(positions[30]));
  EXPECT_GT(deleted, 0u);
  for (int i = 30; i < 60; ++i) EXPECT_OK(log->Read(positions[i]));
  EXPECT_EQ(log->Read(positions[0]).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(SegmentFiles(tmp.path()).size(), before.size() - deleted);
  // Never the active segment, even when asked for everything.
  ASSERT_OK(log->DeleteSegmentsBefore(UINT64_MAX));
  EXPECT_EQ(log->Segments().size(), 1u);
  EXPECT_OK(log->Read(positions.back()));
  log.reset();
  ASSERT_OK_AND_ASSIGN(auto r, OpenAndReplay(Options(tmp.path(), 1024)));
  EXPECT_TRUE(r.records.contains(positions.back()));
}

}  // namespace
}  // namespace txmsg::log
