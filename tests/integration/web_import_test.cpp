// Importing a file with a preview (issue 19, item 3) against a real hubd with the real
// department plugins over HTTPS: `hubctl import --dry-run` and POST /api/import/preview show what
// each department would do — finance's own plugin deciding the money from its roster and its
// accruals — and store nothing (no event, no ledger row, no accrual); bad rows of a GB18030 CSV
// with Chinese headers are named by line, field and code; confirm stores exactly the previewed
// file once however often it is sent, and the ledger then holds what the preview said; the roles
// that may not import, a missing CSRF token, an .xlsx and a file too large are refused with
// nothing stored; the confirm is audited with the clerk's name.
#include <gtest/gtest.h>
#include <httplib.h>
#include <iconv.h>

#include <filesystem>
#include <fstream>
#include <tuple>

#include "integration/hub_process.h"
#include "integration/test_certificate.h"

namespace {

using hub::test::HubOptions;
using hub::test::HubProcess;
using hub::test::run_command;
using nlohmann::json;

constexpr const char* kPassword = "long-enough-password-1";

// The text as Excel saves "CSV" on a Chinese Windows.
std::string to_gb18030(const std::string& utf8) {
  iconv_t cd = ::iconv_open("GB18030", "UTF-8");
  std::string in = utf8, out(utf8.size() * 2 + 16, '\0');
  char* src = in.data();
  char* dst = out.data();
  std::size_t left = in.size(), room = out.size();
  const std::size_t r = ::iconv(cd, &src, &left, &dst, &room);
  ::iconv_close(cd);
  EXPECT_NE(r, static_cast<std::size_t>(-1));
  out.resize(out.size() - room);
  return out;
}

const json* department(const json& reply, const std::string& id) {
  for (const auto& d : reply["departments"])
    if (d["id"] == id) return &d;
  return nullptr;
}

// The actions a department's preview lists for one household, as "policy action amount".
std::vector<std::string> actions_of(const json& dept, const std::string& household) {
  std::vector<std::string> out;
  for (const auto& h : dept["households"])
    if (h["household_id"] == household)
      for (const auto& a : h["actions"])
        out.push_back(a["policy_id"].get<std::string>() + " " + a["action"].get<std::string>() +
                      (a["amount_fen"].is_null() ? "" : " " + a["amount_fen"].dump()));
  return out;
}

class WebImport : public ::testing::Test {
 protected:
  void SetUp() override {
    certificate_ = hub::test::make_test_certificate(dir_);
    HubOptions options;
    options.departments = {"police", "finance", "fp_association"};
    options.http = {{"address", "127.0.0.1:0"}, {"tls_cert", certificate_.cert}, {"tls_key", certificate_.key},
                    {"login", true}};
    hub_.emplace(options);
    for (const char* add : {"boss --role admin", "watcher --role supervisor", "police1 --role department --department police",
                            "clerk1 --role clerk", "clerk2 --role clerk --village V02"}) {
      const auto r = run_command("printf '%s\\n' '" + std::string(kPassword) + "' | " + HUBCTL_PATH + " --data-dir " +
                                 hub_->data_dir() + " users add " + add + " --password-stdin 2>&1");
      ASSERT_EQ(r.exit_code, 0) << add << "\n" << r.output;
    }
    hub_->start();
    // Two households on the finance roster; the first deferred in 2020Q3 (6000 fen accrued).
    for (const json& event : {hub::test::household_event("V01-00001", "V01"), hub::test::household_event("V01-00002", "V01"),
                              hub::test::status_event("V01-00001", "non_credit", "2020Q3")}) {
      const json accepted = hub_->ingest(event);
      ASSERT_TRUE(accepted.value("ok", false)) << accepted.dump();
    }
    hub_->wait_for_delivery();
  }
  ~WebImport() override {
    if (hub_) hub_->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<httplib::SSLClient> client() {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", hub_->http_port());
    c->set_ca_cert_path(certificate_.ca.c_str());
    c->enable_server_certificate_verification(true);
    c->set_read_timeout(120, 0);
    return c;
  }
  struct Session {
    std::string cookie, csrf;
  };
  Session login(const std::string& user) {
    auto r = client()->Post("/api/login", json{{"user", user}, {"password", kPassword}}.dump(), "application/json");
    EXPECT_TRUE(r && r->status == 200) << user;
    if (!r) return {};
    const std::string set_cookie = r->get_header_value("Set-Cookie");
    return {set_cookie.substr(0, set_cookie.find(';')), json::parse(r->body).value("csrf_token", "")};
  }
  struct Answer {
    int status = 0;
    json body;
  };
  Answer send(const std::string& path, const Session& s, const std::string& bytes, const std::string& name,
              bool with_csrf = true) {
    httplib::Headers headers{{"Cookie", s.cookie}};
    if (with_csrf) headers.emplace("X-CSRF-Token", s.csrf);
    auto r = client()->Post((path + (path.find('?') == std::string::npos ? "?" : "&") + "name=" +
                             httplib::detail::encode_query_param(name)).c_str(),
                            headers, bytes, "application/octet-stream");
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  std::int64_t status_changes() {
    return hub_->query_int("events.db", "SELECT count(*) FROM event WHERE type = 'status_change'");
  }
  std::int64_t ledger_rows() { return hub_->query_int("ledger.db", "SELECT count(*) FROM action"); }
  std::int64_t finance_accruals() {
    return hub_->query_int("ledger.db", "SELECT count(*) FROM action WHERE department = 'finance' AND action = 'defer'");
  }

  std::string dir_ = hub::test::make_temp_dir("hub-web-import-");
  hub::test::TestCertificate certificate_;
  std::optional<HubProcess> hub_;
};

TEST_F(WebImport, HubctlDryRunShowsEachDepartmentsActionsAndStoresNothing) {
  std::ofstream(dir_ + "/q4.csv") << "户号,评议结果,季度,认定\nV01-00001,诚信户,2020年第4季度,\nV01-00002,违约户,2020Q4,帮扶对象\n";
  const std::int64_t ledger_before = ledger_rows();
  const std::string ctl = std::string(HUBCTL_PATH) + " --data-dir " + hub_->data_dir() + " ";
  auto r = run_command(ctl + "import --dry-run --json " + dir_ + "/q4.csv 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json preview = json::parse(r.output);
  const json* finance = department(preview, "finance");
  ASSERT_NE(finance, nullptr) << r.output;
  EXPECT_EQ((*finance)["mode"], "plugin");
  // The plugin's own decisions: the accrued 2020Q3 reward released with this quarter's applied;
  // the other household's reward withheld.
  EXPECT_EQ(actions_of(*finance, "V01-00001"),
            (std::vector<std::string>{"finance.only_child_reward release 6000", "finance.only_child_reward apply 6000",
                                      "finance.rural_reward not_applicable"}))
      << finance->dump();
  EXPECT_EQ(actions_of(*finance, "V01-00002"),
            (std::vector<std::string>{"finance.only_child_reward not_applicable", "finance.rural_reward withhold 24000"}))
      << finance->dump();
  EXPECT_EQ((*finance)["totals"]["release"]["amount_fen"], 6000);
  EXPECT_EQ((*finance)["totals"]["withhold"]["amount_fen"], 24000);
  const json* police = department(preview, "police");
  ASSERT_NE(police, nullptr);
  EXPECT_EQ((*police)["mode"], "plugin");
  EXPECT_EQ((*police)["totals"]["withhold"]["households"], 1);
  EXPECT_EQ((*police)["households"].size(), 2u);
  // Nothing stored, delivered or accrued, and no copy of a plugin's data left behind.
  EXPECT_EQ(status_changes(), 1);
  EXPECT_EQ(ledger_rows(), ledger_before);
  EXPECT_FALSE(std::filesystem::exists(hub_->data_dir() + "/preview") &&
               !std::filesystem::is_empty(hub_->data_dir() + "/preview"));

  // The table: one line per department, with the money.
  r = run_command(ctl + "import --dry-run " + dir_ + "/q4.csv 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("finance 财政所"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("插件 plugin"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("240.00"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nothing was stored"), std::string::npos) << r.output;

  // And the real import then does what the preview said.
  r = run_command(ctl + "import " + dir_ + "/q4.csv 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  hub_->wait_for_delivery();
  EXPECT_EQ(hub_->query_int("ledger.db", "SELECT coalesce(sum(amount_fen), 0) FROM action WHERE department = 'finance' "
                                         "AND household_id = 'V01-00001' AND action = 'release'"),
            6000);
  EXPECT_EQ(hub_->query_int("ledger.db", "SELECT coalesce(sum(amount_fen), 0) FROM action WHERE department = 'finance' "
                                         "AND household_id = 'V01-00002' AND action = 'withhold'"),
            24000);
}

TEST_F(WebImport, PreviewNamesBadRowsStoresNothingAndConfirmStoresOnce) {
  const Session clerk = login("clerk1");
  const std::int64_t ledger_before = ledger_rows();
  // A GB18030 CSV with Chinese headers: an unknown result on line 3, an unknown household on 4.
  const std::string bad = to_gb18030("户号,评议结果,季度,认定\nV01-00001,诚信户,2020年第4季度,\nV01-00002,优秀户,2020Q4,\n"
                                     "V09-00009,违约户,2020Q4,\n");
  Answer p = send("/api/import/preview", clerk, bad, "2020年第4季度评议.csv");
  ASSERT_EQ(p.status, 200) << p.body.dump();
  EXPECT_EQ(p.body["valid"], false);
  EXPECT_EQ(p.body["file"]["encoding"], "GB18030");
  ASSERT_EQ(p.body["issues"].size(), 2u) << p.body.dump();
  EXPECT_EQ(p.body["issues"][0]["line"], 3);
  EXPECT_EQ(p.body["issues"][0]["field"], "status");
  EXPECT_EQ(p.body["issues"][0]["code"], "invalid_status");
  EXPECT_EQ(p.body["issues"][1]["line"], 4);
  EXPECT_EQ(p.body["issues"][1]["code"], "unknown_household");
  // The good row's effects are shown all the same.
  ASSERT_NE(department(p.body, "finance"), nullptr);
  EXPECT_EQ(actions_of(*department(p.body, "finance"), "V01-00001").front(), "finance.only_child_reward release 6000");
  // A bad file is not stored, even asked to.
  Answer c = send("/api/import/confirm?digest=" + p.body["file"]["digest"].get<std::string>(), clerk, bad, "q4.csv");
  EXPECT_EQ(c.status, 422) << c.body.dump();
  EXPECT_EQ(c.body["error"]["code"], "invalid_rows");
  EXPECT_EQ(status_changes(), 1);

  // Fixed: valid, and confirmed once — twice sent, stored once.
  const std::string good = to_gb18030("户号,评议结果,季度,认定\nV01-00001,诚信户,2020年第4季度,\nV01-00002,违约户,2020Q4,帮扶对象\n");
  p = send("/api/import/preview", clerk, good, "q4.csv");
  ASSERT_EQ(p.status, 200) << p.body.dump();
  EXPECT_EQ(p.body["valid"], true) << p.body.dump();
  EXPECT_EQ(p.body["would_store"], 2);
  EXPECT_EQ(department(p.body, "fp_association")->at("mode"), "plugin");
  EXPECT_EQ(status_changes(), 1);
  EXPECT_EQ(ledger_rows(), ledger_before);
  const std::string digest = p.body["file"]["digest"];
  // Not the previewed file: refused.
  c = send("/api/import/confirm?digest=" + digest, clerk, good + "V01-00001,违约户,2020Q4,\n", "q4.csv");
  EXPECT_EQ(c.status, 422);
  EXPECT_EQ(c.body["error"]["code"], "preview_mismatch");
  c = send("/api/import/confirm?digest=" + digest, clerk, good, "q4.csv");
  ASSERT_EQ(c.status, 200) << c.body.dump();
  EXPECT_EQ(c.body["stored"], 2);
  EXPECT_EQ(c.body["duplicates"], 0);
  const std::int64_t last_seq = hub_->query_int("events.db", "SELECT max(seq) FROM event");
  EXPECT_EQ(c.body["last_seq"], last_seq);  // what the page follows each department's cursor up to
  c = send("/api/import/confirm?digest=" + digest, clerk, good, "q4.csv");
  ASSERT_EQ(c.status, 200) << c.body.dump();
  EXPECT_EQ(c.body["stored"], 0);
  EXPECT_EQ(c.body["duplicates"], 2);
  EXPECT_EQ(c.body["last_seq"], last_seq);  // the seqs stored the first time
  EXPECT_EQ(status_changes(), 3);
  EXPECT_EQ(hub_->query_rows("events.db", "SELECT DISTINCT publisher FROM event WHERE quarter = '2020Q4'"),
            (std::vector<std::vector<std::string>>{{"web:clerk1"}}));
  EXPECT_GE(hub_->query_int("audit.db", "SELECT count(*) FROM audit WHERE kind = 'web_write' AND actor = 'clerk1' "
                                        "AND subject LIKE 'import q4.csv 2 rows%'"),
            2);
  // The departments catch up with what the preview said.
  hub_->wait_for_delivery();
  EXPECT_EQ(hub_->query_int("ledger.db", "SELECT coalesce(sum(amount_fen), 0) FROM action WHERE department = 'finance' "
                                         "AND action = 'release'"),
            6000);
}

TEST_F(WebImport, RolesCsrfFormatsAndSizeAreRefusedWithNothingStored) {
  const std::string file = "household_id,status,quarter\nV01-00001,credit,2020Q4\n";
  const Session clerk = login("clerk1");
  Answer a = send("/api/import/preview", clerk, file, "q4.csv", /*with_csrf=*/false);
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.body["error"]["code"], "csrf_failed");
  a = send("/api/import/confirm?digest=x", clerk, file, "q4.csv", /*with_csrf=*/false);
  EXPECT_EQ(a.status, 403);
  for (const char* user : {"watcher", "police1"}) {
    const Session s = login(user);
    for (const char* path : {"/api/import/preview", "/api/import/confirm"}) {
      a = send(path, s, file, "q4.csv");
      EXPECT_EQ(a.status, 403) << user << " " << path;
      EXPECT_EQ(a.body["error"]["code"], "forbidden") << user;
    }
  }
  auto anonymous = client()->Post("/api/import/preview?name=q4.csv", file, "application/octet-stream");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  // A clerk limited to V02 cannot import V01's households.
  const Session v02 = login("clerk2");
  a = send("/api/import/preview", v02, file, "q4.csv");
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["valid"], false);
  EXPECT_EQ(a.body["issues"][0]["code"], "forbidden");
  a = send("/api/import/confirm?digest=" + a.body["file"]["digest"].get<std::string>(), v02, file, "q4.csv");
  EXPECT_EQ(a.status, 422) << a.body.dump();
  // An Excel workbook, a file of another kind, and one too large.
  a = send("/api/import/preview", clerk, "PK\x03\x04", "q4.xlsx");
  EXPECT_EQ(a.status, 415);
  EXPECT_EQ(a.body["error"]["code"], "unsupported_format");
  a = send("/api/import/preview", clerk, file, "q4.txt");
  EXPECT_EQ(a.body["error"]["code"], "invalid_field");
  std::string huge = "household_id,status,quarter\n";
  while (huge.size() <= (32u << 20)) huge += "V01-00001,credit,2020Q4,padding-padding-padding-padding-padding-padding\n";
  a = send("/api/import/confirm?digest=x", clerk, huge, "q4.csv");
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(a.body["error"]["code"], "file_too_large");
  // A file in neither UTF-8 nor GB18030, and one naming a household twice for the quarter
  // (pasted twice, or with two results): the rows named, and neither can be confirmed.
  for (const auto& [bad, code, line] : {std::tuple{std::string("household_id,status,quarter\nV01-00001,\xFF\xFE,2020Q4\n"),
                                                   "invalid_encoding", 2},
                                        std::tuple{std::string("household_id,status,quarter\nV01-00001,credit,2020Q4\n"
                                                               "V01-00001,credit,2020Q4\n"),
                                                   "duplicate_row", 3},
                                        std::tuple{std::string("household_id,status,quarter\nV01-00001,credit,2020Q4\n"
                                                               "V01-00001,breach,2020Q4\n"),
                                                   "duplicate_row", 3}}) {
    a = send("/api/import/preview", clerk, bad, "q4.csv");
    ASSERT_EQ(a.status, 200) << a.body.dump();
    EXPECT_EQ(a.body["valid"], false) << a.body.dump();
    ASSERT_EQ(a.body["issues"].size(), 1u) << a.body.dump();
    EXPECT_EQ(a.body["issues"][0]["code"], code) << a.body.dump();
    EXPECT_EQ(a.body["issues"][0]["line"], line) << a.body.dump();
    a = send("/api/import/confirm?digest=" + a.body["file"]["digest"].get<std::string>(), clerk, bad, "q4.csv");
    EXPECT_EQ(a.status, 422) << a.body.dump();
    EXPECT_EQ(a.body["error"]["code"], "invalid_rows") << a.body.dump();
  }
  EXPECT_EQ(status_changes(), 1);
  // Still serving.
  EXPECT_EQ(send("/api/import/preview", clerk, file, "q4.csv").status, 200);
}

// A department whose plugin runs on a plugin host cannot be asked: the preview says so and shows
// its catalogue's standard rule instead, without money; the in-process ones are still asked.
TEST(WebImportPreview, ADepartmentOnAPluginHostIsEstimatedFromItsCatalogue) {
  HubOptions options;
  options.departments = {"police", "judicial"};
  options.hosted = {"judicial"};  // no host is started: the preview must not need it
  HubProcess hub(options);
  hub.start();
  ASSERT_TRUE(hub.ingest(hub::test::household_event("V01-00001", "V01")).value("ok", false));
  std::ofstream(hub.dir() + "/q4.csv") << "household_id,status,quarter\nV01-00001,breach,2020Q4\n";
  const auto r = run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " import --dry-run --json " +
                             hub.dir() + "/q4.csv 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json preview = json::parse(r.output);
  const json* judicial = department(preview, "judicial");
  ASSERT_NE(judicial, nullptr) << r.output;
  EXPECT_EQ((*judicial)["mode"], "catalogue");
  EXPECT_NE((*judicial)["note"].get<std::string>().find("plugin host"), std::string::npos) << judicial->dump();
  ASSERT_FALSE(actions_of(*judicial, "V01-00001").empty());
  for (const auto& action : actions_of(*judicial, "V01-00001")) EXPECT_NE(action.find(" withhold"), std::string::npos) << action;
  EXPECT_EQ(department(preview, "police")->at("mode"), "plugin");
  EXPECT_EQ(hub.query_int("events.db", "SELECT count(*) FROM event WHERE type = 'status_change'"), 0);
  hub.stop();
}

}  // namespace
