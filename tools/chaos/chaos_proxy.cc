#include "tools/chaos/chaos_proxy.h"

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>

#include "absl/strings/str_cat.h"
#include "proto/frame_codec.h"
#include "base/listen.h"

namespace txmsg::chaos {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// splitmix64: a small, seeded generator for the network thread.
double Next01(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<double>((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

}  // namespace

// One direction of a relayed connection: reads frames from `from`, applies
// the chaos, writes to `to`.
struct Pipe {
  tcp::socket* from;
  tcp::socket* to;
  proto::FrameDecoder decoder{proto::kDefaultMaxFrameSize};
  std::array<char, 64 * 1024> buf;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> out;  // due, frame
  bool writing = false;
  bool waiting = false;  // a timer will call Flush
};

class ChaosProxy::Link : public std::enable_shared_from_this<Link> {
 public:
  Link(ChaosProxy& proxy, tcp::socket client)
      : proxy_(proxy), client_(std::move(client)), server_(proxy.io_) {}

  void Start() {
    auto self = shared_from_this();
    server_.async_connect({asio::ip::make_address("127.0.0.1"), proxy_.target_port_},
                          [self](const boost::system::error_code& ec) {
                            if (ec) return self->Close();
                            self->up_.from = &self->client_;
                            self->up_.to = &self->server_;
                            self->down_.from = &self->server_;
                            self->down_.to = &self->client_;
                            self->Read(self->up_);
                            self->Read(self->down_);
                          });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    client_.close(ignored);
    server_.close(ignored);
    proxy_.links_.erase(shared_from_this());
  }

  // Picks up whatever waited out a stall.
  void Resume() {
    Flush(up_);
    Flush(down_);
  }

 private:
  void Read(Pipe& p) {
    auto self = shared_from_this();
    p.from->async_read_some(asio::buffer(p.buf),
                            [self, &p](const boost::system::error_code& ec, size_t n) {
                              if (ec || self->closed_) return self->Close();
                              p.decoder.Feed(std::string_view(p.buf.data(), n));
                              while (true) {
                                auto frame = p.decoder.Next();
                                if (!frame.ok()) return self->Close();
                                if (!frame->has_value()) break;
                                std::string bytes;
                                (void)proto::AppendFrame(**frame, UINT32_MAX, &bytes);
                                self->Chaos(p, std::move(bytes));
                              }
                              self->Read(p);
                            });
  }

  void Chaos(Pipe& p, std::string frame) {
    ChaosProxy& x = proxy_;
    ++x.frames_;
    if (Next01(&x.rng_state_) < x.options_.drop) {
      ++x.dropped_;
      return;
    }
    if (Next01(&x.rng_state_) < x.options_.hold) {
      ++x.held_;
      auto timer = std::make_shared<asio::steady_timer>(
          x.io_, std::chrono::milliseconds(x.options_.hold_ms));
      auto self = shared_from_this();
      timer->async_wait([self, &p, timer, frame](const boost::system::error_code&) {
        if (!self->closed_) self->Send(p, frame);
      });
      return;
    }
    if (Next01(&x.rng_state_) < x.options_.duplicate) {
      ++x.duplicated_;
      Send(p, frame);
    }
    Send(p, std::move(frame));
  }

  void Send(Pipe& p, std::string frame) {
    p.out.emplace_back(
        std::chrono::steady_clock::now() + std::chrono::milliseconds(proxy_.options_.delay_ms),
        std::move(frame));
    Flush(p);
  }

  void Flush(Pipe& p) {
    // While stalled, frames wait in order; SetStall(false) flushes again.
    if (p.writing || p.waiting || p.out.empty() || closed_ || proxy_.stalled_) return;
    if (p.out.front().first > std::chrono::steady_clock::now()) {  // not due yet
      auto timer = std::make_shared<asio::steady_timer>(proxy_.io_, p.out.front().first);
      auto self = shared_from_this();
      p.waiting = true;
      timer->async_wait([self, &p, timer](const boost::system::error_code&) {
        p.waiting = false;
        self->Flush(p);
      });
      return;
    }
    p.writing = true;
    auto self = shared_from_this();
    asio::async_write(*p.to, asio::buffer(p.out.front().second),
                      [self, &p](const boost::system::error_code& ec, size_t) {
                        p.writing = false;
                        if (ec) return self->Close();
                        p.out.pop_front();
                        self->Flush(p);
                      });
  }

  ChaosProxy& proxy_;
  tcp::socket client_;
  tcp::socket server_;
  Pipe up_, down_;
  bool closed_ = false;
};

ChaosProxy::ChaosProxy(uint16_t target_port, ChaosOptions options)
    : target_port_(target_port), options_(options), acceptor_(io_), rng_state_(options.seed) {}

ChaosProxy::~ChaosProxy() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    auto links = links_;
    for (const auto& l : links) l->Close();
    io_.stop();
  });
  thread_.join();
}

absl::Status ChaosProxy::Start() {
  if (absl::Status s = base::Listen(acceptor_, "127.0.0.1", options_.port); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("chaos proxy: ", s.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  DoAccept();
  thread_ = std::thread([this] { io_.run(); });
  return absl::OkStatus();
}

void ChaosProxy::DoAccept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      auto link = std::make_shared<Link>(*this, std::move(socket));
      links_.insert(link);
      link->Start();
    }
    DoAccept();
  });
}

void ChaosProxy::SetStall(bool stall) {
  asio::post(io_, [this, stall] {
    stalled_ = stall;
    if (stall) return;
    auto links = links_;
    for (const auto& l : links) l->Resume();
  });
}

void ChaosProxy::CutAll() {
  asio::post(io_, [this] {
    ++cuts_;
    auto links = links_;
    for (const auto& l : links) l->Close();
  });
}

ChaosProxy::Stats ChaosProxy::stats() const {
  return Stats{frames_.load(), dropped_.load(), duplicated_.load(), held_.load(), cuts_.load()};
}

}  // namespace txmsg::chaos
