// The dashboard over HTTPS against a real hubd (issue 19): with a certificate and key the test
// makes (a town CA of its own, test_certificate.h), the API answers over TLS to a client that
// trusts only that CA, and plain HTTP to the same port gets nothing; a certificate or key that
// is missing, not what it says, or not a pair stops hubd with exit code 2 naming the key and
// the file; and hubd refuses to serve plain HTTP on an address other machines can reach.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

#include "integration/hub_process.h"
#include "integration/test_certificate.h"

namespace {

using hub::test::HubOptions;
using hub::test::HubProcess;
using hub::test::TestCertificate;
using nlohmann::json;

HubOptions tls_options(const TestCertificate& certificate, const std::string& address = "127.0.0.1:0") {
  HubOptions options;
  options.departments = {"police"};
  options.http = {{"address", address}, {"tls_cert", certificate.cert}, {"tls_key", certificate.key}};
  return options;
}

// hubd with the configuration `options` make, run until it exits (it must, within 20 s).
hub::test::CommandResult run_hubd(const HubOptions& options) {
  HubProcess hub(options);
  return hub::test::run_command("timeout 20 " + hub::test::hubd_path() + " --config " + hub.dir() + "/hub.json");
}

class Https : public ::testing::Test {
 protected:
  ~Https() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_ = hub::test::make_temp_dir("hub-https-");
  TestCertificate certificate_ = hub::test::make_test_certificate(dir_);
};

TEST_F(Https, TheApiAnswersOverTlsAndPlainHttpToItsPortGetsNothing) {
  HubProcess hub(tls_options(certificate_));
  hub.start();
  ASSERT_EQ(hub.http_url().rfind("https://127.0.0.1:", 0), 0u) << hub.http_url();
  const int port = hub.http_port();

  httplib::SSLClient client("127.0.0.1", port);
  client.set_ca_cert_path(certificate_.ca.c_str());
  client.enable_server_certificate_verification(true);  // against the test CA, for 127.0.0.1
  for (int i = 0; i < 3; ++i) {  // new connections and kept-alive ones
    auto status = client.Get("/api/status");
    ASSERT_TRUE(status) << httplib::to_string(status.error()) << " (verify " << client.get_openssl_verify_result() << ")";
    EXPECT_EQ(status->status, 200);
    EXPECT_EQ(json::parse(status->body)["departments"][0]["id"], "police");
  }
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("<html"), std::string::npos);
  // An admin action over TLS: the token still decides.
  auto refused = client.Post("/api/plugins/reload", "{\"department\":\"police\"}", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);

  // A client that does not trust the town's CA refuses the hub: the certificate is checked.
  httplib::SSLClient untrusting("127.0.0.1", port);
  untrusting.set_ca_cert_path((dir_ + "/other.crt").c_str());
  untrusting.enable_server_certificate_verification(true);
  EXPECT_FALSE(untrusting.Get("/api/status"));

  // Plain HTTP to the TLS port: no answer, and the hub goes on serving TLS.
  httplib::Client plain("127.0.0.1", port);
  plain.set_read_timeout(5, 0);
  auto answer = plain.Get("/api/status");
  EXPECT_FALSE(answer && answer->status == 200) << (answer ? answer->body : "");
  auto again = client.Get("/api/status");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  hub.stop();
}

// A network address needs a login besides TLS (web_accounts_test.cpp): anonymous reads are
// refused, the admin token (scripts) is let in.
TEST_F(Https, AnyAddressIsServedWithTlsAndLogin) {
  HubOptions options = tls_options(certificate_, "0.0.0.0:0");
  options.http["login"] = true;
  HubProcess hub(options);
  hub.start();
  httplib::SSLClient client("127.0.0.1", hub.http_port());
  client.set_ca_cert_path(certificate_.ca.c_str());
  client.enable_server_certificate_verification(true);
  auto anonymous = client.Get("/api/status");
  ASSERT_TRUE(anonymous) << httplib::to_string(anonymous.error());
  EXPECT_EQ(anonymous->status, 401);
  auto status = client.Get("/api/status", httplib::Headers{{"Authorization", std::string("Bearer ") + hub::test::kTestAdminToken}});
  ASSERT_TRUE(status) << httplib::to_string(status.error());
  EXPECT_EQ(status->status, 200);
  hub.stop();
}

TEST_F(Https, BadCertificatesAndKeysStopHubdWithExitCode2NamingKeyAndFile) {
  struct Case {
    std::string cert, key, names_key, names_file, code;
  };
  const std::string missing = dir_ + "/missing.crt";
  const Case cases[] = {
      {missing, certificate_.key, "http.tls_cert", missing, "no such file"},
      {certificate_.cert, dir_ + "/missing.key", "http.tls_key", dir_ + "/missing.key", "no such file"},
      {certificate_.key, certificate_.key, "http.tls_cert", certificate_.key, "[invalid_tls_cert]"},
      {certificate_.cert, certificate_.cert, "http.tls_key", certificate_.cert, "[invalid_tls_key]"},
      {certificate_.cert, certificate_.other_key, "http.tls_key", certificate_.other_key, "[tls_key_mismatch]"},
  };
  for (const auto& c : cases) {
    TestCertificate bad = certificate_;
    bad.cert = c.cert;
    bad.key = c.key;
    const auto r = run_hubd(tls_options(bad));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(c.names_key + ": "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(c.names_file), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(c.code), std::string::npos) << r.output;
  }
}

TEST(HttpsRequired, PlainHttpOnANetworkAddressStopsHubdNamingTheKeyToSet) {
  for (const json& http : {json("0.0.0.0:0"), json{{"address", "0.0.0.0:0"}}}) {
    HubOptions options;
    options.departments = {"police"};
    options.http = http;
    const auto r = run_hubd(options);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("http.tls_cert: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("set http.tls_cert and http.tls_key"), std::string::npos) << r.output;
  }
}

}  // namespace
