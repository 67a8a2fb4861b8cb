#include "http/tls_context.h"

#include <openssl/err.h>

namespace hub::http {
namespace {

// OpenSSL's reasons for the last failure, oldest first, then cleared.
std::string openssl_reasons() {
  std::string reasons;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    reasons += (reasons.empty() ? "" : "; ") + std::string(text);
  }
  return reasons.empty() ? "unknown OpenSSL error" : reasons;
}

// An encrypted key would make OpenSSL ask for its pass phrase on the terminal: refuse it.
int no_pass_phrase(char*, int, int, void*) { return -1; }

}  // namespace

Result<TlsContext> make_tls_context(const HttpConfig& http) {
  ERR_clear_error();
  TlsContext ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return Status::error("internal_error", "cannot make a TLS context: " + openssl_reasons());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_default_passwd_cb(ctx.get(), no_pass_phrase);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), http.tls_cert.c_str()) != 1)
    return Status::error("invalid_tls_cert",
                         "http.tls_cert: " + http.tls_cert + " is not a PEM certificate (" + openssl_reasons() +
                             ") / 证书文件无效",
                         "http.tls_cert");
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), http.tls_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    const std::string reasons = openssl_reasons();
    const bool mismatch = reasons.find("values mismatch") != std::string::npos;
    if (mismatch)
      return Status::error("tls_key_mismatch",
                           "http.tls_key: " + http.tls_key + " is not the private key of the certificate " +
                               http.tls_cert + " / 私钥与证书不匹配",
                           "http.tls_key");
    return Status::error("invalid_tls_key",
                         "http.tls_key: " + http.tls_key + " is not an unencrypted PEM private key (" + reasons +
                             "; an encrypted key can be decrypted with 'openssl pkey -in KEY -out KEY.plain') / "
                             "私钥文件无效",
                         "http.tls_key");
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return Status::error("tls_key_mismatch",
                         "http.tls_key: " + http.tls_key + " is not the private key of the certificate " +
                             http.tls_cert + " (" + openssl_reasons() + ") / 私钥与证书不匹配",
                         "http.tls_key");
  return ctx;
}

Status check_tls_files(const HttpConfig& http) {
  auto ctx = make_tls_context(http);
  return ctx ? Status::success() : ctx.status();
}

}  // namespace hub::http
