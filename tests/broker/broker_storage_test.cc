// The broker against failing storage, as its users see it: a corrupt sealed
// segment stops the start with the file and offset named (until --repair), a
// full disk refuses writes with a clear error while everything else goes on
// and resumes once space is freed, a failed fsync stops the broker so
// that a restart recovers exactly what was acknowledged, and a second
// broker on the same data directory refuses to start.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "broker/log/log_format.h"
#include "tests/broker/broker_test_fixture.h"
#include "tests/broker/log/log_test_util.h"
#include "tests/testutil/subprocess.h"

namespace txmsg::testing_broker {
namespace {

// The real broker process: failing storage.
class BrokerStorageTest : public BrokerProcessTest {};

TEST_F(BrokerStorageTest, CorruptSealedSegmentStopsTheStartWithFileAndOffsetUntilRepair) {
  StartBroker({"--segment_size=4096", "--tx_timeout=1h"});
  auto producer = Producer();
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(producer->SendHalf(Msg("pending-" + std::to_string(i)), "tx-" + std::to_string(i)));
  }
  producer.reset();
  broker_->Kill();
  const std::map<std::string, uint64_t> segments = log::testing::SegmentFiles(tmp_.File("data"));
  ASSERT_GE(segments.size(), 2u);
  const std::string first = segments.begin()->first;
  log::testing::FlipBit(first, log::kSegmentHeaderSize + log::kRecordHeaderSize + 5);

  testing::Subprocess refused(
      {"/bin/sh", "-c",
       std::string(TXMSG_BROKER_BIN) + " --port=0 --data_dir=" + tmp_.File("data") + " 2>&1"});
  const std::string out = refused.ReadAll(20s);
  const int status = refused.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_NE(out.find("corrupt log segment " + first + " at offset"), std::string::npos) << out;
  EXPECT_NE(out.find("--repair"), std::string::npos) << out;
  EXPECT_EQ(out.find("listening"), std::string::npos) << out;

  StartBroker({"--segment_size=4096", "--tx_timeout=1h", "--repair"});
  // What the damaged segment held from the bad record on is set aside (some
  // of it may live on in copies carried forward); everything after it is there.
  EXPECT_GT(Stats().pending_half(), 0u);
  bool kept_aside = false;
  for (const auto& e : std::filesystem::directory_iterator(tmp_.File("data")))
    kept_aside |= e.path().filename().string().find(".corrupt-") != std::string::npos;
  EXPECT_TRUE(kept_aside);
}

TEST_F(BrokerStorageTest, SecondBrokerOnTheSameDataDirectoryRefusesToStartAndNamesTheHolder) {
  StartBroker({});
  auto producer = Producer();
  ASSERT_OK(producer->SendHalf(Msg("owned"), "tx-owned"));

  testing::Subprocess second(
      {"/bin/sh", "-c",
       std::string(TXMSG_BROKER_BIN) + " --port=0 --data_dir=" + tmp_.File("data") + " 2>&1"});
  const std::string out = second.ReadAll(20s);
  const int status = second.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_NE(out.find("in use"), std::string::npos) << out;
  EXPECT_NE(out.find("pid " + std::to_string(broker_->pid())), std::string::npos) << out;
  EXPECT_EQ(out.find("listening"), std::string::npos) << out;
  // The first broker is untouched and still serves.
  EXPECT_EQ(Stats().pending_half(), 1u);

  // A kill -9 leaves no stale lock: the next broker starts at once.
  ASSERT_TRUE(broker_->Restart());
  EXPECT_EQ(Stats().pending_half(), 1u);
}

TEST_F(BrokerStorageTest, FullDiskRefusesWritesClearlyKeepsServingAndResumesWhenFreed) {
  const std::string full = tmp_.File("disk-is-full");
  broker_ = std::make_unique<BrokerProcess>(tmp_.File("data"));
  broker_->set_env({"TXMSG_TEST_DISK_FULL_FLAG=" + full});
  ASSERT_TRUE(broker_->Start());
  auto producer = Producer();
  ASSERT_OK(producer->Send(Msg("before")));

  std::ofstream(full) << "full";
  absl::Status during = producer->Send(Msg("during")).status();
  EXPECT_EQ(during.code(), absl::StatusCode::kUnavailable) << during;
  EXPECT_NE(during.message().find("disk full"), std::string_view::npos) << during;
  auto half = producer->SendHalf(Msg("half-during"), "tx-during");
  EXPECT_FALSE(half.ok());
  EXPECT_EQ(Stats().pending_half(), 0u);  // still answering, nothing half-stored
  EXPECT_FALSE(broker_->exited());

  std::filesystem::remove(full);
  ASSERT_OK(producer->Send(Msg("after")));
  // The log holds exactly what was acknowledged, across a restart too.
  ASSERT_TRUE(broker_->Restart());
  Inbox inbox;
  auto consumer = Subscribe(inbox);
  ASSERT_TRUE(inbox.WaitFor("after"));
  EXPECT_EQ(inbox.Count("before"), 1u);
  EXPECT_EQ(inbox.Count("during"), 0u);
  EXPECT_EQ(inbox.Count("half-during"), 0u);
}

TEST_F(BrokerStorageTest, FailedFsyncStopsTheBrokerAndARestartRecoversWhatWasAcknowledged) {
  broker_ = std::make_unique<BrokerProcess>(tmp_.File("data"));
  broker_->set_env({"TXMSG_TEST_FSYNC_FAIL_AFTER=12"});
  ASSERT_TRUE(broker_->Start());
  auto producer = Producer();
  std::vector<std::string> acknowledged;
  for (int i = 0; i < 100; ++i) {
    const std::string body = "m-" + std::to_string(i);
    if (!producer->Send(Msg(body)).ok()) break;
    acknowledged.push_back(body);
  }
  ASSERT_FALSE(acknowledged.empty());
  ASSERT_LT(acknowledged.size(), 100u) << "the fsync never failed";
  const int status = broker_->Wait();  // it stops by itself
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;

  broker_->set_env({});
  ASSERT_TRUE(broker_->Start());
  Inbox inbox;
  auto consumer = Subscribe(inbox);
  for (const std::string& body : acknowledged) EXPECT_TRUE(inbox.WaitFor(body)) << body;
}

}  // namespace
}  // namespace txmsg::testing_broker
