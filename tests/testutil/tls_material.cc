#include "tests/testutil/tls_material.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace txmsg::testing {
namespace {

constexpr long kDay = 24 * 3600;

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "tls_material: %s failed\n", what);
  std::abort();
}

struct Issued {
  Cert cert;
  Key key;
};

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

// A certificate for `cn` (none if empty) with `sans` ("DNS:a,IP:1.2.3.4",
// none if empty), valid from now+`from` to now+`to` seconds, signed by
// `issuer` (self-signed when null). `ca`: may sign others.
Issued Make(const char* cn, const char* sans, long from, long to, const Issued* issuer, bool ca) {
  static long serial = 1;
  Issued out;
  out.key.reset(EVP_EC_gen("P-256"));
  Check(out.key != nullptr, "EVP_EC_gen");
  out.cert.reset(X509_new());
  X509* x = out.cert.get();
  Check(X509_set_version(x, 2) == 1, "X509_set_version");
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), from);
  X509_gmtime_adj(X509_getm_notAfter(x), to);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("txmsg tests"), -1, -1, 0);
  if (cn[0] != '\0') {
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                               -1, -1, 0);
  }
  X509* signer_cert = issuer ? issuer->cert.get() : x;
  EVP_PKEY* signer_key = issuer ? issuer->key.get() : out.key.get();
  Check(X509_set_issuer_name(x, X509_get_subject_name(signer_cert)) == 1, "set issuer");
  Check(X509_set_pubkey(x, out.key.get()) == 1, "X509_set_pubkey");
  AddExtension(x, signer_cert, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  AddExtension(x, signer_cert, NID_key_usage,
               ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  AddExtension(x, signer_cert, NID_subject_key_identifier, "hash");
  if (issuer) AddExtension(x, signer_cert, NID_authority_key_identifier, "keyid");
  if (sans[0] != '\0') AddExtension(x, signer_cert, NID_subject_alt_name, sans);
  Check(X509_sign(x, signer_key, EVP_sha256()) > 0, "X509_sign");
  return out;
}

std::string WriteCert(const std::string& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  Check(f != nullptr, "fopen");
  Check(PEM_write_X509(f, cert) == 1, "PEM_write_X509");
  std::fclose(f);
  return path;
}

CertFiles Write(const std::string& dir, const std::string& name, const Issued& issued) {
  CertFiles files{WriteCert(dir + "/" + name + ".crt", issued.cert.get()),
                  dir + "/" + name + ".key"};
  FILE* f = std::fopen(files.key.c_str(), "w");
  Check(f != nullptr, "fopen");
  Check(PEM_write_PrivateKey(f, issued.key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_PrivateKey");
  std::fclose(f);
  return files;
}

}  // namespace

TlsMaterial MakeTlsMaterial(const std::string& dir) {
  constexpr const char* kServerNames = "DNS:localhost,IP:127.0.0.1";
  TlsMaterial m;
  const Issued ca = Make("txmsg test CA", "", -kDay, 30 * kDay, nullptr, true);
  m.ca = WriteCert(dir + "/ca.crt", ca.cert.get());
  m.server = Write(dir, "server", Make("localhost", kServerNames, -kDay, 30 * kDay, &ca, false));
  m.expired = Write(dir, "expired", Make("localhost", kServerNames, -2 * kDay, -kDay, &ca, false));
  m.client = Write(dir, "client", Make("tls-client", "", -kDay, 30 * kDay, &ca, false));
  m.san_client =
      Write(dir, "san-client", Make("", "DNS:san-client.test", -kDay, 30 * kDay, &ca, false));
  const Issued other = Make("another CA", "", -kDay, 30 * kDay, nullptr, true);
  m.other_ca = WriteCert(dir + "/other-ca.crt", other.cert.get());
  m.other_server =
      Write(dir, "other-server", Make("localhost", kServerNames, -kDay, 30 * kDay, &other, false));
  m.other_client =
      Write(dir, "other-client", Make("tls-client", "", -kDay, 30 * kDay, &other, false));
  return m;
}

HttpResult Https(uint16_t port, const std::string& method, const std::string& target,
                 const std::string& ca_file, const std::string& body) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  namespace ssl = boost::asio::ssl;
  HttpResult out;
  try {
    boost::asio::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(ca_file);
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    SSL_set1_host(stream.native_handle(), "localhost");
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(stream).connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    stream.handshake(ssl::stream_base::client);
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "localhost");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
  } catch (const std::exception&) {
    out.status = 0;
  }
  return out;
}

}  // namespace txmsg::testing
