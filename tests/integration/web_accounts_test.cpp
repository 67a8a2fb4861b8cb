// The web console's accounts against a real hubd over HTTPS (issue 19): users made with the real
// `hubctl users`, a client that trusts only the test CA (test_certificate.h). Logging in, a wrong
// password, the lock-out, a write without its CSRF token, a session cookie used after logout, a
// disabled user's session, what a department user and a clerk limited to villages may see, the
// admin token for scripts, and the audit records of it all (audit.db).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <map>
#include <thread>

#include "integration/hub_process.h"
#include "integration/test_certificate.h"

namespace {

using hub::test::HubOptions;
using hub::test::HubProcess;
using hub::test::run_command;
using nlohmann::json;

constexpr const char* kPassword = "long-enough-password-1";

hub::test::CommandResult hubctl_users(const std::string& data_dir, const std::string& args,
                                      const std::string& password = kPassword) {
  return run_command("printf '%s\\n' '" + password + "' | " + HUBCTL_PATH + " --data-dir " + data_dir + " users " +
                     args + " 2>&1");
}

class WebAccounts : public ::testing::Test {
 protected:
  void SetUp() override {
    certificate_ = hub::test::make_test_certificate(dir_);
    HubOptions options;
    options.departments = {"police", "land"};
    options.http = {{"address", "127.0.0.1:0"}, {"tls_cert", certificate_.cert}, {"tls_key", certificate_.key},
                    {"login", true}};
    hub_.emplace(options);
    const std::string var = hub_->data_dir();
    for (const char* add : {"boss --role admin", "watcher --role supervisor", "police1 --role department "
                                   "--department police", "land1 --role department --department land",
                                   "clerk1 --role clerk --village V01"}) {
      const auto r = hubctl_users(var, std::string("add ") + add + " --password-stdin");
      ASSERT_EQ(r.exit_code, 0) << add << "\n" << r.output;
    }
    hub_->start();
    for (const json& event : {hub::test::household_event("V01-00001", "V01"), hub::test::household_event("V02-00001", "V02"),
                              hub::test::status_event("V01-00001", "non_credit", "2020Q4"),
                              hub::test::status_event("V02-00001", "credit", "2020Q4")}) {
      const json accepted = hub_->ingest(event);
      ASSERT_TRUE(accepted.value("ok", false)) << accepted.dump();
    }
    hub_->wait_for_delivery();
  }
  ~WebAccounts() override {
    if (hub_) hub_->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<httplib::SSLClient> client() {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", hub_->http_port());
    c->set_ca_cert_path(certificate_.ca.c_str());
    c->enable_server_certificate_verification(true);
    return c;
  }

  struct Login {
    int status = 0;
    json body;
    std::string cookie;      // "hub_session=…"
    std::string set_cookie;  // the whole header
  };
  Login login(const std::string& user, const std::string& password = kPassword) {
    auto r = client()->Post("/api/login", json{{"user", user}, {"password", password}}.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return {};
    Login l{r->status, json::parse(r->body, nullptr, false), "", r->get_header_value("Set-Cookie")};
    l.cookie = l.set_cookie.substr(0, l.set_cookie.find(';'));
    return l;
  }
  httplib::Result get(const std::string& path, const std::string& cookie) {
    return client()->Get(path, httplib::Headers{{"Cookie", cookie}});
  }
  httplib::Result post(const std::string& path, const std::string& body, httplib::Headers headers) {
    return client()->Post(path, headers, body, "application/json");
  }
  std::int64_t audited(const std::string& kind, const std::string& actor) {
    return hub_->query_int("audit.db", "SELECT count(*) FROM audit WHERE kind = '" + kind + "' AND actor = '" + actor + "'");
  }

  std::string dir_ = hub::test::make_temp_dir("hub-web-accounts-");
  hub::test::TestCertificate certificate_;
  std::optional<HubProcess> hub_;
};

TEST_F(WebAccounts, LoginSessionCsrfAndLogout) {
  // Nothing without a login, but the page shell (it shows the login form).
  auto anonymous = client()->Get("/api/status");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(json::parse(anonymous->body)["error"]["code"], "unauthorized");
  EXPECT_EQ(client()->Get("/api/household/V01-00001")->status, 401);
  EXPECT_EQ(client()->Get("/")->status, 200);

  // A wrong password; then the right one.
  const Login wrong = login("boss", "not-the-password");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body["error"]["code"], "login_failed");
  EXPECT_TRUE(wrong.set_cookie.empty());
  // A login sent as a form (what another site could make a browser send) is refused.
  auto form = client()->Post("/api/login", R"({"user":"boss","password":"long-enough-password-1"})", "text/plain");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415);
  EXPECT_TRUE(form->get_header_value("Set-Cookie").empty());
  const Login boss = login("boss");
  ASSERT_EQ(boss.status, 200) << boss.body.dump();
  EXPECT_EQ(boss.body["role"], "admin");
  const std::string csrf = boss.body["csrf_token"].get<std::string>();
  EXPECT_EQ(csrf.size(), 64u);
  for (const char* attribute : {"HttpOnly", "SameSite=Strict", "Secure", "Path=/"})
    EXPECT_NE(boss.set_cookie.find(attribute), std::string::npos) << boss.set_cookie;
  EXPECT_EQ(boss.cookie.size(), std::string("hub_session=").size() + 64) << boss.cookie;

  auto status = get("/api/status", boss.cookie);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(json::parse(status->body)["departments"].size(), 2u);
  auto session = get("/api/session", boss.cookie);
  EXPECT_EQ(json::parse(session->body)["csrf_token"], csrf);

  // A write without the CSRF token, or with another, is refused before anything is done.
  const std::string body = R"({"department":"police","seq":999999})";
  auto no_token = post("/api/parked/retry", body, {{"Cookie", boss.cookie}});
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 403);
  EXPECT_EQ(json::parse(no_token->body)["error"]["code"], "csrf_failed");
  auto other_token = post("/api/parked/retry", body, {{"Cookie", boss.cookie}, {"X-CSRF-Token", std::string(64, 'a')}});
  EXPECT_EQ(other_token->status, 403);
  EXPECT_EQ(audited("web_write", "boss"), 0);
  // With it: done (the admin thread answers that there is no such parked event), and audited.
  auto with_token = post("/api/parked/retry", body, {{"Cookie", boss.cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(with_token);
  EXPECT_NE(with_token->status, 401);
  EXPECT_NE(with_token->status, 403) << with_token->body;
  EXPECT_EQ(audited("web_write", "boss"), 1);

  // A supervisor reads everything but may not act.
  const Login watcher = login("watcher");
  ASSERT_EQ(watcher.status, 200);
  EXPECT_EQ(get("/api/parked", watcher.cookie)->status, 200);
  auto refused = post("/api/parked/retry", body,
                      {{"Cookie", watcher.cookie}, {"X-CSRF-Token", watcher.body["csrf_token"].get<std::string>()}});
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(json::parse(refused->body)["error"]["code"], "forbidden");

  // Logging in again from the same browser: a new session id, and the old one ends.
  auto relogin = client()->Post("/api/login", httplib::Headers{{"Cookie", watcher.cookie}},
                                json{{"user", "watcher"}, {"password", kPassword}}.dump(), "application/json");
  ASSERT_TRUE(relogin);
  EXPECT_EQ(relogin->status, 200);
  EXPECT_EQ(relogin->get_header_value("Set-Cookie").find(watcher.cookie), std::string::npos);
  EXPECT_EQ(get("/api/status", watcher.cookie)->status, 401);

  // Logout needs the token too; after it the cookie is worth nothing.
  EXPECT_EQ(post("/api/logout", "{}", {{"Cookie", boss.cookie}})->status, 403);
  auto logout = post("/api/logout", "{}", {{"Cookie", boss.cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(logout);
  EXPECT_EQ(logout->status, 200);
  EXPECT_NE(logout->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(get("/api/status", boss.cookie)->status, 401);
  EXPECT_EQ(post("/api/parked/retry", body, {{"Cookie", boss.cookie}, {"X-CSRF-Token", csrf}})->status, 401);

  // The admin token still works, for scripts, as the role admin.
  const std::string bearer = std::string("Bearer ") + hub::test::kTestAdminToken;
  EXPECT_EQ(client()->Get("/api/status", httplib::Headers{{"Authorization", bearer}})->status, 200);
  EXPECT_EQ(client()->Get("/api/status", httplib::Headers{{"Authorization", "Bearer wrong-token-wrong"}})->status, 401);

  // /metrics stays open (counts, no household's data), for Prometheus.
  EXPECT_EQ(client()->Get("/metrics")->status, 200);

  EXPECT_EQ(audited("web_login", "boss"), 1);
  EXPECT_EQ(audited("web_login_failed", "boss"), 1);
  EXPECT_EQ(audited("web_logout", "boss"), 1);
  const auto verify = run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub_->data_dir() + " audit verify --file " +
                                  hub_->data_dir() + "/audit.db");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

TEST_F(WebAccounts, FiveWrongPasswordsLockTheUserEvenAgainstTheRightOne) {
  for (int i = 0; i < 5; ++i) {
    const Login wrong = login("land1", "wrong-password-" + std::to_string(i));
    EXPECT_EQ(wrong.status, 401) << i;
  }
  const Login locked = login("land1");
  EXPECT_EQ(locked.status, 429) << locked.body.dump();
  EXPECT_EQ(locked.body["error"]["code"], "locked_out");
  EXPECT_GT(locked.body["retry_after_s"].get<int>(), 800);
  EXPECT_TRUE(locked.set_cookie.empty());
  EXPECT_EQ(login("police1").status, 200) << "another user logs in";
  EXPECT_EQ(audited("web_lockout", "land1"), 1);
  EXPECT_EQ(audited("web_login_failed", "land1"), 5);
  EXPECT_EQ(audited("web_login_locked", "land1"), 1);
}

TEST_F(WebAccounts, ADepartmentUserSeesOnlyItsOwnDepartment) {
  const Login police = login("police1");
  ASSERT_EQ(police.status, 200);
  EXPECT_EQ(police.body["department"], "police");
  auto household = get("/api/household/V01-00001", police.cookie);
  ASSERT_TRUE(household);
  ASSERT_EQ(household->status, 200) << household->body;
  const json h = json::parse(household->body);
  ASSERT_EQ(h["departments"].size(), 1u) << h.dump();
  EXPECT_EQ(h["departments"][0]["id"], "police");
  EXPECT_FALSE(h.contains("head")) << "the head's name is never a department's";
  EXPECT_FALSE(h.contains("members"));
  EXPECT_EQ(get("/api/household/V01-00001?department=land", police.cookie)->status, 403);
  auto status = json::parse(get("/api/status", police.cookie)->body);
  ASSERT_EQ(status["departments"].size(), 1u);
  EXPECT_EQ(status["departments"][0]["id"], "police");
  auto report = json::parse(get("/api/report?quarter=2020Q4", police.cookie)->body);
  ASSERT_EQ(report["departments"].size(), 1u) << report.dump();
  EXPECT_EQ(report["departments"][0]["id"], "police");
  EXPECT_EQ(get("/api/report?quarter=2020Q4&department=land", police.cookie)->status, 403);
  for (const char* path : {"/api/parked", "/api/plugins", "/api/reconcile"})
    EXPECT_EQ(get(path, police.cookie)->status, 403) << path;
  // Finding households: no head's name or member count for a department, so no search by name
  // and no export either.
  auto found = get("/api/households?village=V01", police.cookie);
  ASSERT_EQ(found->status, 200) << found->body;
  const json households = json::parse(found->body)["households"];
  ASSERT_EQ(households.size(), 1u) << found->body;
  EXPECT_EQ(households[0]["household_id"], "V01-00001");
  EXPECT_FALSE(households[0].contains("head"));
  EXPECT_FALSE(households[0].contains("members"));
  EXPECT_EQ(get("/api/households?head=Wang", police.cookie)->status, 403);
  EXPECT_EQ(get("/api/households?format=csv", police.cookie)->status, 403);
  // The complaints register is the office's: neither its list, nor one complaint, nor its
  // figures in the report.
  const json lodged = hub_->admin({{"cmd", "complaints"}, {"action", "lodge"}, {"household_id", "V01-00001"},
                                   {"quarter", "2020Q4"}, {"channel", "village_box"}, {"summary", "评议结果有误"}});
  ASSERT_TRUE(lodged.value("ok", false)) << lodged.dump();
  const std::string complaint = lodged["complaint"]["id"];
  EXPECT_EQ(get("/api/complaints", police.cookie)->status, 403);
  EXPECT_EQ(get("/api/complaints/" + complaint, police.cookie)->status, 403);
  EXPECT_FALSE(report.contains("complaints")) << report.dump();

  // The land user the other way round; a supervisor sees both.
  const Login land = login("land1");
  const json land_view = json::parse(get("/api/household/V01-00001", land.cookie)->body);
  ASSERT_EQ(land_view["departments"].size(), 1u);
  EXPECT_EQ(land_view["departments"][0]["id"], "land");
  const Login watcher = login("watcher");
  const json everything = json::parse(get("/api/household/V01-00001", watcher.cookie)->body);
  EXPECT_EQ(everything["departments"].size(), 2u);
  EXPECT_TRUE(everything.contains("head"));
}

TEST_F(WebAccounts, AClerkLimitedToVillagesSeesOnlyThoseHouseholds) {
  const Login clerk = login("clerk1");
  ASSERT_EQ(clerk.status, 200);
  EXPECT_EQ(get("/api/household/V01-00001", clerk.cookie)->status, 200);
  EXPECT_EQ(get("/api/household/V02-00001", clerk.cookie)->status, 403);
  EXPECT_EQ(get("/api/report?quarter=2020Q4&village=V01", clerk.cookie)->status, 200);
  EXPECT_EQ(get("/api/report?quarter=2020Q4&village=V02", clerk.cookie)->status, 403);
  EXPECT_EQ(get("/api/report?quarter=2020Q4", clerk.cookie)->status, 403);
  EXPECT_EQ(get("/api/reconcile", clerk.cookie)->status, 403);
  EXPECT_EQ(get("/api/households", clerk.cookie)->status, 403);
  EXPECT_EQ(get("/api/households?village=V02", clerk.cookie)->status, 403);
  EXPECT_EQ(get("/api/households?village=V01", clerk.cookie)->status, 200);
  // Complaints: the clerk's villages only.
  std::map<std::string, std::string> complaint_of;
  for (const char* household : {"V01-00001", "V02-00001"}) {
    const json lodged = hub_->admin({{"cmd", "complaints"}, {"action", "lodge"}, {"household_id", household},
                                     {"quarter", "2020Q4"}, {"channel", "phone"}, {"summary", "评议结果有误"}});
    ASSERT_TRUE(lodged.value("ok", false)) << lodged.dump();
    complaint_of[household] = lodged["complaint"]["id"];
  }
  EXPECT_EQ(get("/api/complaints", clerk.cookie)->status, 403);
  EXPECT_EQ(get("/api/complaints?village=V02", clerk.cookie)->status, 403);
  const auto own = get("/api/complaints?village=V01", clerk.cookie);
  ASSERT_EQ(own->status, 200) << own->body;
  EXPECT_EQ(json::parse(own->body)["complaints"].size(), 1u) << own->body;
  EXPECT_EQ(get("/api/complaints/" + complaint_of["V01-00001"], clerk.cookie)->status, 200);
  EXPECT_EQ(get("/api/complaints/" + complaint_of["V02-00001"], clerk.cookie)->status, 403);
  const std::string csrf = clerk.body["csrf_token"].get<std::string>();
  EXPECT_EQ(post("/api/plugins/reload", R"({"department":"police"})", {{"Cookie", clerk.cookie}, {"X-CSRF-Token", csrf}})
                ->status,
            403);
}

// Publishing one household's evaluation from the console (issue 19, item 3): a clerk of the
// household's village with the session's CSRF token; the wire's checks, codes and fields; the
// same form twice stores one event; the user recorded as the publisher and in the audit log.
TEST_F(WebAccounts, AClerkPublishesAnEvaluationCheckedAsOnTheWire) {
  const Login clerk = login("clerk1");
  ASSERT_EQ(clerk.status, 200);
  const std::string csrf = clerk.body["csrf_token"].get<std::string>();
  const httplib::Headers as_clerk{{"Cookie", clerk.cookie}, {"X-CSRF-Token", csrf}};
  auto stored = [&] {
    return hub_->query_int("events.db", "SELECT count(*) FROM event WHERE type = 'status_change'");
  };
  const std::int64_t before = stored();
  const std::string breach = R"({"household_id":"V01-00001","status":"breach","quarter":"2021Q1",)"
                             R"("effective_date":"2021-04-01","designations":[],"basis":"村评议小组会议纪要"})";

  // Refused before anything reaches ingest: no CSRF token, a role that may not publish, another
  // village, fields the hub sets; then by ingest's own checks, each naming its field.
  EXPECT_EQ(post("/api/publish", breach, {{"Cookie", clerk.cookie}})->status, 403);
  for (const char* user : {"police1", "watcher"}) {
    const Login other = login(user);
    const auto refused = post("/api/publish", breach, {{"Cookie", other.cookie}, {"X-CSRF-Token", other.body["csrf_token"].get<std::string>()}});
    EXPECT_EQ(refused->status, 403) << user << " " << refused->body;
    EXPECT_EQ(json::parse(refused->body)["error"]["code"], "forbidden") << refused->body;
  }
  const auto other_village = post("/api/publish", R"({"household_id":"V02-00001","status":"breach","quarter":"2021Q1"})", as_clerk);
  EXPECT_EQ(other_village->status, 403) << other_village->body;
  struct Bad {
    std::string body, code, field;
  };
  for (const Bad& bad : std::vector<Bad>{
           {R"({"household_id":"V01-00001","status":"gold","quarter":"2021Q1"})", "invalid_status", "status"},
           {R"({"household_id":"V01-00001","status":"breach","quarter":"2021Q9"})", "invalid_quarter", "quarter"},
           {R"({"household_id":"V01-00001","status":"breach","quarter":"2020Q3"})", "stale_quarter", "quarter"},
           {R"({"household_id":"V01-00001","status":"breach","quarter":"2021Q1","colour":"red"})", "unknown_field", "colour"},
           {R"({"household_id":"V01-00001","status":"breach","quarter":"2021Q1","event_id":"mine"})", "invalid_field", "event_id"},
           {R"({"household_id":"V01-00001","status":"breach","quarter":"2021Q1","effective_date":"2021-02-30"})",
            "invalid_date", "effective_date"},
           // Only a complaint's ruling names a complaint, and a past quarter stays stale for a clerk.
           {R"({"household_id":"V01-00001","status":"credit","quarter":"2020Q3","complaint_id":"TS-2026-000001"})",
            "complaint_correction_reserved", "complaint_id"},
           {R"({"household_id":"V01-00001","status":"credit","quarter":"2021Q1","complaint_id":"TS-1"})",
            "invalid_complaint_id", "complaint_id"},
           {R"(["not","an","object"])", "invalid_json", ""}}) {
    SCOPED_TRACE(bad.body);
    const auto refused = post("/api/publish", bad.body, as_clerk);
    ASSERT_TRUE(refused);
    EXPECT_GE(refused->status, 400) << refused->body;
    const json error = json::parse(refused->body)["error"];
    EXPECT_EQ(error["code"], bad.code) << refused->body;
    if (!bad.field.empty()) {
      EXPECT_EQ(error["field"], bad.field) << refused->body;
    }
  }
  EXPECT_EQ(stored(), before) << "nothing refused was stored";

  const auto published = post("/api/publish", breach, as_clerk);
  ASSERT_EQ(published->status, 200) << published->body;
  const json first = json::parse(published->body);
  EXPECT_EQ(first["ok"], true);
  EXPECT_EQ(first["duplicate"], false);
  EXPECT_EQ(first["event_id"].get<std::string>().rfind("ev-2021Q1-V01-00001-", 0), 0u) << first.dump();
  const json again = json::parse(post("/api/publish", breach, as_clerk)->body);
  EXPECT_EQ(again["duplicate"], true) << again.dump();
  EXPECT_EQ(again["seq"], first["seq"]);
  EXPECT_EQ(stored(), before + 1);
  EXPECT_EQ(hub_->query_rows("events.db", "SELECT publisher, status FROM event WHERE seq = " + first["seq"].dump()),
            (std::vector<std::vector<std::string>>{{"web:clerk1", "breach"}}));
  // Every request that reached ingest, recorded before it was sent: the stale one and the one
  // naming a complaint (refused by ingest, which alone knows the household's last quarter and
  // who may name a complaint) and the two accepted.
  EXPECT_EQ(audited("web_write", "clerk1"), 4);
  hub_->wait_for_delivery();
  const json household = json::parse(get("/api/household/V01-00001", clerk.cookie)->body);
  EXPECT_EQ(household["status"], "breach");
  EXPECT_EQ(household["quarter"], "2021Q1");
}

TEST_F(WebAccounts, HubctlUsersChangesTakeEffectAtTheNextRequest) {
  const std::string var = hub_->data_dir();
  const Login police = login("police1");
  ASSERT_EQ(get("/api/status", police.cookie)->status, 200);
  // Disabled: the session ends at once, and no new login.
  ASSERT_EQ(hubctl_users(var, "disable police1").exit_code, 0);
  auto ended = get("/api/status", police.cookie);
  EXPECT_EQ(ended->status, 401);
  EXPECT_EQ(json::parse(ended->body)["error"]["code"], "session_ended");
  EXPECT_EQ(login("police1").status, 401);
  ASSERT_EQ(hubctl_users(var, "enable police1").exit_code, 0);
  const Login again = login("police1");
  ASSERT_EQ(again.status, 200);
  // A new password ends the sessions opened with the old one.
  ASSERT_EQ(hubctl_users(var, "passwd police1 --password-stdin", "another-long-password").exit_code, 0);
  EXPECT_EQ(get("/api/status", again.cookie)->status, 401);
  EXPECT_EQ(login("police1").status, 401);
  EXPECT_EQ(login("police1", "another-long-password").status, 200);
  // A user added while hubd runs logs in.
  ASSERT_EQ(hubctl_users(var, "add late --role supervisor --password-stdin").exit_code, 0);
  EXPECT_EQ(login("late").status, 200);
}

TEST(HubctlUsers, AddListPasswdDisableWithErrorsNamed) {
  const std::string dir = hub::test::make_temp_dir("hub-users-cli-");
  const std::string file = " --file " + dir + "/keys/users.json";
  auto users = [&](const std::string& args, const std::string& password = kPassword) {
    return run_command("printf '%s\\n' '" + password + "' | " + HUBCTL_PATH + " users " + args + file + " 2>&1");
  };
  EXPECT_EQ(users("add li --role clerk --village V01 --village V02 --password-stdin").exit_code, 0);
  EXPECT_EQ(users("add po --role department --department police --password-stdin").exit_code, 0);
  const auto listed = users("list --json");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  const json list = json::parse(listed.output);
  ASSERT_EQ(list["users"].size(), 2u);
  EXPECT_EQ(list["users"][0]["villages"], json({"V01", "V02"}));
  EXPECT_EQ(list["users"][1]["department"], "police");
  EXPECT_EQ(listed.output.find("argon2"), std::string::npos) << "no hash in the list";
  EXPECT_EQ(std::filesystem::status(dir + "/keys/users.json").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto text = users("list");
  EXPECT_NE(text.output.find("li"), std::string::npos);
  EXPECT_NE(text.output.find("clerk"), std::string::npos);

  struct Case {
    std::string args;
    int exit_code;
    std::string says;
  };
  const Case cases[] = {
      {"add li --role clerk --password-stdin", 1, "user_exists"},
      {"add x --role boss --password-stdin", 2, "--role"},
      {"add x --role department --password-stdin", 2, "--department"},
      {"add x --role admin --village V01 --password-stdin", 2, "--village"},
      {"add 'a b' --role admin --password-stdin", 2, "NAME"},
      {"add x --role admin --password secret", 2, "password"},  // no such option: never on the command line
      {"passwd nobody --password-stdin", 1, "unknown_user"},
      {"disable nobody", 1, "unknown_user"},
  };
  for (const Case& c : cases) {
    const auto r = users(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << c.args << "\n" << r.output;
  }
  const auto short_password = users("add y --role admin --password-stdin", "short");
  EXPECT_EQ(short_password.exit_code, 1);
  EXPECT_NE(short_password.output.find("password_too_short"), std::string::npos) << short_password.output;
  // Without a terminal and without --password-stdin: a usage error, nothing written.
  const auto no_tty = run_command("setsid " + std::string(HUBCTL_PATH) + " users add z --role admin" + file +
                                  " < /dev/null 2>&1");
  EXPECT_EQ(no_tty.exit_code, 2) << no_tty.output;
  EXPECT_NE(no_tty.output.find("--password-stdin"), std::string::npos) << no_tty.output;
  EXPECT_EQ(users("disable li").exit_code, 0);
  EXPECT_EQ(json::parse(users("list --json").output)["users"][0]["disabled"], true);
  const auto help = run_command(std::string(HUBCTL_PATH) + " users add --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--password-stdin"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(WebAccountsConfig, ANetworkAddressNeedsLoginBesidesTls) {
  const std::string dir = hub::test::make_temp_dir("hub-web-login-config-");
  const auto certificate = hub::test::make_test_certificate(dir);
  HubOptions options;
  options.departments = {"police"};
  options.http = {{"address", "0.0.0.0:0"}, {"tls_cert", certificate.cert}, {"tls_key", certificate.key}};
  HubProcess hub(options);
  const auto r = run_command("timeout 20 " + hub::test::hubd_path() + " --config " + hub.dir() + "/hub.json 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("http.login: "), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}

}  // namespace
