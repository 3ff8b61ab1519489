#include "base/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace txmsg::base {

namespace ssl = boost::asio::ssl;

namespace {

using ContextPtr = std::unique_ptr<ssl::context>;

// The reason OpenSSL gave for the last failure on this thread, then clears
// its error queue so the next call starts clean.
std::string OpenSslReason(const boost::system::error_code& ec) {
  std::string reason = ec ? ec.message() : "";
  if (const unsigned long e = ERR_peek_last_error(); e != 0) {
    if (const char* r = ERR_reason_error_string(e)) reason = r;
  }
  ERR_clear_error();
  return reason;
}

absl::Status FileError(const char* what, const std::string& file,
                       const boost::system::error_code& ec) {
  return absl::InvalidArgumentError(
      absl::StrCat("cannot use ", what, " ", file, ": ", OpenSslReason(ec)));
}

// What both ends share: TLS 1.2 or later, OpenSSL's default ciphers for
// those, no compression, no renegotiation.
absl::Status Harden(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                  SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
    return absl::InternalError("OpenSSL refuses TLS 1.2 as the minimum version");
  }
  return absl::OkStatus();
}

absl::Status UseCertificate(ssl::context& ctx, const std::string& cert_file,
                            const std::string& key_file) {
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(cert_file, ec);
  if (ec) return FileError("certificate", cert_file, ec);
  ctx.use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return FileError("private key", key_file, ec);
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key ", key_file, " does not match certificate ", cert_file));
  }
  return absl::OkStatus();
}

absl::Status UseCaFile(ssl::context& ctx, const char* what, const std::string& ca_file) {
  boost::system::error_code ec;
  ctx.load_verify_file(ca_file, ec);
  if (ec) return FileError(what, ca_file, ec);
  return absl::OkStatus();
}

// ASN.1 text as UTF-8, or "" when it cannot be converted.
std::string Utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  const int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return "";
  std::string text(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
  OPENSSL_free(out);
  return text;
}

std::string FirstDnsSan(X509* cert) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return "";
  std::string found;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && found.empty(); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) found = Utf8(name->d.dNSName);
  }
  GENERAL_NAMES_free(names);
  return found;
}

}  // namespace

absl::StatusOr<ContextPtr> MakeServerTlsContext(const TlsServerFiles& files) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  if (absl::Status s = Harden(*ctx); !s.ok()) return s;
  if (absl::Status s = UseCertificate(*ctx, files.cert_file, files.key_file); !s.ok()) return s;
  if (!files.client_ca_file.empty()) {
    if (absl::Status s = UseCaFile(*ctx, "client CA file", files.client_ca_file); !s.ok()) {
      return s;
    }
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    // Resumed sessions must belong to this server's verification set-up.
    static constexpr unsigned char kSessionContext[] = "txmsg";
    SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionContext,
                                   sizeof(kSessionContext) - 1);
  }
  return ctx;
}

absl::StatusOr<ContextPtr> MakeClientTlsContext(const TlsClientFiles& files) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  if (absl::Status s = Harden(*ctx); !s.ok()) return s;
  if (files.ca_file.empty()) return absl::InvalidArgumentError("a TLS client needs a CA file");
  if (absl::Status s = UseCaFile(*ctx, "CA file", files.ca_file); !s.ok()) return s;
  ctx->set_verify_mode(ssl::verify_peer);
  if (files.cert_file.empty() != files.key_file.empty()) {
    return absl::InvalidArgumentError("a client certificate needs both its file and its key");
  }
  if (!files.cert_file.empty()) {
    if (absl::Status s = UseCertificate(*ctx, files.cert_file, files.key_file); !s.ok()) return s;
  }
  return ctx;
}

absl::Status ExpectServerName(SSL* ssl, const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const bool ok = !ec ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
                      : SSL_set1_host(ssl, host.c_str()) == 1 &&
                            SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
  if (!ok) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("cannot verify TLS for host '", host, "'"));
  }
  return absl::OkStatus();
}

std::string VerifiedPeerName(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  const X509_NAME* subject = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at >= 0) {
    std::string cn = Utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
    if (!cn.empty()) return cn;
  }
  return FirstDnsSan(cert);
}

std::string TlsErrorText(const boost::system::error_code& ec, SSL* ssl) {
  std::string text = ec.message();
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    if (const char* r = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) text = r;
  }
  ERR_clear_error();
  if (ssl) {
    if (const long v = SSL_get_verify_result(ssl); v != X509_V_OK) {
      absl::StrAppend(&text, " (", X509_verify_cert_error_string(v), ")");
    }
  }
  if (absl::StrContains(text, "wrong version number") ||
      absl::StrContains(text, "packet length too long") ||
      absl::StrContains(text, "http request")) {
    absl::StrAppend(&text, ": the other end does not speak TLS");
  }
  return text;
}

}  // namespace txmsg::base
