// The dashboard in a real browser: headless Chromium loads each page from a real hubd with a
// generated town, runs its scripts (--virtual-time-budget lets the page's API calls finish),
// and the test reads the resulting DOM (--dump-dom). A screenshot of each page is saved under
// the build directory (test-artefacts/browser/) for people to look at.
//
// Skipped only when no Chromium is installed; scripts/install-deps.sh installs it, so CI runs it.
#include <unistd.h>

#include <filesystem>
#include <regex>

#include <gtest/gtest.h>

#include "integration/ruling_scenario.h"
#include "integration/test_certificate.h"
#include "integration/town_hub.h"

namespace {

namespace fs = std::filesystem;
using hub::test::TownHub;
using nlohmann::json;

std::string chromium() {
  if (const char* configured = std::getenv("HUB_CHROMIUM")) return configured;
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(candidate, X_OK) == 0) return candidate;
  return {};
}

class Browser {
 public:
  // `flags`: more of Chromium's command line, e.g. to accept a test certificate.
  Browser(std::string exe, std::string scratch, std::string flags = "")
      : exe_(std::move(exe)), scratch_(std::move(scratch)), flags_(std::move(flags)) {}

  // The DOM after the page's scripts ran.
  std::string dom(const std::string& url) { return run("--dump-dom '" + url + "'"); }

  void screenshot(const std::string& url, const std::string& png) {
    fs::remove(png);
    run("--window-size=1280,1600 --screenshot='" + png + "' '" + url + "'");
  }

 private:
  std::string run(const std::string& what) {
    // A fresh profile each time: no language or history carried over from another page.
    const std::string profile = scratch_ + "/profile-" + std::to_string(runs_++);
    const auto r = hub::test::run_command("cd '" + scratch_ + "' && timeout 180 " + exe_ +
                                          " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
                                          " --no-first-run --user-data-dir='" + profile +
                                          "' --virtual-time-budget=15000 " + flags_ + " " + what + " 2>/dev/null");
    EXPECT_EQ(r.exit_code, 0) << what << "\n" << r.output;
    return r.output;
  }

  std::string exe_;
  std::string scratch_;
  std::string flags_;
  int runs_ = 0;
};

TEST(DashboardBrowser, PagesShowTheTownInChineseAndEnglish) {
  const std::string exe = chromium();
  ASSERT_FALSE(exe.empty()) << "Chromium is not installed: run scripts/install-deps.sh (it installs Debian's chromium)";
  TownHub town_hub(300);
  auto& hub = town_hub.hub();
  const std::string base = hub.http_url();
  const std::string artefacts = HUB_BROWSER_ARTEFACTS;
  fs::create_directories(artefacts);
  Browser browser(exe, hub.dir());

  // Overview: every department, with the delivered count the hub reports.
  const json status = town_hub.get_json("/api/status");
  std::string dom = browser.dom(base + "#/");
  ASSERT_NE(dom.find("data-ready=\"overview\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("送达概况"), std::string::npos);
  for (const auto& d : status["departments"]) {
    const std::string row = "data-department=\"" + d["id"].get<std::string>() + "\" data-delivered=\"" +
                            std::to_string(d["delivered"].get<std::int64_t>()) + "\" data-lag=\"0\"";
    EXPECT_NE(dom.find(row), std::string::npos) << row;
    EXPECT_NE(dom.find(d["name_zh"].get<std::string>()), std::string::npos) << d["name_zh"];
    EXPECT_GT(d["delivered"].get<std::int64_t>(), 0);
  }
  EXPECT_EQ(dom.find("id=\"error\""), std::string::npos) << dom;

  // Village report: the town's figures for the latest quarter.
  const json report = town_hub.get_json("/api/report?quarter=2020Q4");
  dom = browser.dom(base + "#/villages");
  ASSERT_NE(dom.find("data-ready=\"villages\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-households=\"" + std::to_string(report["households"].get<std::int64_t>()) + "\""),
            std::string::npos);
  EXPECT_NE(dom.find("data-non_credit=\"" + std::to_string(report["statuses"]["non_credit"].get<std::int64_t>()) + "\""),
            std::string::npos);
  EXPECT_NE(dom.find("data-village=\"V01\""), std::string::npos);

  // Household page: a non_credit household shows its deferred policies.
  const std::string household = hub.query_rows("events.db",
                                               "SELECT household_id FROM household WHERE status = 'non_credit' "
                                               "ORDER BY household_id LIMIT 1")
                                    .at(0)
                                    .at(0);
  const std::string household_url = base + "#/household/" + household;
  dom = browser.dom(household_url);
  ASSERT_NE(dom.find("data-ready=\"household\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-policy=\"police.hukou_priority\" data-action=\"defer\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("暂缓兑现"), std::string::npos);
  EXPECT_NE(dom.find("按户查询"), std::string::npos);

  // The language switch: the same page in English.
  const std::string english_url = base + "?lang=en#/household/" + household;
  const std::string english = browser.dom(english_url);
  ASSERT_NE(english.find("data-ready=\"household\""), std::string::npos) << english;
  EXPECT_NE(english.find("Household look-up"), std::string::npos);
  EXPECT_NE(english.find(">deferred<"), std::string::npos);
  EXPECT_EQ(english.find("按户查询"), std::string::npos) << "a navigation label stayed Chinese";
  EXPECT_NE(english.find("lang=\"en-GB\""), std::string::npos);

  // Reconciliation of a clean town: nothing to list.
  dom = browser.dom(base + "#/reconcile");
  ASSERT_NE(dom.find("data-ready=\"reconcile\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-count=\"0\""), std::string::npos);

  // Finding households: the breaching households of the town, as the API finds them, each
  // row linking to its household page.
  const json breaching = town_hub.get_json("/api/households?status=breach&limit=50");
  ASSERT_FALSE(breaching["households"].empty());
  const std::string search_url = base + "#/households?status=breach";
  dom = browser.dom(search_url);
  ASSERT_NE(dom.find("data-ready=\"households\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-total=\"" + std::to_string(breaching["total"].get<int>()) + "\""), std::string::npos) << dom;
  for (const auto& h : breaching["households"]) {
    const std::string id = h["household_id"];
    EXPECT_NE(dom.find("data-household=\"" + id + "\""), std::string::npos) << id;
    EXPECT_NE(dom.find("href=\"#/household/" + id + "\""), std::string::npos) << id;
  }
  EXPECT_NE(dom.find("违约户"), std::string::npos);
  EXPECT_EQ(dom.find("id=\"error\""), std::string::npos) << dom;

  // A screenshot of each page, kept as a test artefact.
  const std::vector<std::pair<std::string, std::string>> pages{
      {"overview", base + "#/"},          {"villages", base + "#/villages"}, {"household", household_url},
      {"household-en", english_url},      {"reconcile", base + "#/reconcile"}, {"parked", base + "#/parked"},
      {"households", search_url}};
  for (const auto& [name, url] : pages) {
    const std::string png = artefacts + "/" + name + ".png";
    browser.screenshot(url, png);
    ASSERT_TRUE(fs::exists(png)) << png;
    EXPECT_GT(fs::file_size(png), 10000u) << png << " looks empty";
  }
}

// A household whose past quarter was put right by an upheld complaint (issue 17): its page says
// so in the history, keeps the policies' state of the evaluation now, and lists the departments'
// remedies for that quarter — finance's 60 yuan paid — in Chinese and in English.
TEST(DashboardBrowser, TheHouseholdPageListsTheRemediesOfAPastQuartersRuling) {
  const std::string exe = chromium();
  ASSERT_FALSE(exe.empty()) << "Chromium is not installed: run scripts/install-deps.sh (it installs Debian's chromium)";
  hub::test::HubOptions options;
  options.departments = {"finance", "police"};
  hub::test::HubProcess hub(options);
  hub.start();
  hub::test::publish_the_ruled_households_quarters(hub);
  const std::string id = hub::test::lodge_the_complaint(hub);
  const json ruled = hub::test::hubctl_json_of(
      hub, "complaints rule " + id + " --outcome upheld --status credit --ruling 属实 --ruled-on " +
               hub::test::hubctl_json_of(hub, "complaints list")["today"].get<std::string>());
  ASSERT_TRUE(ruled.value("ok", false)) << ruled.dump();
  hub.wait_for_delivery();

  Browser browser(exe, hub.dir());
  const std::string url = hub.http_url() + "#/household/" + hub::test::kRuledHousehold;
  const std::string dom = browser.dom(url);
  ASSERT_NE(dom.find("data-ready=\"household\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-seq=\"7\" data-past-quarter=\"true\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("往季更正，投诉 " + id), std::string::npos) << dom;
  EXPECT_NE(dom.find("依投诉裁定的往季补救"), std::string::npos) << dom;
  EXPECT_NE(dom.find("data-department=\"finance\" data-policy=\"finance.only_child_reward\" data-action=\"release\" "
                     "data-quarter=\"2020Q2\""),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("¥60.00"), std::string::npos) << dom;
  // The police's state is still that of 2021Q1 (applied), its remedy for 2020Q2 listed apart.
  EXPECT_NE(dom.find("data-department=\"police\" data-policy=\"police.hukou_priority\" data-action=\"apply\""),
            std::string::npos)
      << dom;
  EXPECT_NE(dom.find("data-department=\"police\" data-policy=\"police.hukou_priority\" data-action=\"restore\" "
                     "data-quarter=\"2020Q2\""),
            std::string::npos)
      << dom;
  const std::string english = browser.dom(hub.http_url() + "?lang=en#/household/" + hub::test::kRuledHousehold);
  ASSERT_NE(english.find("data-ready=\"household\""), std::string::npos) << english;
  EXPECT_NE(english.find("past quarter corrected, complaint " + id), std::string::npos) << english;
  EXPECT_NE(english.find("Remedies for past quarters after complaints"), std::string::npos) << english;
  fs::create_directories(HUB_BROWSER_ARTEFACTS);
  browser.screenshot(url, std::string(HUB_BROWSER_ARTEFACTS) + "/household-remedies.png");
}

// The dashboard over HTTPS (issue 19): the overview page from a hubd serving the certificate of
// a test CA (test_certificate.h). A fresh Chromium profile cannot be taught to trust that CA
// without NSS's tools, so this browser is told to accept any certificate; that the certificate
// is checked is Https.* (a client trusting only the test CA).
TEST(DashboardBrowser, OverviewOverHttps) {
  const std::string exe = chromium();
  ASSERT_FALSE(exe.empty()) << "Chromium is not installed: run scripts/install-deps.sh (it installs Debian's chromium)";
  const std::string certificate_dir = hub::test::make_temp_dir("hub-browser-https-");
  const auto certificate = hub::test::make_test_certificate(certificate_dir);
  hub::test::HubOptions options;
  options.http = {{"address", "127.0.0.1:0"}, {"tls_cert", certificate.cert}, {"tls_key", certificate.key}};
  hub::test::HubProcess tls_hub(options);
  tls_hub.start();
  const std::string base = tls_hub.http_url();
  ASSERT_EQ(base.rfind("https://", 0), 0u) << base;
  Browser browser(exe, tls_hub.dir(), "--ignore-certificate-errors");
  const std::string dom = browser.dom(base + "#/");
  ASSERT_NE(dom.find("data-ready=\"overview\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("送达概况"), std::string::npos);
  EXPECT_NE(dom.find("data-department=\"police\""), std::string::npos) << dom;
  EXPECT_EQ(dom.find("id=\"error\""), std::string::npos) << dom;
  fs::create_directories(HUB_BROWSER_ARTEFACTS);
  browser.screenshot(base + "#/", std::string(HUB_BROWSER_ARTEFACTS) + "/overview-https.png");
  fs::remove_all(certificate_dir);
}

}  // namespace
