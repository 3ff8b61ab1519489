#include "tools/bench/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace txmsg::bench {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

HttpClient::HttpClient(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  host_ = host_port.substr(0, colon);
  port_ = host_port.substr(colon + 1);
}

std::pair<int, std::string> HttpClient::Call(http::verb verb, const std::string& target,
                                             const std::string& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (!stream_) {
        stream_.emplace(io_);
        tcp::resolver resolver(io_);
        stream_->connect(resolver.resolve(host_, port_));
      }
      http::request<http::string_body> req(verb, target, 11);
      req.set(http::field::host, host_);
      req.set(http::field::content_type, "application/json");
      req.keep_alive(true);
      req.body() = body;
      req.prepare_payload();
      http::write(*stream_, req);
      beast::flat_buffer buffer;
      http::response<http::string_body> res;
      http::read(*stream_, buffer, res);
      if (!res.keep_alive()) stream_.reset();
      return {static_cast<int>(res.result_int()), res.body()};
    } catch (const std::exception&) {
      stream_.reset();
    }
  }
  return {0, ""};
}

}  // namespace txmsg::bench
