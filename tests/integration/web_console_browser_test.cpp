// The web console's login in a real browser (issue 19): headless Chromium, driven through the
// DevTools protocol (cdp_browser.h), against a real hubd over HTTPS with a test certificate and
// users made by `hubctl users`. It types into the login form and clicks as a clerk would: a
// wrong password, the right one, who is logged in, a write without the CSRF token refused, the
// logout button, the session cookie put back after logout refused, a department user's
// household page without other departments, and the lock-out; the import page; and the notice
// page (公示), printed to PDF as a clerk prints it for the village. The screenshots it takes (under
// the build directory, test-artefacts/browser/) are the ones docs/web-console.md shows.
//
// Skipped only when no Chromium is installed; scripts/install-deps.sh installs it, so CI runs it.
#include <unistd.h>

#include <iconv.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "integration/cdp_browser.h"
#include "integration/hub_process.h"
#include "integration/test_certificate.h"

namespace {

namespace fs = std::filesystem;
using hub::test::CdpBrowser;
using nlohmann::json;

constexpr const char* kPassword = "long-enough-password-1";

std::string chromium() {
  if (const char* configured = std::getenv("HUB_CHROMIUM")) return configured;
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(candidate, X_OK) == 0) return candidate;
  return {};
}

// Types into the login form and submits it, as a person would.
void log_in(CdpBrowser& browser, const std::string& user, const std::string& password) {
  ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'login'")) << browser.html();
  browser.evaluate("document.getElementById('login-user').value = " + json(user).dump() +
                   "; document.getElementById('login-password').value = " + json(password).dump() +
                   "; document.getElementById('login-error').hidden = true; document.getElementById('login-error').dataset.code = '';"
                   " document.getElementById('login-submit').click(); true");
}

// A hub serving the console over HTTPS with a test certificate made in `dir`, with login on.
hub::test::HubOptions https_with_login(const std::string& dir, std::vector<std::string> departments) {
  const auto certificate = hub::test::make_test_certificate(dir);
  hub::test::HubOptions options;
  options.departments = std::move(departments);
  options.http = {{"address", "127.0.0.1:0"}, {"tls_cert", certificate.cert}, {"tls_key", certificate.key},
                  {"login", true}};
  return options;
}

// `hubctl users add <who>` with kPassword, as an administrator makes accounts; "" when it worked,
// else hubctl's output.
std::string add_user(const hub::test::HubProcess& hub, const std::string& who) {
  const auto r = hub::test::run_command("printf '%s\\n' '" + std::string(kPassword) + "' | " + HUBCTL_PATH +
                                        " --data-dir " + hub.data_dir() + " users add " + who + " --password-stdin 2>&1");
  return r.exit_code == 0 ? "" : r.output;
}

TEST(WebConsoleBrowser, LoginLockOutCsrfLogoutAndADepartmentsView) {
  const std::string exe = chromium();
  ASSERT_FALSE(exe.empty()) << "Chromium is not installed: run scripts/install-deps.sh (it installs Debian's chromium)";
  const std::string dir = hub::test::make_temp_dir("hub-web-console-");
  hub::test::HubProcess hub(https_with_login(dir, {"police", "land"}));
  for (const char* add : {"wang.fang --role admin", "police1 --role department --department police",
                                 "land1 --role department --department land", "clerk1 --role clerk --village V01"})
    ASSERT_EQ(add_user(hub, add), "") << add;
  hub.start();
  for (const json& event : {hub::test::household_event("V01-00001", "V01"),
                            hub::test::status_event("V01-00001", "non_credit", "2020Q4")})
    ASSERT_TRUE(hub.ingest(event).value("ok", false));
  hub.wait_for_delivery();
  const std::string base = hub.http_url();
  ASSERT_EQ(base.rfind("https://", 0), 0u);
  const std::string artefacts = HUB_BROWSER_ARTEFACTS;
  fs::create_directories(artefacts);

  {
    CdpBrowser browser(exe, dir + "/profile", {"--ignore-certificate-errors"});
    // The login form, in Chinese; no data before a login.
    browser.navigate(base + "#/");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'login'")) << browser.html();
    EXPECT_NE(browser.html().find("登录诚信枢纽管理"), std::string::npos);
    EXPECT_EQ(browser.html().find("data-department="), std::string::npos);
    browser.screenshot(artefacts + "/login.png");

    // A wrong password: named, in Chinese with the English beside it.
    log_in(browser, "wang.fang", "not-my-password");
    ASSERT_TRUE(browser.wait_for("document.getElementById('login-error').dataset.code === 'login_failed'"))
        << browser.html();
    const std::string error = browser.evaluate("document.getElementById('login-error').textContent");
    EXPECT_NE(error.find("用户名或口令错误"), std::string::npos) << error;
    EXPECT_NE(error.find("wrong user name or password"), std::string::npos) << error;
    browser.screenshot(artefacts + "/login-failed.png");

    // The right one: the overview, who is logged in, and a cookie scripts cannot read.
    log_in(browser, "wang.fang", kPassword);
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'overview'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('who').dataset.user"), "wang.fang");
    EXPECT_EQ(browser.evaluate("document.getElementById('logout').hidden"), false);
    EXPECT_NE(browser.html().find("data-department=\"land\""), std::string::npos);
    EXPECT_EQ(browser.evaluate("document.cookie.includes('hub_session')"), false) << "HttpOnly";
    json session_cookie;
    for (const auto& c : browser.cookies())
      if (c["name"] == "hub_session") session_cookie = c;
    ASSERT_FALSE(session_cookie.is_null());
    EXPECT_TRUE(session_cookie["httpOnly"].get<bool>());
    EXPECT_TRUE(session_cookie["secure"].get<bool>());
    EXPECT_EQ(session_cookie["sameSite"], "Strict");
    browser.screenshot(artefacts + "/overview-logged-in.png");

    // A write from the page without the CSRF token (the cookie alone, as a forged form would
    // send it): refused. With the token (the page's own post()): not refused.
    const std::string retry = "fetch('/api/parked/retry', {method: 'POST', body: '{\"department\":\"police\",\"seq\":99999}'})"
                              ".then((r) => r.status)";
    EXPECT_EQ(browser.evaluate(retry), 403);
    EXPECT_NE(browser.evaluate("post('/api/parked/retry', {department: 'police', seq: 99999}).then((b) => b.error ? b.error.code : 'ok')"),
              "csrf_failed");

    // The logout button; the same cookie put back afterwards opens nothing.
    browser.evaluate("document.getElementById('logout').click(); true");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'login'")) << browser.html();
    EXPECT_EQ(browser.evaluate("fetch('/api/status').then((r) => r.status)"), 401);
    browser.set_cookie({{"name", "hub_session"}, {"value", session_cookie["value"]}, {"domain", "127.0.0.1"},
                        {"path", "/"}, {"secure", true}, {"httpOnly", true}, {"sameSite", "Strict"}});
    EXPECT_EQ(browser.evaluate("document.cookie.includes('hub_session')"), false);
    EXPECT_EQ(browser.evaluate("fetch('/api/status').then((r) => r.status)"), 401) << "a cookie reused after logout";

    // A department user: the household page shows its own department only; another's is
    // refused by the API; parked events are not offered.
    browser.navigate(base + "#/");
    log_in(browser, "police1", kPassword);
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'overview'")) << browser.html();
    browser.navigate(base + "#/household/V01-00001");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'household'")) << browser.html();
    const std::string page = browser.html();
    EXPECT_NE(page.find("data-department=\"police\""), std::string::npos) << page;
    EXPECT_EQ(page.find("data-department=\"land\""), std::string::npos) << page;
    EXPECT_EQ(browser.evaluate("document.querySelector('[data-page=parked]').hidden"), true);
    EXPECT_EQ(browser.evaluate("fetch('/api/household/V01-00001?department=land').then((r) => r.status)"), 403);
    EXPECT_EQ(browser.evaluate("document.getElementById('publish-form') === null"), true) << "a department does not publish";
    browser.screenshot(artefacts + "/household-department.png");
    browser.evaluate("document.getElementById('logout').click(); true");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'login'"));

    // A clerk publishes the household's next evaluation from its page: a wrong quarter is
    // refused with the wire's code and field, then the right one is stored and shown.
    // (The page logged out from is shown again after the login: this household's.)
    log_in(browser, "clerk1", kPassword);
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'household' && "
                                 "document.getElementById('publish-form') !== null"))
        << browser.html();
    browser.evaluate("document.getElementById('publish-status').value = 'breach';"
                     " document.getElementById('publish-quarter').value = '2021Q9';"
                     " document.getElementById('publish-go').click(); true");
    ASSERT_TRUE(browser.wait_for("document.getElementById('publish-message').dataset.code === 'invalid_quarter'"))
        << browser.html();
    {
      // Chinese first (what the code means, the field's name), the wire's code, field and English text beside.
      EXPECT_EQ(browser.evaluate("document.getElementById('publish-message').dataset.field"), "quarter");
      const std::string refused = browser.evaluate("document.getElementById('publish-message').textContent");
      const auto zh = refused.find("季度无效 / invalid_quarter · 季度 (quarter)");
      const auto en = refused.find("field 'quarter' must look like 2020Q3 (got '2021Q9')");
      EXPECT_NE(zh, std::string::npos) << refused;
      EXPECT_NE(en, std::string::npos) << refused;
      EXPECT_LT(zh, en) << refused;
      browser.screenshot(artefacts + "/publish-refused.png");
    }
    EXPECT_EQ(hub.query_int("events.db", "SELECT count(*) FROM event WHERE type = 'status_change'"), 1);
    browser.evaluate("document.getElementById('publish-quarter').value = '2021Q1';"
                     " document.getElementById('publish-assistance').checked = true;"
                     " document.getElementById('publish-basis').value = '2021-03-28 东风村评议小组会议纪要';"
                     " document.getElementById('publish-go').click(); true");
    ASSERT_TRUE(browser.wait_for("document.getElementById('publish-message').dataset.code === 'ok'")) << browser.html();
    browser.screenshot(artefacts + "/publish.png");
    ASSERT_TRUE(browser.wait_for("document.querySelector('[data-status=breach]') !== null")) << browser.html();
    EXPECT_EQ(hub.query_rows("events.db", "SELECT publisher, status, quarter, designations FROM event "
                                          "WHERE type = 'status_change' ORDER BY seq DESC LIMIT 1"),
              (std::vector<std::vector<std::string>>{{"web:clerk1", "breach", "2021Q1", "[\"assistance\"]"}}));
    browser.evaluate("document.getElementById('logout').click(); true");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'login'"));

    // Five wrong passwords lock the user: even the right one is refused, with the reason.
    for (int i = 0; i < 5; ++i) {
      log_in(browser, "land1", "wrong-password-" + std::to_string(i));
      ASSERT_TRUE(browser.wait_for("document.getElementById('login-error').dataset.code === 'login_failed'")) << i;
    }
    log_in(browser, "land1", kPassword);
    ASSERT_TRUE(browser.wait_for("document.getElementById('login-error').dataset.code === 'locked_out'"))
        << browser.html();
    const std::string locked = browser.evaluate("document.getElementById('login-error').textContent");
    EXPECT_NE(locked.find("已暂时锁定"), std::string::npos) << locked;
    browser.screenshot(artefacts + "/login-locked.png");

    // The login form in English.
    browser.navigate(base + "?lang=en#/");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'login'"));
    EXPECT_NE(browser.html().find("Log in to Chengxin Hub"), std::string::npos);
    browser.screenshot(artefacts + "/login-en.png");
  }
  for (const char* png : {"login", "login-failed", "overview-logged-in", "household-department", "publish-refused", "login-locked",
                          "login-en"})
    EXPECT_GT(fs::file_size(artefacts + "/" + png + ".png"), 5000u) << png;
  hub.stop();
  fs::remove_all(dir);
}

// Chooses a file of these bytes in the import form (as a person picking it in the file dialog)
// and previews it.
void choose_file_and_preview(CdpBrowser& browser, const std::string& name, const std::string& bytes,
                             const std::string& type) {
  std::string js = "[";
  for (unsigned char c : bytes) js += std::to_string(c) + ",";
  js += "]";
  browser.evaluate("{ const dt = new DataTransfer(); dt.items.add(new File([new Uint8Array(" + js + ")], " +
                   json(name).dump() + ", {type: " + json(type).dump() + "}));"
                   " document.getElementById('import-file').files = dt.files;"
                   " document.body.removeAttribute('data-import');"
                   " document.getElementById('import-preview').click(); } true");
}

// A text as Excel saves "CSV" on a Chinese Windows: GB18030.
std::string to_gb18030(const std::string& utf8) {
  iconv_t cd = ::iconv_open("GB18030", "UTF-8");
  std::string in = utf8, out(utf8.size() * 2 + 16, '\0');
  char* src = in.data();
  char* dst = out.data();
  std::size_t left = in.size(), room = out.size();
  EXPECT_NE(::iconv(cd, &src, &left, &dst, &room), static_cast<std::size_t>(-1));
  ::iconv_close(cd);
  out.resize(out.size() - room);
  return out;
}

// Chooses a CSV file, the text saved in GB18030, and previews it.
void choose_and_preview(CdpBrowser& browser, const std::string& name, const std::string& utf8) {
  choose_file_and_preview(browser, name, to_gb18030(utf8), "text/csv");
}

// The status changes in the hub's event log.
std::int64_t status_changes_in(hub::test::HubProcess& hub) {
  return hub.query_int("events.db", "SELECT count(*) FROM event WHERE type = 'status_change'");
}

// Opens the import page, logs `user` in on the way, and waits for the page.
void open_import_page(CdpBrowser& browser, const hub::test::HubProcess& hub, const std::string& user) {
  browser.navigate(hub.http_url() + "#/import");
  log_in(browser, user, kPassword);
  ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'import'")) << browser.html();
}

// A clerk imports a quarter's file saved by Excel in Chinese (GB18030, Chinese headers and
// values): the preview names the bad row by line and field, Chinese first; the fixed file's
// preview shows what each department would do, with finance's money from its own plugin; confirm
// stores it, and the page follows each department's delivery of it, a disabled one left behind
// until it is enabled; a second confirm stores nothing more. Screenshots for docs/web-console.md.
TEST(WebConsoleBrowser, AClerkImportsAGb18030FileWithAPreviewAndConfirmsOnce) {
  const std::string exe = chromium();
  ASSERT_FALSE(exe.empty()) << "Chromium is not installed: run scripts/install-deps.sh (it installs Debian's chromium)";
  const std::string dir = hub::test::make_temp_dir("hub-web-import-browser-");
  hub::test::HubProcess hub(https_with_login(dir, {"police", "finance", "civil_affairs", "fp_association"}));
  ASSERT_EQ(add_user(hub, "li.na --role clerk"), "");
  hub.start();
  for (const json& event : {hub::test::household_event("V01-00001", "V01"), hub::test::household_event("V01-00002", "V01"),
                            hub::test::household_event("V01-00003", "V01"),
                            hub::test::status_event("V01-00001", "non_credit", "2020Q3")})
    ASSERT_TRUE(hub.ingest(event).value("ok", false));
  hub.wait_for_delivery();
  const std::string artefacts = HUB_BROWSER_ARTEFACTS;
  fs::create_directories(artefacts);
  const auto status_changes = [&] { return status_changes_in(hub); };
  {
    CdpBrowser browser(exe, dir + "/profile", {"--ignore-certificate-errors"});
    ASSERT_NO_FATAL_FAILURE(open_import_page(browser, hub, "li.na"));

    // A bad row: named by its line and field, in Chinese with the code beside; nothing stored.
    choose_and_preview(browser, "2020年第4季度评议.csv",
                       "户号,评议结果,季度,认定,评议依据\nV01-00001,诚信户,2020年第4季度,,村评议会议纪要第7号\n"
                       "V01-00002,优秀户,2020年第4季度,,村评议会议纪要第7号\nV01-00003,违约户,2020年第4季度,帮扶对象,村评议会议纪要第7号\n");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'invalid'")) << browser.html();
    const std::string bad_row = browser.evaluate("document.querySelector('#import-issues tr[data-line=\"3\"]').textContent");
    EXPECT_NE(bad_row.find("第 3 行"), std::string::npos) << bad_row;
    EXPECT_NE(bad_row.find("评议结果 (status)"), std::string::npos) << bad_row;
    EXPECT_NE(bad_row.find("评议结果无效 / invalid_status"), std::string::npos) << bad_row;
    EXPECT_EQ(browser.evaluate("document.getElementById('import-confirm') === null"), true);
    browser.screenshot(artefacts + "/import-bad-row.png");
    EXPECT_EQ(status_changes(), 1);

    // Fixed: the preview of every department, finance's money from its own plugin.
    choose_and_preview(browser, "2020年第4季度评议.csv",
                       "户号,评议结果,季度,认定,评议依据\nV01-00001,诚信户,2020年第4季度,,村评议会议纪要第7号\n"
                       "V01-00002,不诚信户,2020年第4季度,,村评议会议纪要第7号\nV01-00003,违约户,2020年第4季度,帮扶对象,村评议会议纪要第7号\n");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'previewed'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.querySelector('#import-departments tr[data-department=finance]').dataset.mode"), "plugin");
    EXPECT_EQ(browser.evaluate("document.querySelector('#import-departments tr[data-department=finance] [data-paid-fen]')"
                               ".dataset.paidFen"),
              "12000");  // 6000 released + 6000 applied (24000 deferred, not paid)
    EXPECT_EQ(browser.evaluate("document.querySelector('#import-departments tr[data-department=police] [data-kind=withhold]')"
                               ".dataset.households"),
              "1");
    browser.evaluate("document.querySelector('details[data-department=finance]').open = true; true");
    EXPECT_NE(browser.evaluate("document.querySelector('details[data-department=finance]').textContent").get<std::string>()
                  .find("finance.only_child_reward"),
              std::string::npos);
    browser.screenshot(artefacts + "/import-preview.png");
    EXPECT_EQ(status_changes(), 1);

    // Confirm, and watch the departments catch up: police, disabled by the administrator
    // meanwhile, stays 3 events behind, named with its state, until it is enabled again.
    ASSERT_EQ(hub.admin({{"cmd", "plugins"}, {"action", "disable"}, {"department", "police"}, {"by", "ann"}})["ok"], true);
    browser.evaluate("document.getElementById('import-confirm').click(); true");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'stored'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('import-message').dataset.stored"), "3");
    browser.evaluate("document.querySelector('details[data-department=finance]').open = false; true");  // the message in view
    browser.screenshot(artefacts + "/import-confirmed.png");
    const std::string last_seq = std::to_string(hub.query_int("events.db", "SELECT max(seq) FROM event"));
    ASSERT_TRUE(browser.wait_for("document.querySelector('#import-delivery tr[data-department=finance][data-caught-up=true]') !== null"
                                 " && document.querySelector('#import-delivery tr[data-department=civil_affairs][data-caught-up=true]') !== null"
                                 " && document.querySelector('#import-delivery tr[data-department=fp_association][data-caught-up=true]') !== null"))
        << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('import-delivery').dataset.lastSeq"), last_seq);
    EXPECT_EQ(browser.evaluate("document.getElementById('import-delivery').dataset.caughtUp"), "false");
    const std::string police = browser.evaluate("document.querySelector('#import-delivery tr[data-department=police]').textContent");
    EXPECT_NE(police.find("已停用"), std::string::npos) << police;
    EXPECT_NE(police.find("还差 3 条"), std::string::npos) << police;
    browser.evaluate("document.getElementById('import-delivery').scrollIntoView(); true");
    browser.screenshot(artefacts + "/import-delivery-waiting.png");
    ASSERT_EQ(hub.admin({{"cmd", "plugins"}, {"action", "enable"}, {"department", "police"}, {"by", "ann"}})["ok"], true);
    ASSERT_TRUE(browser.wait_for("document.getElementById('import-delivery').dataset.caughtUp === 'true'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.querySelectorAll('#import-delivery tr[data-caught-up=true]').length"), 4);
    EXPECT_EQ(browser.evaluate("document.querySelector('#import-delivery tr[data-department=police]').dataset.cursor"), last_seq);
    browser.evaluate("document.getElementById('import-delivery').scrollIntoView(); true");
    browser.screenshot(artefacts + "/import-delivered.png");

    // Confirm again: stored once.
    browser.evaluate("document.body.removeAttribute('data-import'); document.getElementById('import-confirm').click(); true");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'stored'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('import-message').dataset.duplicates"), "3");
    EXPECT_EQ(status_changes(), 4);
  }
  hub.wait_for_delivery();
  for (const char* png : {"import-bad-row", "import-preview", "import-confirmed", "import-delivery-waiting", "import-delivered"})
    EXPECT_GT(fs::file_size(artefacts + "/" + png + ".png"), 5000u) << png;
  hub.stop();
  fs::remove_all(dir);
}

// The bytes of a committed fixture file (tests/integration/fixtures/), at most `limit` of them.
std::string fixture(const std::string& name, std::size_t limit = std::string::npos) {
  std::ifstream in(std::string(HUB_TEST_FIXTURES) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return bytes.substr(0, limit);
}

// Chooses an Excel workbook in the import form and previews it.
void choose_bytes_and_preview(CdpBrowser& browser, const std::string& name, const std::string& bytes) {
  choose_file_and_preview(browser, name, bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
}

// A clerk uploads an Excel workbook (.xlsx, made by openpyxl: tests/integration/fixtures/
// make_xlsx_fixtures.py) with Chinese headers, a date column and texts holding a comma, quotes
// and a line break. The page reads its first worksheet with the vendored read-excel-file and
// sends it as CSV: the preview names the bad row by its line; the fixed workbook is confirmed and
// stored with its dates and texts intact. A truncated workbook is refused in the page, Chinese
// first with the English beside, and nothing is sent or stored; so is one whose first worksheet
// is empty, and one whose formula cells have no saved value or an error value (naming the cells).
// Formulas with the values Excel saves are sent with those values.
TEST(WebConsoleBrowser, AClerkImportsAnXlsxWorkbookAndATruncatedOneIsRefused) {
  const std::string exe = chromium();
  ASSERT_FALSE(exe.empty()) << "Chromium is not installed: run scripts/install-deps.sh (it installs Debian's chromium)";
  const std::string dir = hub::test::make_temp_dir("hub-web-xlsx-browser-");
  hub::test::HubProcess hub(https_with_login(dir, {"police"}));
  ASSERT_EQ(add_user(hub, "li.na --role clerk"), "");
  hub.start();
  for (const json& event : {hub::test::household_event("V01-00001", "V01"), hub::test::household_event("V01-00002", "V01"),
                            hub::test::household_event("V01-00003", "V01")})
    ASSERT_TRUE(hub.ingest(event).value("ok", false));
  hub.wait_for_delivery();
  const std::string artefacts = HUB_BROWSER_ARTEFACTS;
  fs::create_directories(artefacts);
  const auto status_changes = [&] { return status_changes_in(hub); };
  {
    CdpBrowser browser(exe, dir + "/profile", {"--ignore-certificate-errors"});
    ASSERT_NO_FATAL_FAILURE(open_import_page(browser, hub, "li.na"));
    EXPECT_NE(browser.evaluate("document.getElementById('import-file').accept").get<std::string>().find(".xlsx"),
              std::string::npos);

    // A truncated workbook: refused in the page, nothing sent (no preview request) or stored.
    browser.evaluate("window.__sent = 0; { const f = window.fetch; window.fetch = (u, o) => {"
                     " if (String(u).startsWith('/api/import/')) { window.__sent++; window.__body = new TextDecoder().decode(o.body); }"
                     " return f(u, o); }; } true");
    const std::string whole = fixture("2020q4.xlsx");
    choose_bytes_and_preview(browser, "2020年第4季度评议.xlsx", whole.substr(0, whole.size() / 2));
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'refused'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('import-error').dataset.code"), "xlsx_unreadable");
    const std::string refused = browser.evaluate("document.getElementById('import-error').textContent");
    const auto zh = refused.find("无法读取这个 Excel 工作簿");
    const auto en = refused.find("the Excel workbook cannot be read");
    EXPECT_NE(zh, std::string::npos) << refused;
    EXPECT_NE(en, std::string::npos) << refused;
    EXPECT_LT(zh, en) << "Chinese first: " << refused;
    EXPECT_EQ(browser.evaluate("window.__sent"), 0) << "a truncated workbook is not sent";
    EXPECT_EQ(browser.evaluate("document.getElementById('import-confirm') === null"), true);
    browser.screenshot(artefacts + "/import-xlsx-truncated.png");
    EXPECT_EQ(status_changes(), 0);

    // A workbook whose first worksheet is empty: refused in the page, naming the sheet; nothing sent.
    choose_bytes_and_preview(browser, "2020年第4季度评议.xlsx", fixture("empty-first-sheet.xlsx"));
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'refused'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('import-error').dataset.code"), "xlsx_empty");
    const std::string empty = browser.evaluate("document.getElementById('import-error').textContent");
    EXPECT_NE(empty.find("第一个工作表「空白」是空的"), std::string::npos) << empty;
    EXPECT_NE(empty.find("is empty; nothing was sent"), std::string::npos) << empty;
    EXPECT_EQ(browser.evaluate("window.__sent"), 0);

    // Formula cells (tests/integration/fixtures/make_xlsx_fixtures.py): a formula without a saved
    // value and one whose value is an error would be read as empty cells; the workbook is refused
    // in the page naming both cells, and nothing is sent.
    choose_bytes_and_preview(browser, "2020年第4季度评议.xlsx", fixture("formula-unsaved.xlsx"));
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'refused'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('import-error').dataset.code"), "xlsx_formula");
    const std::string formulas = browser.evaluate("document.getElementById('import-error').textContent");
    EXPECT_NE(formulas.find("中有 2 个单元格没有可用的值：B3（无值）、F4（#N/A）"), std::string::npos) << formulas;
    EXPECT_NE(formulas.find("2 cells of worksheet \"2020年第4季度\" have no usable value: B3 (no value), F4 (#N/A)"),
              std::string::npos)
        << formulas;
    EXPECT_EQ(browser.evaluate("window.__sent"), 0);
    browser.screenshot(artefacts + "/import-xlsx-formula.png");
    // The same formulas with the values Excel saves beside them: those values are sent.
    choose_bytes_and_preview(browser, "2020年第4季度评议.xlsx", fixture("formula-saved.xlsx"));
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'previewed'")) << browser.html();
    EXPECT_EQ(browser.evaluate("window.__sent"), 1);
    const std::string sent = browser.evaluate("window.__body");
    EXPECT_NE(sent.find("V01-00002,不诚信户,2020年第4季度"), std::string::npos) << sent;
    EXPECT_NE(sent.find("V01-00003,违约户,2020年第4季度,,帮扶对象,村评议会议纪要第7号，附件二"), std::string::npos) << sent;
    EXPECT_EQ(status_changes(), 0);

    // A workbook with one bad row: read in the page, sent as CSV, the bad row named by its line.
    choose_bytes_and_preview(browser, "2020年第4季度评议.xlsx", fixture("2020q4-bad-row.xlsx"));
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'invalid'")) << browser.html();
    EXPECT_EQ(browser.evaluate("window.__sent"), 2);
    EXPECT_EQ(browser.evaluate("document.getElementById('import-xlsx').dataset.sheet"), "2020年第4季度");
    EXPECT_EQ(browser.evaluate("document.getElementById('import-xlsx').dataset.rows"), "3");
    EXPECT_EQ(browser.evaluate("document.querySelectorAll('#import-issues tr[data-line]').length"), 1);
    const std::string bad_row = browser.evaluate("document.querySelector('#import-issues tr[data-line=\"3\"]').textContent");
    EXPECT_NE(bad_row.find("第 3 行"), std::string::npos) << bad_row;
    EXPECT_NE(bad_row.find("评议结果 (status)"), std::string::npos) << bad_row;
    EXPECT_NE(bad_row.find("评议结果无效 / invalid_status"), std::string::npos) << bad_row;
    EXPECT_EQ(browser.evaluate("document.getElementById('import-confirm') === null"), true);
    browser.screenshot(artefacts + "/import-xlsx-bad-row.png");
    EXPECT_EQ(status_changes(), 0);

    // The fixed workbook: previewed, confirmed, stored with its dates and texts as written.
    choose_bytes_and_preview(browser, "2020年第4季度评议.xlsx", fixture("2020q4.xlsx"));
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'previewed'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('import-summary').dataset.rows"), "3");
    EXPECT_EQ(status_changes(), 0);
    browser.evaluate("document.getElementById('import-confirm').click(); true");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.import === 'stored'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('import-message').dataset.stored"), "3");
    EXPECT_EQ(hub.query_rows("events.db", "SELECT household_id, status, quarter, effective_date, designations,"
                                          " json_extract(body, '$.basis') FROM event WHERE type = 'status_change'"
                                          " ORDER BY household_id"),
              (std::vector<std::vector<std::string>>{
                  {"V01-00001", "credit", "2020Q4", "2021-01-01", "[]", "村评议会议纪要第7号, 附件一"},
                  {"V01-00002", "non_credit", "2020Q4", "2021-01-01", "[]", "村评议会议纪要第7号 \"复议\""},
                  {"V01-00003", "breach", "2020Q4", "2021-01-15", "[\"assistance\"]", "村评议会议纪要第7号\n第二页"}}));
  }
  for (const char* png : {"import-xlsx-truncated", "import-xlsx-formula", "import-xlsx-bad-row"})
    EXPECT_GT(fs::file_size(artefacts + "/" + png + ".png"), 5000u) << png;
  hub.stop();
  fs::remove_all(dir);
}

// The PDF's pages: its page objects ("/Type /Page", not the page tree's "/Type /Pages").
int pdf_pages(const std::string& pdf) {
  const std::regex page(R"(/Type\s*/Page(?![A-Za-z]))");
  return static_cast<int>(std::distance(std::sregex_iterator(pdf.begin(), pdf.end(), page), std::sregex_iterator()));
}

// The notice board (公示) in a real browser: the office proposes a quarter's evaluations with
// `hubctl notice propose FILE`; a clerk limited to V01 opens the notice page — the list of
// notices (V01's only), then V01's notice list as the village posts it: the Chinese title, the
// notice period, each household 公示中, where to object — and prints it: print media hides the
// console and the English, and the PDF Chromium prints is one A4 page. Another village's notice,
// bad parameters and a department user are refused with their codes. The screenshot is the one
// docs/web-console.md shows (notice-list.png).
TEST(WebConsoleBrowser, AClerkOpensAVillagesNoticeListAndPrintsItOnOneA4Page) {
  const std::string exe = chromium();
  ASSERT_FALSE(exe.empty()) << "Chromium is not installed: run scripts/install-deps.sh (it installs Debian's chromium)";
  const std::string dir = hub::test::make_temp_dir("hub-web-notice-browser-");
  hub::test::HubProcess hub(https_with_login(dir, {"police"}));
  for (const char* add : {"li.na --role clerk --village V01", "police1 --role department --department police"})
    ASSERT_EQ(add_user(hub, add), "") << add;
  hub.start();
  const std::vector<std::pair<std::string, std::string>> heads{
      {"V01-00001", "王建国"}, {"V01-00002", "李秀英"}, {"V01-00003", "张伟"}, {"V02-00001", "刘洋"}};
  for (const auto& [id, head] : heads) {
    json registration = hub::test::household_event(id, id.substr(0, 3));
    registration["head"] = head;
    ASSERT_TRUE(hub.ingest(registration).value("ok", false)) << id;
  }
  hub.wait_for_delivery();

  // The office proposes 2026Q4 for both villages: posted, not delivered.
  const std::string file = dir + "/2026q4.csv";
  std::ofstream(file) << "household_id,status,quarter\nV01-00001,credit,2026Q4\nV01-00002,non_credit,2026Q4\n"
                         "V01-00003,breach,2026Q4\nV02-00001,credit,2026Q4\n";
  const auto proposed = hub::test::run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() +
                                               " notice propose " + file + " --json 2>&1");
  ASSERT_EQ(proposed.exit_code, 0) << proposed.output;
  const json reply = json::parse(proposed.output.substr(0, proposed.output.find('\n')), nullptr, false);
  ASSERT_TRUE(reply.is_object() && reply.value("ok", false)) << proposed.output;
  EXPECT_EQ(reply["added"], 4) << proposed.output;
  EXPECT_EQ(status_changes_in(hub), 0) << "a proposal is not an event until it is confirmed";
  const std::string artefacts = HUB_BROWSER_ARTEFACTS;
  fs::create_directories(artefacts);
  const std::string base = hub.http_url();
  {
    CdpBrowser browser(exe, dir + "/profile", {"--ignore-certificate-errors"});
    browser.navigate(base + "#/notices");
    log_in(browser, "li.na", kPassword);
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'notices' && document.getElementById('notices')"))
        << browser.html();
    // The list: V01's notice only (the clerk's village), three households on notice.
    EXPECT_EQ(browser.evaluate("[...document.querySelectorAll('#notices tbody tr')].map((r) => r.dataset.village).join()"),
              "V01");
    EXPECT_EQ(browser.evaluate("document.querySelector('#notices tr[data-village=V01] [data-proposed]').dataset.proposed"), "3");
    EXPECT_EQ(browser.evaluate("document.querySelector('nav [data-page=notices]').hidden"), false);

    // The API refuses what is not the clerk's, and names a bad parameter.
    const auto answer = [&](const std::string& path) {
      return browser.evaluate("fetch(" + json(path).dump() +
                              ").then(async (r) => { const b = await r.json(); return r.status + ' ' + (b.ok ? 'ok' : b.error.code"
                              " + (b.error.field ? ' ' + b.error.field : '')); })")
          .get<std::string>();
    };
    EXPECT_EQ(answer("/api/notices/V02/2026Q4"), "403 forbidden");
    EXPECT_EQ(answer("/api/notices?village=V02"), "403 forbidden");
    EXPECT_EQ(answer("/api/notices?quarter=2026Q9"), "400 invalid_field quarter");
    EXPECT_EQ(answer("/api/notices?page=2"), "400 unknown_field page");
    EXPECT_EQ(answer("/api/notices/东风村/2026Q4"), "400 invalid_field village");  // a name, not the id
    EXPECT_EQ(answer("/api/notices/V01/2026Q5"), "400 invalid_field quarter");
    EXPECT_EQ(answer("/api/notices/V01/2025Q1"), "404 unknown_notice village");
    EXPECT_EQ(answer("/api/notices/V01/2026Q4"), "200 ok");

    // V01's notice list, as the village posts it.
    browser.evaluate("document.querySelector('#notices tr[data-village=V01] a.notice-open').click(); true");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'notices' && document.getElementById('notice-sheet')"))
        << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('notice-title').textContent"), "V01 2026年第4季度 诚信评议结果公示");
    EXPECT_EQ(browser.evaluate("[...document.querySelectorAll('#notice-households tbody tr')].map((r) => "
                               "r.dataset.household + ':' + r.dataset.standing).join()"),
              "V01-00001:proposed,V01-00002:proposed,V01-00003:proposed");
    const std::string row = browser.evaluate("document.querySelector('#notice-households tr[data-household=\"V01-00002\"]').textContent");
    for (const char* shown : {"李秀英", "不诚信户", "公示中", "on notice"}) EXPECT_NE(row.find(shown), std::string::npos) << shown << ": " << row;
    const std::string period = browser.evaluate("document.getElementById('notice-period').textContent");
    EXPECT_EQ(period.rfind("公示期：", 0), 0u) << period;
    EXPECT_NE(period.find(" 至 "), std::string::npos) << period;
    EXPECT_EQ(browser.evaluate("document.getElementById('notice-period').dataset.endsOn"), reply["notices"][0]["ends_on"]);
    EXPECT_NE(browser.evaluate("document.getElementById('notice-complain').textContent").get<std::string>().find("镇、村投诉举报箱"),
              std::string::npos);
    EXPECT_EQ(browser.evaluate("document.getElementById('notice-print').textContent"), "打印 / Print");
    browser.screenshot(artefacts + "/notice-list.png");
    // The button prints the page (the browser's own print dialog, stubbed here).
    EXPECT_EQ(browser.evaluate("{ const print = window.print; let printed = false; window.print = () => { printed = true; };"
                               " document.getElementById('notice-print').click(); window.print = print; printed }"),
              true);

    // As printed: the notice alone, in Chinese — no navigation, controls, footer or English.
    browser.emulate_media("print");
    EXPECT_EQ(browser.evaluate("['header', 'footer', '.notice-controls'].map((s) => getComputedStyle(document.querySelector(s)).display)"
                               ".every((d) => d === 'none')"),
              true);
    EXPECT_EQ(browser.evaluate("[...document.querySelectorAll('#notice-sheet .en')].every((e) => getComputedStyle(e).display === 'none')"),
              true);
    EXPECT_EQ(browser.evaluate("getComputedStyle(document.getElementById('notice-sheet')).display"), "block");
    browser.emulate_media("");
    const std::string pdf = browser.print_to_pdf();
    std::ofstream(artefacts + "/notice-list.pdf", std::ios::binary) << pdf;
    EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
    EXPECT_GT(pdf.size(), 20000u) << "the notice's text and its CJK font";
    EXPECT_EQ(pdf_pages(pdf), 1) << "one page";
    // A4 is 595.3 × 841.9 points; Chromium rounds the page to whole CSS pixels.
    const std::regex a4(R"(/MediaBox\s*\[\s*0\s+0\s+59[45](\.\d+)?\s+84[12](\.\d+)?\s*\])");
    EXPECT_TRUE(std::regex_search(pdf, a4)) << "not an A4 page: " << pdf.substr(0, 2000);

    // In English: the console's words are, the notice stays the village's Chinese one, English beside.
    browser.navigate(base + "?lang=en#/notices?village=V01&quarter=2026Q4");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'notices' && document.getElementById('notice-sheet')"))
        << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('notice-back').textContent"), "← All notices");
    EXPECT_EQ(browser.evaluate("document.getElementById('notice-title').textContent"), "V01 2026年第4季度 诚信评议结果公示");
    EXPECT_NE(browser.evaluate("document.getElementById('notice-status').textContent").get<std::string>().find(
                  "hubctl notice confirm --village V01 --quarter 2026Q4"),
              std::string::npos);

    // The clerk confirms V01's notice here: early, so a reason is asked for; not another village's.
    const auto post = [&](const std::string& path, const std::string& body) {
      return browser.evaluate("post(" + json(path).dump() + ", " + body +
                              ").then((b) => b.ok ? 'ok' : b.error.code + (b.error.field ? ' ' + b.error.field : ''))")
          .get<std::string>();
    };
    EXPECT_EQ(post("/api/notices/V02/2026Q4/confirm", "{reason: 'x'}"), "forbidden");
    EXPECT_EQ(post("/api/notices/V01/2026Q4/confirm", "{reason: 'x', by: 'someone'}"), "unknown_field by");
    browser.evaluate("document.getElementById('notice-confirm').click(); true");
    ASSERT_TRUE(browser.wait_for("document.getElementById('notice-confirm-result').dataset.code"));
    EXPECT_EQ(browser.evaluate("document.getElementById('notice-confirm-result').dataset.code"), "notice_period_running");
    EXPECT_EQ(status_changes_in(hub), 0) << "refused: nothing published";
    browser.evaluate("document.getElementById('notice-reason').value = '村民代表会议审议无异议';"
                     "document.getElementById('notice-confirm').click(); true");
    ASSERT_TRUE(browser.wait_for("document.getElementById('notice-confirm-result').dataset.code === 'ok'")) << browser.html();
    EXPECT_EQ(browser.evaluate("document.getElementById('notice-confirm-result').dataset.confirmed"), "3");
    // Re-rendered: confirmed, and no confirm button once nothing is left on notice.
    ASSERT_TRUE(browser.wait_for("!document.getElementById('notice-confirm') && document.getElementById('notice-households')"))
        << browser.html();
    EXPECT_EQ(browser.evaluate("[...document.querySelectorAll('#notice-households tbody tr')].every((r) => "
                               "['final', 'in_effect'].includes(r.dataset.standing))"),
              true)
        << browser.html();
    EXPECT_EQ(status_changes_in(hub), 3);

    // A department user: no notices, neither in the navigation nor from the API.
    browser.evaluate("document.getElementById('logout').click(); true");
    ASSERT_TRUE(browser.wait_for("document.body.dataset.ready === 'login'"));
    log_in(browser, "police1", kPassword);
    ASSERT_TRUE(browser.wait_for("document.getElementById('who').dataset.user === 'police1' && document.body.dataset.ready"))
        << browser.html();
    EXPECT_EQ(browser.evaluate("document.querySelector('nav [data-page=notices]').hidden"), true);
    EXPECT_EQ(answer("/api/notices"), "403 forbidden");
    EXPECT_EQ(answer("/api/notices/V01/2026Q4"), "403 forbidden");
  }
  EXPECT_GT(fs::file_size(artefacts + "/notice-list.png"), 5000u);
  // The confirmation is audited with the clerk's name, as from hubctl.
  hub.stop();
  EXPECT_EQ(hub.query_int("audit.db", "SELECT COUNT(*) FROM audit WHERE kind = 'admin_notice_confirm' AND actor LIKE "
                                      "'%li.na%' AND subject = 'V01 2026Q4'"),
            2)
      << "the early one refused, the one with a reason";
  hub.stop();
  fs::remove_all(dir);
}

}  // namespace
