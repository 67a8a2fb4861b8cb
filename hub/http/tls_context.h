// The dashboard's TLS identity: an OpenSSL server context made from the certificate and private
// key of the configuration (http.tls_cert, http.tls_key; docs/operations.md, HTTPS).
//
// hubd calls check_tls_files() at start-up, before anything listens, so that a file that holds
// no certificate, an encrypted or unreadable key, or a key that is not the certificate's stops
// it as a configuration mistake (exit code 2) with the key and the file named; the HTTP server
// then makes its context with make_tls_context(). The context is shared by the server's
// connection threads (OpenSSL's SSL_CTX is safe for SSL_new from several threads).
#pragma once

#include <memory>

#include <openssl/ssl.h>

#include "config/hub_config.h"
#include "domain/status.h"

namespace hub::http {

using TlsContext = std::shared_ptr<SSL_CTX>;

// TLS 1.2 or newer, the certificate chain and key of `http`. Errors (field "http.tls_cert" or
// "http.tls_key"): "invalid_tls_cert", "invalid_tls_key", "tls_key_mismatch".
Result<TlsContext> make_tls_context(const HttpConfig& http);
Status check_tls_files(const HttpConfig& http);

}  // namespace hub::http
