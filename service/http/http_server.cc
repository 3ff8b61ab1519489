#include "service/http/http_server.h"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fd_limit.h"
#include "base/listen.h"
#include "base/tls.h"
#include "proto/json/proto_json.h"

namespace txmsg::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::ip::tcp;

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

Response JsonError(int status, const std::string& message) {
  return Response{status, json::Object({{"error", message}}) + "\n"};
}

// One connection over `Stream`: beast::tcp_stream (HTTP) or an ssl_stream
// over it (HTTPS: the handshake first, within the read deadline).
template <typename Stream>
class Server::Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(tcp::socket socket, Server& server) : stream_(std::move(socket)), server_(server) {}
  Session(tcp::socket socket, asio::ssl::context& tls, Server& server)
      : stream_(std::move(socket), tls), server_(server) {}

  void Start() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
      stream_.async_handshake(
          asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
            if (!ec) return self->Read();
            self->server_.log_.Log(
                "tls", absl::StrCat("https: TLS handshake on port ", self->server_.port_,
                                    " failed: ", base::TlsErrorText(ec, nullptr)));
          });
    } else {
      Read();
    }
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.max_body_);
    parser_->header_limit(8 * 1024);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(60));
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof) return Close();
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      return Write(JsonError(
          400, absl::StrCat("request body over the limit of ", server_.max_body_, " bytes")));
    }
    if (ec == bhttp::error::header_limit) {
      keep_alive_ = false;
      return Write(JsonError(431, "request headers too large"));
    }
    if (ec) {
      if (ec != beast::error::timeout && ec != asio::error::operation_aborted &&
          ec != asio::error::connection_reset) {
        keep_alive_ = false;
        return Write(JsonError(400, absl::StrCat("bad HTTP request: ", ec.message())));
      }
      return Close();
    }
    const auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    Request req;
    req.method = std::string(msg.method_string());
    const std::string_view target(msg.target().data(), msg.target().size());
    const size_t q = target.find('?');
    req.path = UrlDecode(target.substr(0, q));
    if (q != std::string_view::npos) {
      const std::string query(target.substr(q + 1));
      for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
        const std::string_view kv(part.data(), part.size());
        const size_t eq = kv.find('=');
        req.query[UrlDecode(kv.substr(0, eq))] =
            eq == std::string_view::npos ? "" : UrlDecode(kv.substr(eq + 1));
      }
    }
    for (const auto& field : msg) {
      req.headers[absl::AsciiStrToLower(
          absl::string_view(field.name_string().data(), field.name_string().size()))] =
          std::string(field.value().data(), field.value().size());
    }
    req.body = msg.body();
    auto self = this->shared_from_this();
    server_.Dispatch(req, [self](Response r) {
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r)]() mutable { self->Write(std::move(r)); });
    });
  }

  void Write(Response r) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->keep_alive(keep_alive_);
    res->body() = std::move(r.body);
    res->prepare_payload();
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res](beast::error_code ec, size_t) {
                         if (ec || !self->keep_alive_) return self->Close();
                         self->Read();
                       });
  }

  void Close() {
    if constexpr (kTls) {
      // close_notify, so the client knows the response was complete.
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Stream stream_;
  Server& server_;
  beast::flat_buffer buffer_{8192};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

Server::Server(std::string bind, uint16_t port, size_t max_body_bytes)
    : bind_(std::move(bind)),
      port_(port),
      max_body_(max_body_bytes),
      acceptor_(io_),
      accept_pause_(io_) {}

Server::~Server() { Stop(); }

void Server::Route(const std::string& method, const std::string& path, Handler handler) {
  routes_.push_back(RouteEntry{method, path, std::move(handler)});
}

void Server::Dispatch(const Request& req, Responder respond) const {
  const RouteEntry* best = nullptr;
  bool path_matched = false;
  for (const RouteEntry& r : routes_) {
    const bool prefix = !r.path.empty() && r.path.back() == '/';
    const bool match = prefix ? req.path.rfind(r.path, 0) == 0 && req.path.size() > r.path.size()
                              : req.path == r.path;
    if (!match) continue;
    path_matched = true;
    if (r.method == req.method && (!best || r.path.size() > best->path.size())) best = &r;
  }
  if (best) return best->handler(req, std::move(respond));
  if (path_matched)
    return respond(JsonError(405, absl::StrCat(req.method, " is not allowed on ", req.path)));
  respond(JsonError(404, absl::StrCat("no such resource: ", req.path)));
}

absl::Status Server::EnableTls(const std::string& cert_file, const std::string& key_file) {
  absl::StatusOr<std::unique_ptr<asio::ssl::context>> ctx =
      base::MakeServerTlsContext({cert_file, key_file, ""});
  if (!ctx.ok()) return ctx.status();
  tls_ = std::move(*ctx);
  return absl::OkStatus();
}

absl::Status Server::Start() {
  if (absl::Status s = base::Listen(acceptor_, bind_, port_); !s.ok()) return s;
  port_ = acceptor_.local_endpoint().port();
  DoAccept();
  thread_ = std::thread([this] { io_.run(); });
  return absl::OkStatus();
}

void Server::DoAccept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) return OnAcceptError(ec);
    if (tls_) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), *tls_,
                                                                      *this)
          ->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(std::move(socket), *this)->Start();
    }
    DoAccept();
  });
}

void Server::OnAcceptError(const boost::system::error_code& ec) {
  // Out of descriptors (EMFILE), the connection stays in the backlog and
  // the next accept fails at once: retrying without a pause spins a core
  // and floods the log. Pause, and let open sessions finish meanwhile.
  ++accept_failures_;
  const bool exhausted = base::IsDescriptorExhaustion(ec.value());
  const auto pause = exhausted ? std::chrono::milliseconds(100) : std::chrono::milliseconds(10);
  log_.Log("accept", absl::StrCat("http: accept failed on port ", port_, ": ", ec.message(),
                                  "; pausing ", pause.count(), " ms"));
  accept_pause_.expires_after(pause);
  accept_pause_.async_wait([this](const boost::system::error_code& wait_ec) {
    if (!wait_ec) DoAccept();
  });
}

void Server::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_pause_.cancel();
    io_.stop();
  });
  thread_.join();
}

}  // namespace txmsg::http
