// A small HTTP/1.1 JSON server for the services (Boost.Beast): keep-alive,
// limits on header and body size, routes by method and path prefix, and
// asynchronous handlers (a handler may answer later, from any thread).
// Runs its own network thread. Binds 127.0.0.1 unless told otherwise.
// Serves HTTPS instead once EnableTls is given a certificate.
#ifndef TXMSG_SERVICE_HTTP_HTTP_SERVER_H_
#define TXMSG_SERVICE_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "base/log_limiter.h"

namespace txmsg::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  // The header's value, or "" if the request has none.
  std::string Header(const std::string& lower_case_name) const {
    auto it = headers.find(lower_case_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers{};  // extra ones (WWW-Authenticate)
};

// Answers the request; call exactly once, from any thread.
using Responder = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Responder)>;

// {"error": message} with the given status; valid JSON whatever bytes the
// message holds (it often quotes the request).
Response JsonError(int status, const std::string& message);

class Server {
 public:
  Server(std::string bind, uint16_t port, size_t max_body_bytes = 16 * 1024);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `path` ending in '/' matches every path under it; otherwise exact.
  void Route(const std::string& method, const std::string& path, Handler handler);
  // Serves HTTPS only (call before Start): TLS 1.2+, this certificate chain
  // and key. INVALID_ARGUMENT naming the file that cannot be used. A client
  // that does not speak TLS is closed after its failed handshake (logged at
  // most every 10 s).
  [[nodiscard]] absl::Status EnableTls(const std::string& cert_file, const std::string& key_file);
  bool tls() const { return tls_ != nullptr; }
  [[nodiscard]] absl::Status Start();
  void Stop();
  uint16_t port() const { return port_; }
  // accept() failures so far (out of descriptors, mostly). Thread-safe.
  uint64_t accept_failures() const { return accept_failures_.load(); }

 private:
  template <typename Stream>
  class Session;
  void DoAccept();
  void OnAcceptError(const boost::system::error_code& ec);
  void Dispatch(const Request& req, Responder respond) const;

  const std::string bind_;
  uint16_t port_;
  const size_t max_body_;
  struct RouteEntry {
    std::string method;
    std::string path;
    Handler handler;
  };
  std::vector<RouteEntry> routes_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // null: plain HTTP
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;
  std::atomic<uint64_t> accept_failures_{0};
  base::LogLimiter log_;
  std::thread thread_;
};

}  // namespace txmsg::http

#endif  // TXMSG_SERVICE_HTTP_HTTP_SERVER_H_
