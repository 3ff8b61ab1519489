#include "tools/bench/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace txmsg::bench {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

HttpClient::HttpClient(const std::string& host_port, const std::string& tls_ca) {
  const size_t colon = host_port.rfind(':');
  host_ = host_port.substr(0, colon);
  port_ = host_port.substr(colon + 1);
  if (!tls_ca.empty()) {
    tls_ = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    boost::system::error_code ignored;  // checked at start (txmsg_bench.cc); fails each call
    tls_->load_verify_file(tls_ca, ignored);
    tls_->set_verify_mode(boost::asio::ssl::verify_peer);
  }
}

template <typename Stream>
std::pair<int, std::string> HttpClient::Exchange(Stream& stream, http::verb verb,
                                                 const std::string& target,
                                                 const std::string& body) {
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, host_);
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  if (!res.keep_alive()) {
    stream_.reset();
    tls_stream_.reset();
  }
  return {static_cast<int>(res.result_int()), res.body()};
}

std::pair<int, std::string> HttpClient::Call(http::verb verb, const std::string& target,
                                             const std::string& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (tls_) {
        if (!tls_stream_) {
          tls_stream_.emplace(io_, *tls_);
          SSL_set1_host(tls_stream_->native_handle(), host_.c_str());
          tcp::resolver resolver(io_);
          beast::get_lowest_layer(*tls_stream_).connect(resolver.resolve(host_, port_));
          tls_stream_->handshake(boost::asio::ssl::stream_base::client);
        }
        return Exchange(*tls_stream_, verb, target, body);
      }
      if (!stream_) {
        stream_.emplace(io_);
        tcp::resolver resolver(io_);
        stream_->connect(resolver.resolve(host_, port_));
      }
      return Exchange(*stream_, verb, target, body);
    } catch (const std::exception&) {
      stream_.reset();
      tls_stream_.reset();
    }
  }
  return {0, ""};
}

}  // namespace txmsg::bench
