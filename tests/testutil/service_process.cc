#include "tests/testutil/service_process.h"

#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

namespace txmsg::testing {

bool ServiceProcess::Start() {
  // Port 0 first, then the same port again on restarts.
  std::vector<std::string> argv = argv_;
  argv.push_back("--port=" + std::to_string(port_));
  proc_ = std::make_unique<Subprocess>(argv, env_);
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto line = proc_->ReadLine(std::chrono::seconds(20));
    if (line && line->find("listening on ") != std::string::npos) {
      port_ = static_cast<uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
      return true;
    }
    proc_->Wait();
    if (port_ == 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // old socket still closing
    proc_ = std::make_unique<Subprocess>(argv, env_);
  }
  return false;
}

void ServiceProcess::Kill() {
  if (!proc_) return;
  proc_->Signal(SIGKILL);
  proc_->Wait();
  proc_.reset();
}

int ServiceProcess::Terminate() {
  if (!proc_) return -1;
  proc_->Signal(SIGTERM);
  const int status = proc_->Wait();
  proc_.reset();
  return status;
}

int ServiceProcess::Wait() {
  if (!proc_) return -1;
  const int status = proc_->Wait();
  proc_.reset();
  return status;
}

HttpResult Http(uint16_t port, const std::string& method, const std::string& target,
                const std::string& body) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  HttpResult out;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(stream, buffer, parser);
    out.status = static_cast<int>(parser.get().result_int());
    out.body = parser.get().body();
  } catch (const std::exception&) {
    out.status = 0;
  }
  return out;
}

}  // namespace txmsg::testing
