// Tests of hubd's configuration loader: the embedded defaults load as shipped, every kind of
// mistake stops start-up with a ConfigError naming the exact key, and paths resolve against
// the configuration's directory (data_dir, catalogues) or hubd's own directory (plugins).
#include "config/hub_config.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "config/embedded_config.h"

namespace hub {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using hub::testing::TempDir;

const ConfigSources kSources{"/srv/hub/etc", "/opt/hub/bin"};

std::string catalogue(const std::string& department) {
  return json{{"department", department},
              {"name_zh", "农业服务中心"},
              {"name_en", "Agricultural services"},
              {"policies",
               {{{"id", department + ".training_priority"},
                 {"name_zh", "培训优先"},
                 {"name_en", "Training priority"},
                 {"money", false},
                 {"scope", "all"}}}}}
      .dump();
}

json minimal() { return json{{"plugins", {{{"id", "police"}}}}}; }

HubConfig load_ok(const std::string& text, const ConfigSources& sources = kSources) {
  auto r = load_hub_config(text, sources);
  if (auto* e = std::get_if<ConfigError>(&r)) {
    ADD_FAILURE() << "unexpected ConfigError: " << e->to_string();
    return {};
  }
  return std::get<HubConfig>(r);
}

ConfigError load_error(const std::string& text, const ConfigSources& sources = kSources) {
  auto r = load_hub_config(text, sources);
  if (std::holds_alternative<HubConfig>(r)) {
    ADD_FAILURE() << "expected a ConfigError for " << text;
    return {};
  }
  return std::get<ConfigError>(r);
}

// Expects an error on exactly `key` whose message contains `fragment`.
void expect_error(const json& config, const std::string& key, const std::string& fragment,
                  const ConfigSources& sources = kSources) {
  SCOPED_TRACE(config.dump());
  const ConfigError e = load_error(config.dump(), sources);
  EXPECT_EQ(e.key, key) << e.to_string();
  EXPECT_NE(e.message.find(fragment), std::string::npos) << "message: " << e.message;
  EXPECT_EQ(e.to_string(), key.empty() ? e.message : key + ": " + e.message);
}

// --- the shipped configuration ------------------------------------------------------------

TEST(HubConfig, EmbeddedDefaultLoadsWithNinePluginsAndTheirCatalogues) {
  const HubConfig c = load_ok(embedded_hub_json());
  EXPECT_EQ(c.data_dir, "/srv/hub/etc/var");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.ingest_endpoint, "tcp://127.0.0.1:7001");
  EXPECT_EQ(c.plugin_host_endpoint, "tcp://127.0.0.1:7002");
  EXPECT_EQ(c.live_feed_endpoint, "tcp://127.0.0.1:7003");
  EXPECT_EQ(c.admin_endpoint, "tcp://127.0.0.1:7004");
  EXPECT_EQ(c.http_address, "127.0.0.1:8080");
  EXPECT_EQ(c.max_message_bytes, 64u << 20);
  EXPECT_EQ(c.max_batch_events, 100000u);
  EXPECT_EQ(c.delivery_batch_events, 512u);
  EXPECT_EQ(c.max_in_flight_batches, 2u);
  EXPECT_EQ(c.retry_initial_ms, 500);
  EXPECT_EQ(c.retry_max_ms, 30000);

  const std::vector<std::string> ids = {"schools",     "police",   "land",
                                        "finance",     "civil_affairs", "agriculture",
                                        "judicial",    "urban_construction", "fp_association"};
  ASSERT_EQ(c.plugins.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const PluginConfig& p = c.plugins[i];
    SCOPED_TRACE(ids[i]);
    EXPECT_EQ(p.id, ids[i]);
    EXPECT_TRUE(p.enabled);
    EXPECT_EQ(p.library, "/opt/hub/plugins/libhub_plugin_" + ids[i] + ".so");
    EXPECT_EQ(p.catalogue.department(), ids[i]);
    EXPECT_FALSE(p.catalogue.policies().empty());
    EXPECT_EQ(p.catalogue_json, embedded_catalogues().at(ids[i]));
    EXPECT_EQ(p.settings_json, ids[i] == "fp_association" ? R"({"assistance_grant_fen":30000})" : "{}");
    EXPECT_EQ(p.connector.type, hub::sdk::ConnectorConfig::Type::kNone);
    EXPECT_TRUE(p.villages.empty());
    EXPECT_TRUE(p.statuses.empty());
  }
  const auto* reward = c.plugins[3].catalogue.find("finance.only_child_reward");
  ASSERT_NE(reward, nullptr);
  EXPECT_TRUE(reward->money);
}

TEST(HubConfig, EveryEmbeddedCatalogueParsesAndNamesItsDepartment) {
  EXPECT_GE(embedded_catalogues().size(), 9u);
  for (const auto& [id, text] : embedded_catalogues()) {
    std::string error;
    const auto c = hub::sdk::Catalogue::parse(text, &error);
    ASSERT_TRUE(c.has_value()) << id << ": " << error;
    EXPECT_EQ(c->department(), id);
  }
}

TEST(HubConfig, MinimalConfigGetsTheDocumentedDefaults) {
  const HubConfig c = load_ok(minimal().dump());
  EXPECT_EQ(c.data_dir, "/srv/hub/etc/var");
  EXPECT_EQ(c.ingest_endpoint, "tcp://127.0.0.1:7001");
  EXPECT_EQ(c.admin_endpoint, "tcp://127.0.0.1:7004");
  EXPECT_EQ(c.http_address, "127.0.0.1:8080");
  EXPECT_EQ(c.max_message_bytes, 64u << 20);
  EXPECT_EQ(c.retry_max_ms, 30000);
  ASSERT_EQ(c.plugins.size(), 1u);
  EXPECT_EQ(c.plugins[0].catalogue.department(), "police");
  EXPECT_EQ(c.plugins[0].placement, Placement::kInProcess);
}

TEST(HubConfig, PlacementMovesADepartmentToAPluginHost) {
  json j = {{"plugins", {{{"id", "police"}, {"placement", "host"}}, {{"id", "land"}, {"placement", "in_process"}}}}};
  const HubConfig c = load_ok(j.dump());
  ASSERT_EQ(c.plugins.size(), 2u);
  EXPECT_EQ(c.plugins[0].placement, Placement::kHost);
  EXPECT_EQ(c.plugins[1].placement, Placement::kInProcess);
  // The catalogue stays in the hub's configuration: the hub sends it to the host.
  EXPECT_EQ(c.plugins[0].catalogue.department(), "police");
}

TEST(HubConfig, StorageIsSqliteByDefaultAndPostgresqlWithADsnAndAHubId) {
  EXPECT_EQ(load_ok(minimal().dump()).storage.backend, StorageBackend::kSqlite);
  json sqlite = minimal();
  sqlite["storage"] = {{"backend", "sqlite"}};
  EXPECT_EQ(load_ok(sqlite.dump()).storage.backend, StorageBackend::kSqlite);

  json pg = minimal();
  pg["storage"] = {{"backend", "postgresql"}, {"dsn", "host=pg1,pg2 dbname=chengxin target_session_attrs=read-write"},
                   {"hub_id", "town-xinhe"}};
  const HubConfig c = load_ok(pg.dump());
  EXPECT_EQ(c.storage.backend, StorageBackend::kPostgresql);
  EXPECT_EQ(c.storage.dsn, "host=pg1,pg2 dbname=chengxin target_session_attrs=read-write");
  EXPECT_EQ(c.storage.hub_id, "town-xinhe");
}

TEST(HubConfig, StorageMistakesNameTheKey) {
  auto with = [](json storage) {
    json c = minimal();
    c["storage"] = std::move(storage);
    return c;
  };
  expect_error(with("postgresql"), "storage", "must be an object");
  expect_error(with({{"backend", "mysql"}}), "storage.backend", "\"sqlite\"");
  expect_error(with({{"backend", 1}}), "storage.backend", "must be a string");
  expect_error(with({{"backend", "postgresql"}, {"hub_id", "a"}}), "storage.dsn", "required");
  expect_error(with({{"backend", "postgresql"}, {"dsn", ""}, {"hub_id", "a"}}), "storage.dsn", "required");
  expect_error(with({{"backend", "postgresql"}, {"dsn", "host=pg1"}}), "storage.hub_id", "required");
  expect_error(with({{"backend", "postgresql"}, {"dsn", "host=pg1"}, {"hub_id", "Town A"}}), "storage.hub_id",
               "a-z");
  expect_error(with({{"backend", "postgresql"}, {"dsn", "host=pg1"}, {"hub_id", std::string(65, 'a')}}),
               "storage.hub_id", "1-64");
  expect_error(with({{"dsn", "host=pg1"}}), "storage.dsn", "only with");
  expect_error(with({{"backend", "sqlite"}, {"hub_id", "a"}}), "storage.hub_id", "only with");
  expect_error(with({{"backend", "postgresql"}, {"dsn", "host=pg1"}, {"hub_id", "a"}, {"password", "x"}}),
               "storage.password", "unknown key");
}

TEST(HubConfig, CommentsAreAllowed) {
  const HubConfig c = load_ok("{\n  // the police only\n  \"plugins\": [{\"id\": \"police\"}] /* trailing */\n}");
  EXPECT_EQ(c.plugins.size(), 1u);
}

TEST(HubConfig, ExplicitValuesAreTaken) {
  json j = minimal();
  j["log_level"] = "debug";
  j["endpoints"] = {{"ingest", "ipc:///run/hub/ingest"}};
  j["http"] = "127.0.0.2:9090";
  j["limits"] = {{"max_message_bytes", 1024}, {"max_batch_events", 1}};
  j["delivery"] = {{"batch_events", 7}, {"max_in_flight_batches", 64}, {"retry_initial_ms", 10}, {"retry_max_ms", 10}};
  j["plugins"][0]["enabled"] = false;
  j["plugins"][0]["settings"] = {{"roster", "rosters/police.csv"}};
  j["plugins"][0]["villages"] = {"V01", "V02"};
  j["plugins"][0]["statuses"] = {"credit", "breach"};
  const HubConfig c = load_ok(j.dump());
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.ingest_endpoint, "ipc:///run/hub/ingest");
  EXPECT_EQ(c.plugin_host_endpoint, "tcp://127.0.0.1:7002");
  EXPECT_EQ(c.http_address, "127.0.0.2:9090");
  EXPECT_EQ(c.max_message_bytes, 1024u);
  EXPECT_EQ(c.max_batch_events, 1u);
  EXPECT_EQ(c.delivery_batch_events, 7u);
  EXPECT_EQ(c.max_in_flight_batches, 64u);
  EXPECT_EQ(c.retry_initial_ms, 10);
  EXPECT_EQ(c.retry_max_ms, 10);
  ASSERT_EQ(c.plugins.size(), 1u);
  EXPECT_FALSE(c.plugins[0].enabled);
  EXPECT_EQ(json::parse(c.plugins[0].settings_json), json({{"roster", "rosters/police.csv"}}));
  EXPECT_EQ(c.plugins[0].villages, (std::vector<std::string>{"V01", "V02"}));
  EXPECT_EQ(c.plugins[0].statuses, (std::vector<std::string>{"credit", "breach"}));
}

// --- paths --------------------------------------------------------------------------------

TEST(HubConfig, DataDirResolvesAgainstBaseDir) {
  json j = minimal();
  j["data_dir"] = "data/events";
  EXPECT_EQ(load_ok(j.dump()).data_dir, "/srv/hub/etc/data/events");
  j["data_dir"] = "../var/lib/hub";
  EXPECT_EQ(load_ok(j.dump()).data_dir, "/srv/hub/var/lib/hub");
  j["data_dir"] = "/var/lib/hub/";
  EXPECT_EQ(fs::path(load_ok(j.dump()).data_dir), fs::path("/var/lib/hub/"));
  j["data_dir"] = "/var/lib/./hub";
  EXPECT_EQ(load_ok(j.dump()).data_dir, "/var/lib/hub");
}

TEST(HubConfig, LibraryPathDefaultsToExeDirPluginsAndFollowsPluginDir) {
  json j = minimal();
  EXPECT_EQ(load_ok(j.dump()).plugins[0].library, "/opt/hub/plugins/libhub_plugin_police.so");
  EXPECT_EQ(load_ok(j.dump(), {"/srv/hub/etc", "/usr/local/bin/"}).plugins[0].library,
            "/usr/local/plugins/libhub_plugin_police.so");

  j["plugin_dir"] = "lib/plugins";  // relative to the configuration
  EXPECT_EQ(load_ok(j.dump()).plugins[0].library, "/srv/hub/etc/lib/plugins/libhub_plugin_police.so");
  j["plugin_dir"] = "/usr/lib/hub";
  EXPECT_EQ(load_ok(j.dump()).plugins[0].library, "/usr/lib/hub/libhub_plugin_police.so");

  j["plugins"][0]["library"] = "custom/police.so";  // an explicit library wins
  EXPECT_EQ(load_ok(j.dump()).plugins[0].library, "/srv/hub/etc/custom/police.so");
  j["plugins"][0]["library"] = "/abs/police.so";
  EXPECT_EQ(load_ok(j.dump()).plugins[0].library, "/abs/police.so");
}

TEST(HubConfig, CatalogueFromAFileRelativeToBaseDir) {
  TempDir dir;
  const std::string text = catalogue("agriculture");
  dir.write("departments/agriculture.json", text);
  json j = {{"plugins", {{{"id", "agriculture"}, {"catalogue", "departments/agriculture.json"}}}}};
  const HubConfig c = load_ok(j.dump(), {dir.path().string(), "/opt/hub/bin"});
  ASSERT_EQ(c.plugins.size(), 1u);
  EXPECT_EQ(c.plugins[0].catalogue_json, text);
  EXPECT_EQ(c.plugins[0].catalogue.department(), "agriculture");
  ASSERT_EQ(c.plugins[0].catalogue.policies().size(), 1u);
  EXPECT_EQ(c.plugins[0].catalogue.policies()[0].id, "agriculture.training_priority");
}

TEST(HubConfig, DepartmentsDirSuppliesCataloguesByPluginId) {
  TempDir dir;
  dir.write("cat/agriculture.json", catalogue("agriculture"));
  json j = {{"departments_dir", "cat"}, {"plugins", {{{"id", "agriculture"}}}}};
  const HubConfig c = load_ok(j.dump(), {dir.path().string(), ""});
  EXPECT_EQ(c.plugins.at(0).catalogue.department(), "agriculture");

  // With a departments_dir, the embedded catalogues are no longer used.
  j["plugins"] = {{{"id", "police"}}};
  expect_error(j, "plugins[0].catalogue", "cannot read", {dir.path().string(), ""});
}

// --- errors -------------------------------------------------------------------------------

// Found while writing fuzz_config: a catalogue path naming a device or a huge file was read
// without end (/dev/zero: until memory ran out). Only regular files up to 4 MiB are read.
TEST(HubConfig, CatalogueThatIsNotARegularFileOrIsHugeIsRefused) {
  TempDir dir;
  json j = {{"plugins", {{{"id", "police"}, {"catalogue", "/dev/zero"}}}}};
  expect_error(j, "plugins[0].catalogue", "not a regular file", {dir.path().string(), ""});
  j["plugins"][0]["catalogue"] = "cat";
  dir.write("cat/x.json", "{}");
  expect_error(j, "plugins[0].catalogue", "not a regular file", {dir.path().string(), ""});
  dir.write("big.json", std::string((4u << 20) + 1, ' '));
  j["plugins"][0]["catalogue"] = "big.json";
  expect_error(j, "plugins[0].catalogue", "larger than 4 MiB", {dir.path().string(), ""});
  j["plugins"][0]["catalogue"] = "missing.json";
  expect_error(j, "plugins[0].catalogue", "no such file", {dir.path().string(), ""});
}

TEST(HubConfig, ConnectorsAreParsedAndSpoolFoldersResolved) {
  json j = minimal();
  j["data_dir"] = "/var/lib/hub";
  j["plugins"].push_back({{"id", "schools"}, {"connector", {{"type", "spool"}}}});
  j["plugins"].push_back({{"id", "land"}, {"connector", {{"type", "spool"}, {"dir", "drop/land"}}}});
  j["plugins"].push_back(
      {{"id", "finance"},
       {"connector", {{"type", "webhook"}, {"url", "http://10.0.0.5:8080/hub"}, {"timeout_ms", 2000}, {"attempts", 4}}}});
  const HubConfig c = load_ok(j.dump());
  ASSERT_EQ(c.plugins.size(), 4u);
  using Type = hub::sdk::ConnectorConfig::Type;
  EXPECT_EQ(c.plugins[0].connector.type, Type::kNone);
  EXPECT_EQ(c.plugins[1].connector.type, Type::kSpool);
  EXPECT_EQ(c.plugins[1].connector.spool.dir, "/var/lib/hub/spool/schools");
  EXPECT_EQ(c.plugins[2].connector.spool.dir, "/srv/hub/etc/drop/land");
  EXPECT_EQ(c.plugins[3].connector.type, Type::kWebhook);
  EXPECT_EQ(c.plugins[3].connector.webhook.url, "http://10.0.0.5:8080/hub");
  EXPECT_EQ(c.plugins[3].connector.webhook.timeout_ms, 2000);
  EXPECT_EQ(c.plugins[3].connector.webhook.attempts, 4);
}

TEST(HubConfigErrors, ConnectorProblemsNameTheKey) {
  json j = minimal();
  j["plugins"][0]["connector"] = "spool";
  expect_error(j, "plugins[0].connector", "must be an object");
  j["plugins"][0]["connector"] = {{"type", "ftp"}};
  expect_error(j, "plugins[0].connector.type", "unknown connector type 'ftp'");
  j["plugins"][0]["connector"] = {{"type", "webhook"}, {"url", "10.0.0.5/hub"}};
  expect_error(j, "plugins[0].connector.url", "http:// or https://");
  j["plugins"][0]["connector"] = {{"type", "webhook"}, {"url", "http://h/"}, {"attempts", 100}};
  expect_error(j, "plugins[0].connector.attempts", "from 1 to 20");
  j["plugins"][0]["connector"] = {{"type", "spool"}, {"dir", "x"}, {"fsync", false}};
  expect_error(j, "plugins[0].connector.fsync", "unknown key");
  j["plugins"][0]["connector"] = {{"type", "spool"}};
  j["plugins"][0]["placement"] = "host";
  expect_error(j, "plugins[0].connector", "needs \"placement\": \"in_process\"");
}

TEST(HubConfig, CurveIsOnByDefaultWithItsKeysInTheDataDirectory) {
  HubConfig c = load_ok(embedded_hub_json());
  EXPECT_TRUE(c.security.curve);
  EXPECT_EQ(c.keys_dir(), "/srv/hub/etc/var/keys");
  EXPECT_EQ(c.clients_file(), "/srv/hub/etc/var/keys/clients.json");
  c = load_ok(minimal().dump());  // no "security" at all: CURVE too
  EXPECT_TRUE(c.security.curve);
  json j = minimal();
  j["security"] = {{"mode", "insecure"}};
  EXPECT_FALSE(load_ok(j.dump()).security.curve);
  j["security"] = {{"mode", "curve"}, {"keys_dir", "keys"}, {"clients_file", "/etc/hub/clients.json"}};
  c = load_ok(j.dump());
  EXPECT_EQ(c.keys_dir(), "/srv/hub/etc/keys");
  EXPECT_EQ(c.clients_file(), "/etc/hub/clients.json");
}

TEST(HubConfigErrors, InsecureIsOnlyForEndpointsOnThisMachine) {
  json j = minimal();
  j["security"] = {{"mode", "insecure"}};
  j["endpoints"] = {{"ingest", "tcp://0.0.0.0:7001"}};
  expect_error(j, "security.mode", "endpoints.ingest is tcp://0.0.0.0:7001");
  j["endpoints"] = {{"plugin_hosts", "tcp://10.1.2.3:7002"}};
  expect_error(j, "security.mode", "endpoints.plugin_hosts");
  j["endpoints"] = {{"ingest", "tcp://localhost:7001"}, {"admin", "ipc:///run/hub/admin"}};
  EXPECT_FALSE(load_ok(j.dump()).security.curve);
  j = minimal();
  j["security"] = {{"mode", "off"}};
  expect_error(j, "security.mode", "\"curve\" (the default) or \"insecure\"");
  j["security"] = {{"mode", "curve"}, {"key", "x"}};
  expect_error(j, "security.key", "unknown key");
  j["security"] = "curve";
  expect_error(j, "security", "must be an object");
}

TEST(HubConfigErrors, InvalidJson) {
  for (const char* text : {"", "{", "{\"plugins\": [}", "{\"plugins\": []} trailing", "nul"}) {
    const ConfigError e = load_error(text);
    EXPECT_EQ(e.key, "") << text;
    EXPECT_NE(e.message.find("not valid JSON"), std::string::npos) << e.message;
  }
}

TEST(HubConfigErrors, RootMustBeAnObject) {
  expect_error(json::array(), "", "JSON object");
  expect_error(json("plugins"), "", "JSON object");
}

TEST(HubConfigErrors, UnknownKeysAreNamedWithTheirPath) {
  json j = minimal();
  j["datadir"] = "var";
  expect_error(j, "datadir", "unknown key");

  j = minimal();
  j["endpoints"] = {{"ingset", "tcp://127.0.0.1:7001"}};
  const ConfigError e = load_error(j.dump());
  EXPECT_EQ(e.key, "endpoints.ingset");
  EXPECT_NE(e.message.find("ingest"), std::string::npos) << "the message lists the allowed keys: " << e.message;
  EXPECT_EQ(e.to_string().rfind("endpoints.ingset: unknown key", 0), 0u) << e.to_string();

  j = minimal();
  j["limits"] = {{"max_messages", 5}};
  expect_error(j, "limits.max_messages", "max_message_bytes");
  j = minimal();
  j["delivery"] = {{"retry_ms", 5}};
  expect_error(j, "delivery.retry_ms", "retry_initial_ms");
  j = minimal();
  j["plugins"].push_back({{"id", "land"}, {"libary", "x.so"}});
  expect_error(j, "plugins[1].libary", "library");
}

TEST(HubConfigErrors, WrongTypesNameTheKey) {
  const std::tuple<const char*, json, const char*, const char*> cases[] = {
      {"data_dir", 5, "data_dir", "string"},
      {"log_level", json::array(), "log_level", "string"},
      {"http", 8080, "http", "string"},
      {"plugin_dir", true, "plugin_dir", "string"},
      {"departments_dir", 1, "departments_dir", "string"},
      {"endpoints", "tcp://127.0.0.1:7001", "endpoints", "object"},
      {"limits", json::array(), "limits", "object"},
      {"delivery", 3, "delivery", "object"},
      {"plugins", json::object(), "plugins", "array"},
  };
  for (const auto& [key, value, error_key, fragment] : cases) {
    json j = minimal();
    j[key] = value;
    expect_error(j, error_key, fragment);
  }
  json j = minimal();
  j["endpoints"] = {{"ingest", 7001}};
  expect_error(j, "endpoints.ingest", "string");
  j = minimal();
  j["limits"] = {{"max_batch_events", "10"}};
  expect_error(j, "limits.max_batch_events", "whole number");
  j = minimal();
  j["limits"] = {{"max_batch_events", 1.5}};
  expect_error(j, "limits.max_batch_events", "whole number");
  j = minimal();
  j["delivery"] = {{"retry_initial_ms", false}};
  expect_error(j, "delivery.retry_initial_ms", "whole number");
}

TEST(HubConfigErrors, PluginEntriesOfTheWrongType) {
  const std::tuple<const char*, json, const char*> cases[] = {
      {"enabled", "yes", "true or false"},
      {"library", 1, "string"},
      {"catalogue", json::object(), "string"},
      {"settings", json::array(), "object"},
      {"villages", "V01", "array of strings"},
      {"villages", {1, 2}, "array of strings"},
      {"statuses", "credit", "array of strings"},
      {"id", 7, "string"},
  };
  for (const auto& [key, value, fragment] : cases) {
    json j = minimal();
    j["plugins"].push_back({{"id", "land"}});
    j["plugins"][1][key] = value;
    expect_error(j, std::string("plugins[1].") + key, fragment);
  }
  json j = minimal();
  j["plugins"].push_back("land");
  expect_error(j, "plugins[1]", "object");
}

TEST(HubConfigErrors, OutOfRangeValuesSayTheRange) {
  const std::tuple<const char*, const char*, std::int64_t, const char*> cases[] = {
      {"limits", "max_message_bytes", 1023, "between 1024 and"},
      {"limits", "max_message_bytes", (1ll << 31) + 1, "between 1024 and"},
      {"limits", "max_batch_events", 0, "between 1 and 10000000"},
      {"delivery", "batch_events", 100001, "between 1 and 100000"},
      {"delivery", "max_in_flight_batches", 0, "between 1 and 64"},
      {"delivery", "max_in_flight_batches", 65, "(got 65)"},
      {"delivery", "retry_initial_ms", -1, "between 1 and 3600000"},
  };
  for (const auto& [section, key, value, fragment] : cases) {
    json j = minimal();
    j[section] = {{key, value}};
    expect_error(j, std::string(section) + "." + key, fragment);
  }
  // A number beyond 64-bit signed range is reported as it was written.
  json huge = minimal();
  huge["limits"] = {{"max_batch_events", 18446744073709551615ull}};
  expect_error(huge, "limits.max_batch_events", "(got 18446744073709551615)");
  // retry_max_ms may not be below retry_initial_ms.
  json j = minimal();
  j["delivery"] = {{"retry_initial_ms", 1000}, {"retry_max_ms", 999}};
  expect_error(j, "delivery.retry_max_ms", "between 1000 and");
}

TEST(HubConfigErrors, BadValues) {
  json j = minimal();
  j["log_level"] = "verbose";
  expect_error(j, "log_level", "debug, info, warn or error");
  j = minimal();
  j["data_dir"] = "";
  expect_error(j, "data_dir", "empty");
  j = minimal();
  j.erase("plugins");
  expect_error(j, "plugins", "required");
}

TEST(HubConfigErrors, BadEndpointsAreNamed) {
  for (const char* key : {"ingest", "plugin_hosts", "live_feed", "admin"}) {
    for (const char* bad : {"127.0.0.1:7001", "http://127.0.0.1:7001", "", "inproc://x"}) {
      json j = minimal();
      j["endpoints"] = {{key, bad}};
      expect_error(j, std::string("endpoints.") + key, "ZeroMQ endpoint");
    }
  }
}

TEST(HubConfigErrors, PlacementMustBeInProcessOrHost) {
  json j = {{"plugins", {{{"id", "police"}, {"placement", "remote"}}}}};
  expect_error(j, "plugins[0].placement", "got 'remote'");
  j = {{"plugins", {{{"id", "police"}, {"placement", true}}}}};
  expect_error(j, "plugins[0].placement", "must be a string");
}

TEST(HubConfigErrors, PluginIdProblems) {
  json j = {{"plugins", {{{"id", "police"}}, {{"id", "police"}}}}};
  expect_error(j, "plugins[1].id", "listed twice");
  j = {{"plugins", {{{"enabled", true}}}}};
  expect_error(j, "plugins[0].id", "required");
  j = {{"plugins", {{{"id", "the police"}}}}};
  expect_error(j, "plugins[0].id", "the police");
  j = {{"plugins", {{{"id", "../police"}}}}};
  expect_error(j, "plugins[0].id", "../police");
}

TEST(HubConfigErrors, UnknownStatusInStatuses) {
  for (const char* bad : {"unevaluated", "gold", "Credit"}) {
    json j = minimal();
    j["plugins"][0]["statuses"] = {"credit", bad};
    expect_error(j, "plugins[0].statuses", std::string("unknown status '") + bad + "'");
  }
}

TEST(HubConfigErrors, UnknownDepartmentWithoutACatalogue) {
  json j = minimal();
  j["plugins"].push_back({{"id", "forestry"}});
  expect_error(j, "plugins[1].catalogue", "no catalogue for department 'forestry'");
}

TEST(HubConfigErrors, CatalogueProblemsNameTheCatalogueKey) {
  TempDir dir;
  const ConfigSources sources{dir.path().string(), "/opt/hub/bin"};
  dir.write("police-as-agri.json", catalogue("police"));
  dir.write("broken.json", "{\"department\": \"agriculture\", ");
  dir.write("no-policies.json", json{{"department", "agriculture"}, {"name_zh", "农"}, {"name_en", "Agri"}}.dump());

  json j = {{"plugins", {{{"id", "agriculture"}, {"catalogue", "police-as-agri.json"}}}}};
  const ConfigError other = load_error(j.dump(), sources);
  EXPECT_EQ(other.key, "plugins[0].catalogue");
  EXPECT_NE(other.message.find("'police'"), std::string::npos) << other.message;
  EXPECT_NE(other.message.find("'agriculture'"), std::string::npos) << other.message;

  j["plugins"][0]["catalogue"] = "broken.json";
  expect_error(j, "plugins[0].catalogue", "invalid catalogue", sources);
  j["plugins"][0]["catalogue"] = "no-policies.json";
  expect_error(j, "plugins[0].catalogue", "policies", sources);
  j["plugins"][0]["catalogue"] = "missing.json";
  expect_error(j, "plugins[0].catalogue", (dir.path() / "missing.json").string(), sources);
}


// --- retries and parking -------------------------------------------------------------------

TEST(HubConfig, RetryAndParkingSettingsDefaultHubWideAndPerDepartment) {
  json j = minimal();
  j["plugins"].push_back({{"id", "land"}, {"delivery", {{"max_attempts", 2}, {"call_timeout_ms", 250}}}});
  j["delivery"] = {{"max_attempts", 7}, {"call_timeout_ms", 9000}, {"retry_initial_ms", 20}, {"retry_max_ms", 80}};
  const HubConfig c = load_ok(j.dump());
  ASSERT_EQ(c.plugins.size(), 2u);
  EXPECT_EQ(c.max_attempts, 7);
  EXPECT_EQ(c.plugins[0].max_attempts, 7);  // the hub-wide value
  EXPECT_EQ(c.plugins[0].call_timeout_ms, 9000);
  EXPECT_EQ(c.plugins[0].retry_initial_ms, 20);
  EXPECT_EQ(c.plugins[0].retry_max_ms, 80);
  EXPECT_EQ(c.plugins[1].max_attempts, 2);  // its own
  EXPECT_EQ(c.plugins[1].call_timeout_ms, 250);
  EXPECT_EQ(c.plugins[1].retry_initial_ms, 20);
  const HubConfig d = load_ok(minimal().dump());
  EXPECT_EQ(d.plugins[0].max_attempts, 5);
  EXPECT_EQ(d.plugins[0].call_timeout_ms, 30000);
}

TEST(HubConfigErrors, RetryAndParkingSettingsAreValidated) {
  json j = minimal();
  j["delivery"] = {{"max_attempts", 0}};
  expect_error(j, "delivery.max_attempts", "between 1 and 1000");
  j = minimal();
  j["delivery"] = {{"call_timeout_ms", 5}};
  expect_error(j, "delivery.call_timeout_ms", "between 10 and");
  j = minimal();
  j["plugins"][0]["delivery"] = {{"max_attempts", "three"}};
  expect_error(j, "plugins[0].delivery.max_attempts", "whole number");
  j = minimal();
  j["plugins"][0]["delivery"] = {{"attempts", 3}};
  expect_error(j, "plugins[0].delivery.attempts", "max_attempts");
  j = minimal();
  j["plugins"][0]["delivery"] = 3;
  expect_error(j, "plugins[0].delivery", "must be an object");
  j = minimal();
  j["plugins"][0]["delivery"] = {{"retry_initial_ms", 100}, {"retry_max_ms", 50}};
  expect_error(j, "plugins[0].delivery.retry_max_ms", "between 100 and");
}

TEST(HubConfig, FieldsListWhatADepartmentMayReceive) {
  json j = minimal();
  j["plugins"].push_back({{"id", "land"}, {"fields", {"household_id", "status", "quarter", "designations"}}});
  const HubConfig c = load_ok(j.dump());
  EXPECT_FALSE(c.plugins[0].fields_listed);
  EXPECT_EQ(c.plugins[0].fields, kAllEventFields);  // not listed: everything (hubd warns)
  EXPECT_TRUE(c.plugins[1].fields_listed);
  EXPECT_EQ(c.plugins[1].fields, kFieldQuarter | kFieldDesignations);  // household_id and status always
  // The shipped configuration lists them for every department.
  for (const auto& p : load_ok(embedded_hub_json()).plugins) EXPECT_TRUE(p.fields_listed) << p.id;
}

TEST(HubConfigErrors, RateLimitIsValidated) {
  json j = minimal();
  j["limits"] = {{"max_requests_per_second", -1}};
  expect_error(j, "limits.max_requests_per_second", "between 0 and");
  j["limits"] = {{"max_requests_per_second", "fast"}};
  expect_error(j, "limits.max_requests_per_second", "whole number");
  EXPECT_EQ(load_ok(minimal().dump()).max_requests_per_second, 0u);  // none unless configured
  EXPECT_EQ(load_ok(embedded_hub_json()).max_requests_per_second, 1000u);
}

TEST(HubConfigErrors, ComplaintDeadlineIsValidated) {
  EXPECT_EQ(load_ok(minimal().dump()).complaint_deadline_days, 15);  // the issue's default
  EXPECT_EQ(load_ok(embedded_hub_json()).complaint_deadline_days, 15);  // and the shipped file's
  json j = minimal();
  j["complaints"] = {{"deadline_days", 30}};
  EXPECT_EQ(load_ok(j.dump()).complaint_deadline_days, 30);
  j["complaints"] = {{"deadline_days", 0}};
  expect_error(j, "complaints.deadline_days", "between 1 and 365");
  j["complaints"] = {{"deadline_days", 366}};
  expect_error(j, "complaints.deadline_days", "between 1 and 365");
  j["complaints"] = {{"deadline_days", "15"}};
  expect_error(j, "complaints.deadline_days", "whole number");
  j["complaints"] = {{"deadline", 15}};
  expect_error(j, "complaints.deadline", "");
  j["complaints"] = 15;
  expect_error(j, "complaints", "must be an object");
}

TEST(HubConfigErrors, TheNoticeIsValidated) {
  EXPECT_EQ(load_ok(minimal().dump()).notice_period_days, 7);  // the issue's default
  EXPECT_FALSE(load_ok(minimal().dump()).notice_required);    // publishing straight to final allowed
  EXPECT_EQ(load_ok(embedded_hub_json()).notice_period_days, 7);
  EXPECT_FALSE(load_ok(embedded_hub_json()).notice_required);
  json j = minimal();
  j["notice"] = {{"period_days", 0}, {"required", true}};
  EXPECT_EQ(load_ok(j.dump()).notice_period_days, 0);
  EXPECT_TRUE(load_ok(j.dump()).notice_required);
  j["notice"] = {{"period_days", 91}};
  expect_error(j, "notice.period_days", "between 0 and 90");
  j["notice"] = {{"period_days", -1}};
  expect_error(j, "notice.period_days", "between 0 and 90");
  j["notice"] = {{"required", "yes"}};
  expect_error(j, "notice.required", "true");
  j["notice"] = {{"period", 7}};
  expect_error(j, "notice.period", "");
  j["notice"] = 7;
  expect_error(j, "notice", "must be an object");
}

TEST(HubConfigErrors, FieldsAreValidated) {
  json j = minimal();
  j["plugins"][0]["fields"] = {"quarter", "head"};
  expect_error(j, "plugins[0].fields[1]", "unknown event field 'head'");
  j["plugins"][0]["fields"] = {"quarter", "quarter"};
  expect_error(j, "plugins[0].fields[1]", "listed twice");
  j["plugins"][0]["fields"] = "quarter";
  expect_error(j, "plugins[0].fields", "array of strings");
  j["plugins"][0]["fields"] = {"quarter"};
  j["plugins"][0]["villages"] = {"V01"};
  expect_error(j, "plugins[0].fields", "must include \"village\"");
}

TEST(HubConfigErrors, HttpAddressAndAdminToken) {
  for (const char* bad : {"8080", "127.0.0.1:", ":8080", "127.0.0.1:99999", "127.0.0.1:80x", "http://127.0.0.1:8080"}) {
    json j = minimal();
    j["http"] = bad;
    expect_error(j, "http", "HOST:PORT");
  }
  json j = minimal();
  j["admin_token"] = "short";
  expect_error(j, "admin_token", "at least 16");
  j = minimal();
  j["admin_token"] = 42;
  expect_error(j, "admin_token", "string");
}

TEST(HubConfig, HttpAddressForms) {
  for (const char* good : {"127.0.0.1:8080", "127.0.0.1:0", "127.1.2.3:80", "[::1]:8080", "localhost:65535", ""}) {
    json j = minimal();
    j["http"] = good;
    EXPECT_EQ(load_ok(j.dump()).http_address, good);
  }
  const auto v6 = parse_http_address("[::1]:8080");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_EQ(load_ok(minimal().dump()).http_address, "127.0.0.1:8080");
  EXPECT_EQ(load_ok(minimal().dump()).admin_token, "");
}

// "http" as an object (issue 19): TLS files and the limits on clients.
TEST(HubConfig, HttpObjectWithTlsAndLimits) {
  TempDir dir;
  dir.write("tls/hub.crt", "certificate");  // the content is the HTTP part's check (tls_context.h)
  dir.write("tls/hub.key", "key");
  json j = minimal();
  j["http"] = {{"address", "0.0.0.0:8443"},
               {"tls_cert", "tls/hub.crt"},
               {"tls_key", dir.file("tls/hub.key")},
               {"request_timeout_ms", 5000},
               {"max_connections", 100},
               {"max_connections_per_client", 10},
               {"login", true},
               {"session_idle_minutes", 20},
               {"session_max_hours", 8}};
  const HubConfig c = load_ok(j.dump(), {dir.str(), "/opt/hub/bin"});
  EXPECT_TRUE(c.http.login);
  EXPECT_EQ(c.http.session_idle_minutes, 20);
  EXPECT_EQ(c.http.session_max_hours, 8);
  EXPECT_EQ(c.http_address, "0.0.0.0:8443");
  EXPECT_TRUE(c.http.tls());
  EXPECT_EQ(c.http.tls_cert, dir.file("tls/hub.crt")) << "relative to the configuration's directory";
  EXPECT_EQ(c.http.tls_key, dir.file("tls/hub.key"));
  EXPECT_EQ(c.http.request_timeout_ms, 5000);
  EXPECT_EQ(c.http.max_connections, 100);
  EXPECT_EQ(c.http.max_connections_per_client, 10);

  // The defaults: loopback, plain HTTP, the shipped limits; an object without an address too.
  const HubConfig d = load_ok(minimal().dump());
  EXPECT_FALSE(d.http.tls());
  EXPECT_EQ(d.http.request_timeout_ms, 10000);
  EXPECT_EQ(d.http.max_connections, 512);
  EXPECT_EQ(d.http.max_connections_per_client, 32);
  EXPECT_FALSE(d.http.login);
  EXPECT_EQ(d.http.session_idle_minutes, 30);
  EXPECT_EQ(d.http.session_max_hours, 12);
  EXPECT_EQ(d.users_file(), d.keys_dir() + "/users.json") << "beside the clients file";
  j = minimal();
  j["http"] = {{"max_connections", 64}};
  EXPECT_EQ(load_ok(j.dump()).http_address, "127.0.0.1:8080");
}

TEST(HubConfigErrors, HttpObjectNamesEachBadKey) {
  TempDir dir;
  const std::string cert = dir.write("hub.crt", "certificate"), key = dir.write("hub.key", "key");
  const auto http = [&](json fields) {
    json j = minimal();
    j["http"] = std::move(fields);
    return j;
  };
  expect_error(http({{"adress", "127.0.0.1:8080"}}), "http.adress", "unknown key");
  expect_error(http({{"address", 8080}}), "http.address", "string");
  expect_error(http({{"address", "8080"}}), "http.address", "HOST:PORT");
  expect_error(http({{"tls_cert", 5}, {"tls_key", key}}), "http.tls_cert", "string");
  expect_error(http({{"tls_cert", cert}, {"tls_key", json::array()}}), "http.tls_key", "string");
  expect_error(http({{"request_timeout_ms", "10s"}}), "http.request_timeout_ms", "whole number");
  expect_error(http({{"request_timeout_ms", 10}}), "http.request_timeout_ms", "between 100 and 600000");
  expect_error(http({{"max_connections", 0}}), "http.max_connections", "between 1 and 4096");
  expect_error(http({{"max_connections", 10}, {"max_connections_per_client", 11}}), "http.max_connections_per_client",
               "between 1 and 10");
  expect_error(http(true), "http", "string (HOST:PORT) or an object");
  expect_error(http({{"login", "yes"}}), "http.login", "true");
  expect_error(http({{"session_idle_minutes", 0}}), "http.session_idle_minutes", "between 1 and 1440");
  expect_error(http({{"session_max_hours", 169}}), "http.session_max_hours", "between 1 and 168");
  json users = minimal();
  users["security"] = {{"users_file", 7}};
  expect_error(users, "security.users_file", "string");

  // One of the two TLS files alone; a file that is not there or not a file.
  expect_error(http({{"tls_cert", cert}}), "http.tls_key", "both http.tls_cert");
  expect_error(http({{"tls_key", key}}), "http.tls_cert", "both http.tls_cert");
  expect_error(http({{"tls_cert", dir.file("missing.crt")}, {"tls_key", key}}), "http.tls_cert",
               "cannot read " + dir.file("missing.crt") + ": no such file");
  expect_error(http({{"tls_cert", cert}, {"tls_key", dir.file("missing.key")}}), "http.tls_key",
               "cannot read " + dir.file("missing.key") + ": no such file");
  expect_error(http({{"tls_cert", dir.str()}, {"tls_key", key}}), "http.tls_cert", "not a regular file");
}

TEST(HubConfigErrors, PlainHttpOnlyOnLoopback) {
  for (const char* open : {"0.0.0.0:8080", "192.168.1.10:80", "[::]:8080", "hub.town.local:8080"}) {
    json j = minimal();
    j["http"] = open;
    expect_error(j, "http.tls_cert", "set http.tls_cert and http.tls_key");
    j["http"] = {{"address", open}};
    expect_error(j, "http.tls_cert", "reachable from other machines");
  }
  // With TLS, a network address needs the login as well (issue 19).
  TempDir dir;
  const std::string cert = dir.write("hub.crt", "certificate"), key = dir.write("hub.key", "key");
  json j = minimal();
  j["http"] = {{"address", "0.0.0.0:8443"}, {"tls_cert", cert}, {"tls_key", key}};
  expect_error(j, "http.login", "without a login");
  j["http"]["login"] = true;
  EXPECT_TRUE(load_ok(j.dump()).http.login);
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.9.9.9"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("::"));
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
}

}  // namespace
}  // namespace hub
