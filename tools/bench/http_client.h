// One keep-alive HTTP/1.1 (or HTTPS) connection for the bench's blocking
// worker threads, reconnecting when the server closes it.
#ifndef TXMSG_TOOLS_BENCH_HTTP_CLIENT_H_
#define TXMSG_TOOLS_BENCH_HTTP_CLIENT_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace txmsg::bench {

class HttpClient {
 public:
  // `host_port`: "HOST:PORT". Connects on the first call. With `tls_ca`
  // (a PEM CA file), speaks HTTPS and verifies the server against it.
  explicit HttpClient(const std::string& host_port, const std::string& tls_ca = "");
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request with a JSON body and returns (status, body); status 0
  // when the server could not be reached (after one reconnect).
  std::pair<int, std::string> Call(boost::beast::http::verb verb, const std::string& target,
                                   const std::string& body = "");

 private:
  template <typename Stream>
  std::pair<int, std::string> Exchange(Stream& stream, boost::beast::http::verb verb,
                                       const std::string& target, const std::string& body);

  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // null: plain HTTP
  std::optional<boost::beast::tcp_stream> stream_;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_stream_;
  std::string host_, port_;
};

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_HTTP_CLIENT_H_
