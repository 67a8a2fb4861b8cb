// A certificate for a test hub's HTTPS, made by the test with the openssl command (Debian's
// openssl package, in the base system; scripts/install-deps.sh names it): a town CA of its own
// and a server certificate it signed for 127.0.0.1 and localhost, as docs/operations.md tells
// a town's IT staff to make them.
#pragma once

#include <stdexcept>
#include <string>

#include "integration/hub_process.h"

namespace hub::test {

struct TestCertificate {
  std::string ca;    // the CA's certificate: what clients trust
  std::string cert;  // the server's certificate (http.tls_cert)
  std::string key;   // its private key (http.tls_key)
  std::string other_key;  // a key of another certificate (a mismatch)
};

inline TestCertificate make_test_certificate(const std::string& dir) {
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string script =
      "(cd '" + dir + "' && set -e"
      " && openssl req -x509" + ec + " -keyout ca.key -out ca.crt -days 2 -subj '/CN=Test Town CA'"
      " && openssl req" + ec + " -keyout hub.key -out hub.csr -subj '/CN=localhost'"
      " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > hub.ext"
      " && openssl x509 -req -in hub.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile hub.ext"
      " -out hub.crt"
      " && openssl req -x509" + ec + " -keyout other.key -out other.crt -days 2 -subj '/CN=other')";
  const auto made = run_command(script);
  if (made.exit_code != 0) throw std::runtime_error("openssl could not make the test certificate: " + made.output);
  return {dir + "/ca.crt", dir + "/hub.crt", dir + "/hub.key", dir + "/other.key"};
}

}  // namespace hub::test
