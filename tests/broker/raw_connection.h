// A plain TCP connection to the broker for tests of the raw protocol:
// writes bytes or frames as they are, reads whatever comes back.
#ifndef TXMSG_TESTS_BROKER_RAW_CONNECTION_H_
#define TXMSG_TESTS_BROKER_RAW_CONNECTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "gtest/gtest.h"
#include "proto/frame_codec.h"
#include "tests/testutil/status_matchers.h"
#include "txmsg/broker.pb.h"

namespace txmsg::testing_broker {

class RawConnection {
 public:
  explicit RawConnection(uint16_t port) : socket_(io_) {
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
    socket_.connect(ep);
  }
  void Write(const std::string& bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }
  void Write(const wire::Frame& f) {
    std::string b;
    ASSERT_OK(proto::AppendFrame(f, UINT32_MAX, &b));
    Write(b);
  }
  // Reads frames until the broker closes; returns them.
  std::vector<wire::Frame> ReadUntilClosed() {
    std::vector<wire::Frame> frames;
    proto::FrameDecoder decoder;
    char buf[4096];
    boost::system::error_code ec;
    while (true) {
      const size_t n = socket_.read_some(boost::asio::buffer(buf), ec);
      if (ec) break;
      decoder.Feed(std::string_view(buf, n));
      while (true) {
        auto f = decoder.Next();
        if (!f.ok() || !f->has_value()) break;
        frames.push_back(**f);
      }
    }
    return frames;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace txmsg::testing_broker

#endif  // TXMSG_TESTS_BROKER_RAW_CONNECTION_H_
