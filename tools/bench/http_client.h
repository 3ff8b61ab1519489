// One keep-alive HTTP/1.1 connection for the bench's blocking worker threads,
// reconnecting when the server closes it.
#ifndef TXMSG_TOOLS_BENCH_HTTP_CLIENT_H_
#define TXMSG_TOOLS_BENCH_HTTP_CLIENT_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>
#include <optional>
#include <string>
#include <utility>

namespace txmsg::bench {

class HttpClient {
 public:
  // `host_port`: "HOST:PORT". Connects on the first call.
  explicit HttpClient(const std::string& host_port);
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request with a JSON body and returns (status, body); status 0
  // when the server could not be reached (after one reconnect).
  std::pair<int, std::string> Call(boost::beast::http::verb verb, const std::string& target,
                                   const std::string& body = "");

 private:
  boost::asio::io_context io_;
  std::optional<boost::beast::tcp_stream> stream_;
  std::string host_, port_;
};

}  // namespace txmsg::bench

#endif  // TXMSG_TOOLS_BENCH_HTTP_CLIENT_H_
