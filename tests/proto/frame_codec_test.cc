#include "proto/frame_codec.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testutil/status_matchers.h"

namespace txmsg::proto {
namespace {

std::vector<wire::Frame> SampleFrames() {
  std::vector<wire::Frame> frames(4);
  frames[0].set_correlation_id(1);
  frames[0].mutable_hello()->set_role(wire::ROLE_PRODUCER);
  frames[0].mutable_hello()->set_producer_group("tx_order_group");
  frames[1].set_correlation_id(2);
  auto* half = frames[1].mutable_send_half();
  half->set_tx_id("tx-42");
  half->mutable_content()->set_topic("topic_txmsg");
  half->mutable_content()->set_body(std::string(300, 'x'));
  (*half->mutable_content()->mutable_properties())["k"] = "v";
  frames[2].set_correlation_id(3);
  frames[2].mutable_ping();  // an empty body: a 2-byte frame
  frames[3].mutable_ack()->add_message_ids(7);
  frames[3].mutable_ack()->add_message_ids(9);
  return frames;
}

std::string Encode(const std::vector<wire::Frame>& frames) {
  std::string out;
  for (const auto& f : frames) EXPECT_OK(AppendFrame(f, kDefaultMaxFrameSize, &out));
  return out;
}

// Feeds `chunks` in order and returns every frame decoded.
std::vector<wire::Frame> DecodeChunks(const std::vector<std::string_view>& chunks) {
  FrameDecoder decoder;
  std::vector<wire::Frame> out;
  for (std::string_view c : chunks) {
    decoder.Feed(c);
    while (true) {
      auto next = decoder.Next();
      EXPECT_OK(next);
      if (!next.ok() || !next->has_value()) break;
      out.push_back(std::move(**next));
    }
  }
  EXPECT_EQ(decoder.buffered(), 0u);
  return out;
}

void ExpectSameFrames(const std::vector<wire::Frame>& got, const std::vector<wire::Frame>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].SerializeAsString(), want[i].SerializeAsString()) << "frame " << i;
  }
}

TEST(FrameCodecTest, RoundTripsFramesOfEveryShape) {
  const auto frames = SampleFrames();
  const std::string bytes = Encode(frames);
  ExpectSameFrames(DecodeChunks({bytes}), frames);
}

TEST(FrameCodecTest, DecodesTheSameFramesForEverySplitIntoTwoAndThreeReads) {
  const auto frames = SampleFrames();
  const std::string bytes = Encode(frames);
  const std::string_view all(bytes);
  for (size_t i = 0; i <= all.size(); ++i) {
    ExpectSameFrames(DecodeChunks({all.substr(0, i), all.substr(i)}), frames);
  }
  // Three reads: every pair of cut points (the stream is small enough).
  for (size_t i = 0; i <= all.size(); i += 3) {
    for (size_t j = i; j <= all.size(); ++j) {
      ExpectSameFrames(DecodeChunks({all.substr(0, i), all.substr(i, j - i), all.substr(j)}),
                       frames);
    }
  }
}

TEST(FrameCodecTest, DecodesOneByteAtATime) {
  const auto frames = SampleFrames();
  const std::string bytes = Encode(frames);
  std::vector<std::string_view> chunks;
  for (size_t i = 0; i < bytes.size(); ++i) chunks.push_back(std::string_view(bytes).substr(i, 1));
  ExpectSameFrames(DecodeChunks(chunks), frames);
}

TEST(FrameCodecTest, OversizedLengthIsRejectedBeforeAnyBodyIsBuffered) {
  FrameDecoder decoder(/*max_frame_size=*/1024);
  const std::string header("\x40\x00\x00\x00", 4);  // claims 1 GiB
  decoder.Feed(header);
  EXPECT_EQ(decoder.buffered(), 0u);
  // More bytes of the "body" are dropped, not buffered.
  decoder.Feed(std::string(64 * 1024, 'z'));
  EXPECT_EQ(decoder.buffered(), 0u);
  auto next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(next.status().message().find("1073741824"), std::string_view::npos);
}

TEST(FrameCodecTest, LengthJustOverTheLimitIsRejectedAndAtTheLimitAccepted) {
  wire::Frame f;
  f.mutable_send()->mutable_content()->set_body(std::string(100, 'a'));
  std::string bytes;
  ASSERT_OK(AppendFrame(f, kDefaultMaxFrameSize, &bytes));
  const auto size = static_cast<uint32_t>(bytes.size() - kFrameHeaderSize);
  {
    FrameDecoder at_limit(size);
    at_limit.Feed(bytes);
    auto next = at_limit.Next();
    ASSERT_OK(next);
    EXPECT_TRUE(next->has_value());
  }
  FrameDecoder below(size - 1);
  below.Feed(bytes);
  EXPECT_EQ(below.Next().status().code(), absl::StatusCode::kOutOfRange);
}

TEST(FrameCodecTest, AppendFrameRefusesAFrameOverTheLimitAndAppendsNothing) {
  wire::Frame f;
  f.mutable_send()->mutable_content()->set_body(std::string(2000, 'a'));
  std::string out = "keep";
  EXPECT_EQ(AppendFrame(f, 1000, &out).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(out, "keep");
}

TEST(FrameCodecTest, GarbageBodyIsAnErrorAndTheDecoderStaysPoisoned) {
  FrameDecoder decoder;
  const std::string bad("\x00\x00\x00\x03\xff\xff\xff", 7);  // truncated varint field
  decoder.Feed(bad);
  auto next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kInvalidArgument);
  // Even a valid frame afterwards is not decoded: the stream is lost.
  decoder.Feed(Encode(SampleFrames()));
  EXPECT_FALSE(decoder.Next().ok());
}

TEST(FrameCodecTest, RandomGarbageAndMutatedFramesNeverCrash) {
  std::mt19937 rng(20261124);
  const std::string valid = Encode(SampleFrames());
  int errors = 0;
  int frames = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string input;
    if (round % 2 == 0) {
      input.resize(rng() % 512);
      for (char& c : input) c = static_cast<char>(rng());
    } else {
      input = valid;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < flips; ++k)
        input[rng() % input.size()] ^= static_cast<char>(1 << (rng() % 8));
    }
    FrameDecoder decoder(64 * 1024);
    size_t pos = 0;
    bool failed = false;
    while (pos < input.size() && !failed) {
      const size_t n = std::min<size_t>(1 + rng() % 64, input.size() - pos);
      decoder.Feed(std::string_view(input).substr(pos, n));
      pos += n;
      while (true) {
        auto next = decoder.Next();
        if (!next.ok()) {
          ++errors;
          failed = true;
          break;
        }
        if (!next->has_value()) break;
        ++frames;
      }
      EXPECT_LE(decoder.buffered(), 64u * 1024 + 64);
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(frames, 0);
}

}  // namespace
}  // namespace txmsg::proto
