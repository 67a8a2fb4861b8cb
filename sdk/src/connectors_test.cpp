// Tests of the connectors against real files and a real HTTP server (cpp-httplib) standing in
// for a department's system.
#include "hub/sdk/connectors.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "testing/temp_dir.h"

namespace hub::sdk {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Event event(std::uint64_t seq, const std::string& household = "V03-00417") {
  Event e;
  e.sequence = seq;
  e.event_id = "ev-2020Q3-" + household;
  e.idempotency_key = "fp_association:" + std::to_string(seq);
  e.household_id = household;
  e.village = "V03";
  e.previous_status = HouseholdStatus::kCredit;
  e.new_status = HouseholdStatus::kNonCredit;
  e.quarter = "2020Q3";
  return e;
}

std::vector<PolicyAction> actions(const std::string& household = "V03-00417") {
  return {{"fp_association.assistance_programme", household, ActionKind::kDefer, std::nullopt, "不诚信户，暂缓 / deferred"},
          {"fp_association.assistance_grant", household, ActionKind::kDefer, 50000, "¥500.00"}};
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::unique_ptr<Connector> spool(const fs::path& dir) {
  ConnectorConfig config;
  config.type = ConnectorConfig::Type::kSpool;
  config.spool.dir = dir.string();
  std::string error;
  auto connector = make_connector(config, &error);
  EXPECT_TRUE(connector) << error;
  return connector;
}

TEST(SpoolConnector, WritesOneJsonlLinePerActionWithTheIdempotencyKey) {
  hub::testing::TempDir dir;
  auto connector = spool(dir.path() / "drop");
  EXPECT_TRUE(connector->sync().ok);  // nothing written yet: nothing to sync
  const HandoffResult result = connector->deliver(event(42), actions());
  ASSERT_TRUE(result.ok) << result.detail;
  EXPECT_EQ(result.detail, "fp_association-00000000000000000042.jsonl");
  EXPECT_TRUE(connector->sync().ok);
  EXPECT_EQ(names_in(dir.path() / "drop"), std::vector<std::string>{"fp_association-00000000000000000042.jsonl"});

  std::istringstream lines(read(dir.path() / "drop" / result.detail));
  std::vector<json> parsed;
  for (std::string line; std::getline(lines, line);) parsed.push_back(json::parse(line));
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["idempotency_key"], "fp_association:42");
  EXPECT_EQ(parsed[0]["department"], "fp_association");
  EXPECT_EQ(parsed[0]["seq"], 42);
  EXPECT_EQ(parsed[0]["household_id"], "V03-00417");
  EXPECT_EQ(parsed[0]["quarter"], "2020Q3");
  EXPECT_EQ(parsed[0]["policy_id"], "fp_association.assistance_programme");
  EXPECT_EQ(parsed[0]["action"], "defer");
  EXPECT_TRUE(parsed[0]["amount_fen"].is_null());
  EXPECT_EQ(parsed[0]["reason"], "不诚信户，暂缓 / deferred");
  EXPECT_EQ(parsed[0]["action_index"], 0);
  EXPECT_EQ(parsed[1]["action_index"], 1);
  EXPECT_EQ(parsed[1]["action_count"], 2);
  EXPECT_EQ(parsed[1]["amount_fen"], 50000);
}

TEST(SpoolConnector, RedeliveryOfTheSameEventWritesNoSecondFile) {
  hub::testing::TempDir dir;
  auto connector = spool(dir.path());
  ASSERT_TRUE(connector->deliver(event(7), actions()).ok);
  const std::string first = read(dir.path() / "fp_association-00000000000000000007.jsonl");
  // After a hub crash the plugin may decide again (even differently worded); the department
  // already has the event, so nothing changes.
  auto again = actions();
  again[0].reason = "changed";
  const HandoffResult result = spool(dir.path())->deliver(event(7), again);
  ASSERT_TRUE(result.ok) << result.detail;
  EXPECT_NE(result.detail.find("already in the drop folder"), std::string::npos) << result.detail;
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"fp_association-00000000000000000007.jsonl"});
  EXPECT_EQ(read(dir.path() / "fp_association-00000000000000000007.jsonl"), first);
}

TEST(SpoolConnector, FileNamesSortInDeliveryOrderAndNoTemporaryFileRemains) {
  hub::testing::TempDir dir;
  auto connector = spool(dir.path());
  for (std::uint64_t seq : {9u, 10u, 100u, 1000000u}) ASSERT_TRUE(connector->deliver(event(seq), actions()).ok);
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"fp_association-00000000000000000009.jsonl",
                                                             "fp_association-00000000000000000010.jsonl",
                                                             "fp_association-00000000000000000100.jsonl",
                                                             "fp_association-00000000000001000000.jsonl"}));
}

TEST(SpoolConnector, StaleTemporaryFilesFromACrashAreRemovedAndNeverCountAsDelivered) {
  hub::testing::TempDir dir;
  dir.write(".fp_association-00000000000000000005.jsonl.tmp", "{\"half\":");
  auto connector = spool(dir.path());
  EXPECT_TRUE(names_in(dir.path()).empty());
  ASSERT_TRUE(connector->deliver(event(5), actions()).ok);
  EXPECT_EQ(read(dir.path() / "fp_association-00000000000000000005.jsonl").find("half"), std::string::npos);
}

TEST(SpoolConnector, SyncFailsWhenTheFolderIsGone) {
  hub::testing::TempDir dir;
  auto connector = spool(dir.path() / "drop");
  ASSERT_TRUE(connector->deliver(event(3), actions()).ok);
  fs::remove_all(dir.path() / "drop");
  const HandoffResult synced = connector->sync();
  EXPECT_FALSE(synced.ok);
  EXPECT_NE(synced.detail.find("cannot open"), std::string::npos) << synced.detail;
}

TEST(SpoolConnector, UnwritableFolderFailsWithTheReason) {
  hub::testing::TempDir dir;
  auto connector = spool(dir.path() / "drop");
  fs::remove_all(dir.path() / "drop");
  dir.write("drop", "a file where the folder was");
  const HandoffResult result = connector->deliver(event(1), actions());
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.detail.find("cannot create"), std::string::npos) << result.detail;

  ConnectorConfig config;
  config.type = ConnectorConfig::Type::kSpool;
  config.spool.dir = (dir.path() / "drop" / "sub").string();
  std::string error;
  EXPECT_EQ(make_connector(config, &error), nullptr);
  EXPECT_NE(error.find("cannot create the drop folder"), std::string::npos) << error;
}

// A department's system on a real local HTTP port: answers each POST with the next status
// of `statuses` (the last one repeats) and records what it received.
class DepartmentServer {
 public:
  explicit DepartmentServer(std::vector<int> statuses, std::chrono::milliseconds delay = {})
      : statuses_(std::move(statuses)) {
    server_.Post("/hub/actions", [this, delay](const httplib::Request& request, httplib::Response& response) {
      std::this_thread::sleep_for(delay);
      std::lock_guard lock(mutex_);
      keys_.push_back(request.get_header_value("Idempotency-Key"));
      bodies_.push_back(request.body);
      content_types_.push_back(request.get_header_value("Content-Type"));
      tokens_.push_back(request.get_header_value("X-Department-Token"));
      const int status = statuses_[std::min(keys_.size() - 1, statuses_.size() - 1)];
      response.status = status;
      response.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~DepartmentServer() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hub/actions"; }
  std::vector<std::string> keys() const { std::lock_guard lock(mutex_); return keys_; }
  std::vector<std::string> bodies() const { std::lock_guard lock(mutex_); return bodies_; }
  std::vector<std::string> content_types() const { std::lock_guard lock(mutex_); return content_types_; }
  std::vector<std::string> tokens() const { std::lock_guard lock(mutex_); return tokens_; }

 private:
  std::vector<int> statuses_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;  // guards the recordings below (written on the server's threads)
  std::vector<std::string> keys_, bodies_, content_types_, tokens_;
};

std::unique_ptr<Connector> webhook(const std::string& url, int attempts = 3, std::int64_t timeout_ms = 2000) {
  ConnectorConfig config;
  config.type = ConnectorConfig::Type::kWebhook;
  config.webhook.url = url;
  config.webhook.attempts = attempts;
  config.webhook.timeout_ms = timeout_ms;
  config.webhook.backoff_initial_ms = 10;
  config.webhook.backoff_max_ms = 40;
  config.webhook.headers = {{"X-Department-Token", "secret-42"}};
  std::string error;
  auto connector = make_connector(config, &error);
  EXPECT_TRUE(connector) << error;
  return connector;
}

TEST(WebhookConnector, PostsTheEventsActionsAsOneBatchWithTheIdempotencyKey) {
  DepartmentServer department({201});
  const HandoffResult result = webhook(department.url())->deliver(event(42), actions());
  ASSERT_TRUE(result.ok) << result.detail;
  EXPECT_EQ(result.detail, "HTTP 201, attempt 1");
  ASSERT_EQ(department.keys(), std::vector<std::string>{"fp_association:42"});
  EXPECT_EQ(department.content_types()[0], "application/json");
  EXPECT_EQ(department.tokens()[0], "secret-42");
  const json body = json::parse(department.bodies()[0]);
  EXPECT_EQ(body["idempotency_key"], "fp_association:42");
  EXPECT_EQ(body["seq"], 42);
  EXPECT_EQ(body["household_id"], "V03-00417");
  ASSERT_EQ(body["actions"].size(), 2u);
  EXPECT_EQ(body["actions"][1]["policy_id"], "fp_association.assistance_grant");
  EXPECT_EQ(body["actions"][1]["action"], "defer");
  EXPECT_EQ(body["actions"][1]["amount_fen"], 50000);
}

TEST(WebhookConnector, ServerErrorIsRetriedWithTheSameKeyUntil2xx) {
  DepartmentServer department({500, 503, 200});
  const HandoffResult result = webhook(department.url())->deliver(event(8), actions());
  ASSERT_TRUE(result.ok) << result.detail;
  EXPECT_EQ(result.detail, "HTTP 200, attempt 3");
  EXPECT_EQ(department.keys(), std::vector<std::string>(3, "fp_association:8"));
  EXPECT_EQ(department.bodies()[0], department.bodies()[2]);
}

TEST(WebhookConnector, NeverSuccessfulFailsAfterTheConfiguredAttempts) {
  DepartmentServer department({500, 404});
  const HandoffResult result = webhook(department.url(), 4)->deliver(event(9), actions());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(department.keys().size(), 4u);
  EXPECT_NE(result.detail.find("failed after 4 attempts, last: HTTP 404"), std::string::npos) << result.detail;
}

TEST(WebhookConnector, TimeoutCountsAsAFailedAttempt) {
  DepartmentServer department({200}, std::chrono::milliseconds(600));
  const auto started = std::chrono::steady_clock::now();
  const HandoffResult result = webhook(department.url(), 2, 150)->deliver(event(10), actions());
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.detail.find("failed after 2 attempts"), std::string::npos) << result.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST(WebhookConnector, NobodyListeningFailsWithTheConnectionError) {
  std::string url;
  {
    DepartmentServer gone({200});
    url = gone.url();
  }
  const HandoffResult result = webhook(url, 2)->deliver(event(11), actions());
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.detail.find("failed after 2 attempts, last: "), std::string::npos) << result.detail;
}

TEST(WebhookConnector, SuccessiveEventsReuseTheConnector) {
  DepartmentServer department({200});
  auto connector = webhook(department.url());
  for (std::uint64_t seq = 1; seq <= 5; ++seq) ASSERT_TRUE(connector->deliver(event(seq), actions()).ok);
  EXPECT_EQ(department.keys(), (std::vector<std::string>{"fp_association:1", "fp_association:2", "fp_association:3",
                                                         "fp_association:4", "fp_association:5"}));
}

TEST(ConnectorConfig, ParsesEachTypeWithDefaults) {
  std::string key, error;
  auto none = parse_connector_config(R"({"type":"none"})", &key, &error);
  ASSERT_TRUE(none) << error;
  EXPECT_EQ(none->type, ConnectorConfig::Type::kNone);
  auto spool_config = parse_connector_config(R"({"type":"spool","dir":"/srv/drop"})", &key, &error);
  ASSERT_TRUE(spool_config) << error;
  EXPECT_EQ(spool_config->spool.dir, "/srv/drop");
  auto hook = parse_connector_config(
      R"({"type":"webhook","url":"https://dept.example:8443/hub?x=1","attempts":5,"headers":{"Authorization":"Bearer t"}})",
      &key, &error);
  ASSERT_TRUE(hook) << error;
  EXPECT_EQ(hook->webhook.attempts, 5);
  EXPECT_EQ(hook->webhook.timeout_ms, 5000);
  EXPECT_EQ(hook->webhook.headers.at("Authorization"), "Bearer t");
  EXPECT_EQ(to_string(hook->type), "webhook");
}

TEST(ConnectorConfig, RejectsBadInputNamingTheKey) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {R"([])", "", "must be an object"},
      {R"({})", "type", "required"},
      {R"({"type":"ftp"})", "type", "unknown connector type 'ftp'"},
      {R"({"type":"spool","dir":3})", "dir", "must be a string"},
      {R"({"type":"spool","folder":"x"})", "folder", "unknown key"},
      {R"({"type":"webhook"})", "url", "required"},
      {R"({"type":"webhook","url":"ftp://x"})", "url", "http:// or https://"},
      {R"({"type":"webhook","url":"http://:80/"})", "url", "host is missing"},
      {R"({"type":"webhook","url":"http://h:99999/"})", "url", "port"},
      {R"({"type":"webhook","url":"http://u@h/"})", "url", "host may contain"},
      {R"({"type":"webhook","url":"http://h/","attempts":0})", "attempts", "from 1 to 20"},
      {R"({"type":"webhook","url":"http://h/","timeout_ms":"5s"})", "timeout_ms", "whole number"},
      {R"({"type":"webhook","url":"http://h/","backoff_initial_ms":500,"backoff_max_ms":100})", "backoff_max_ms",
       "from 500"},
      {R"({"type":"webhook","url":"http://h/","headers":{"Idempotency-Key":"x"}})", "headers.Idempotency-Key",
       "set by the connector"},
      {R"({"type":"webhook","url":"http://h/","headers":{"X-A":"1\r\nX-B: 2"}})", "headers.X-A", "line breaks"},
      {R"({"type":"webhook","url":"http://h/","headers":{"bad name":"1"}})", "headers.bad name", "header name"},
      {"{", "", "not valid JSON"},
  };
  for (const auto& [text, expected_key, expected_message] : cases) {
    SCOPED_TRACE(text);
    std::string key = "unset", error;
    EXPECT_FALSE(parse_connector_config(text, &key, &error));
    EXPECT_EQ(key, expected_key);
    EXPECT_NE(error.find(expected_message), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace hub::sdk
