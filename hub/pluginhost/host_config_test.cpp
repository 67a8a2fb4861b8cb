// Tests of hub-plugin-host's configuration: the documented defaults, both forms of a plugin
// entry, and a ConfigError naming the key for every kind of mistake.
#include "pluginhost/host_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <zmq.h>

#include "security/keys.h"
#include "testing/temp_dir.h"

namespace hub::pluginhost {
namespace {

using nlohmann::json;

// A key pair made the way hubctl keygen makes it, in a temporary directory.
struct Keys {
  testing::TempDir dir;
  std::string hub_public = security::generate_curve_key_pair(dir.file(), "hub");
  std::string host_public = security::generate_curve_key_pair(dir.file(), "police-server-1");
  std::string secret_file = dir.file("police-server-1.curve.key");
};
Keys& keys() {
  static Keys k;
  return k;
}

std::variant<HostConfig, ConfigError> load(const json& j) {
  return load_host_config(j.dump(), "/srv/host/etc", "/opt/hub/bin", "dept-server");
}

// A hub on another machine needs CURVE.
json minimal() {
  return {{"hub", "tcp://10.0.0.5:7002"},
          {"plugins", {"police"}},
          {"curve", {{"hub_public_key", keys().hub_public}, {"secret_key_file", keys().secret_file}}}};
}

void expect_error(const json& j, const std::string& key, const std::string& fragment) {
  SCOPED_TRACE(j.dump());
  auto r = load(j);
  ASSERT_TRUE(std::holds_alternative<ConfigError>(r));
  const auto& e = std::get<ConfigError>(r);
  EXPECT_EQ(e.key, key) << e.to_string();
  EXPECT_NE(e.message.find(fragment), std::string::npos) << e.message;
}

TEST(HostConfig, MinimalConfigGetsTheDocumentedDefaults) {
  auto r = load(minimal());
  ASSERT_TRUE(std::holds_alternative<HostConfig>(r)) << std::get<ConfigError>(r).to_string();
  const auto& c = std::get<HostConfig>(r);
  EXPECT_EQ(c.hub_endpoint, "tcp://10.0.0.5:7002");
  EXPECT_EQ(c.host_name, "dept-server");
  EXPECT_EQ(c.data_dir, "/srv/host/etc/var");
  EXPECT_EQ(c.log_level, "info");
  ASSERT_EQ(c.plugins.size(), 1u);
  EXPECT_EQ(c.plugins[0].id, "police");
  EXPECT_EQ(c.plugins[0].library, "/opt/hub/plugins/libhub_plugin_police.so");
  EXPECT_TRUE(c.curve);
  EXPECT_EQ(c.hub_public_key, keys().hub_public);
  EXPECT_EQ(security::public_key_of(c.secret_key), keys().host_public);
}

TEST(HostConfig, TheHubsKeyMayBeGivenAsItsFileAndCurveMayBeLeftOutOnlyForAHubOnThisMachine) {
  json j = minimal();
  j["curve"]["hub_public_key"] = keys().dir.file("hub.curve.pub");
  auto r = load(j);
  ASSERT_TRUE(std::holds_alternative<HostConfig>(r)) << std::get<ConfigError>(r).to_string();
  EXPECT_EQ(std::get<HostConfig>(r).hub_public_key, keys().hub_public);
  for (const char* local : {"tcp://127.0.0.1:7002", "tcp://localhost:7002", "ipc:///run/hub/hosts"}) {
    j = minimal();
    j.erase("curve");
    j["hub"] = local;
    r = load(j);
    ASSERT_TRUE(std::holds_alternative<HostConfig>(r)) << local << ": " << std::get<ConfigError>(r).to_string();
    EXPECT_FALSE(std::get<HostConfig>(r).curve);
  }
}

TEST(HostConfig, PluginEntriesByIdOrWithTheirOwnLibrary) {
  json j = minimal();
  j["plugin_dir"] = "lib";
  j["host_name"] = "police-1";
  j["plugins"] = {"police", {{"id", "finance"}, {"library", "/opt/fin/libfinance.so"}}};
  auto r = load(j);
  ASSERT_TRUE(std::holds_alternative<HostConfig>(r)) << std::get<ConfigError>(r).to_string();
  const auto& c = std::get<HostConfig>(r);
  EXPECT_EQ(c.host_name, "police-1");
  ASSERT_EQ(c.plugins.size(), 2u);
  EXPECT_EQ(c.plugins[0].library, "/srv/host/etc/lib/libhub_plugin_police.so");
  EXPECT_EQ(c.plugins[1].library, "/opt/fin/libfinance.so");
}

TEST(HostConfigErrors, EveryMistakeNamesItsKey) {
  EXPECT_TRUE(std::holds_alternative<ConfigError>(load_host_config("{", "/", "/", "h")));
  json j = minimal();
  j.erase("hub");
  expect_error(j, "hub", "required");
  j = minimal();
  j["hub"] = "10.0.0.5:7002";
  expect_error(j, "hub", "ZeroMQ endpoint");
  j = minimal();
  j["hub"] = "tcp://127.0.0.1:*";
  expect_error(j, "hub", "wildcard");
  j = minimal();
  j["port"] = 7002;
  expect_error(j, "port", "unknown key");
  j = minimal();
  j.erase("plugins");
  expect_error(j, "plugins", "required");
  j = minimal();
  j["plugins"] = json::array();
  expect_error(j, "plugins", "non-empty");
  j = minimal();
  j["plugins"] = {"police", "police"};
  expect_error(j, "plugins[1]", "listed twice");
  j = minimal();
  j["plugins"] = {"the police"};
  expect_error(j, "plugins[0]", "the police");
  j = minimal();
  j["plugins"] = {{{"library", "/x.so"}}};
  expect_error(j, "plugins[0].id", "required");
  j = minimal();
  j["plugins"] = {{{"id", "police"}, {"libary", "/x.so"}}};
  expect_error(j, "plugins[0].libary", "unknown key");
  j = minimal();
  j["plugins"] = {42};
  expect_error(j, "plugins[0]", "department id");
  j = minimal();
  j["log_level"] = "loud";
  expect_error(j, "log_level", "debug, info");
  j = minimal();
  j["host_name"] = "";
  expect_error(j, "host_name", "1-128");
  j = minimal();
  j.erase("curve");
  expect_error(j, "curve", "required for a hub on another machine");
  j = minimal();
  j["curve"].erase("secret_key_file");
  expect_error(j, "curve.secret_key_file", "required");
  j = minimal();
  j["curve"]["secret_key_file"] = keys().dir.file("nobody.curve.key");
  expect_error(j, "curve.secret_key_file", "does not exist");
  j = minimal();
  j["curve"]["hub_public_key"] = "not a key";
  expect_error(j, "curve.hub_public_key", "neither a key");
  j = minimal();
  j["curve"]["secret"] = "x";
  expect_error(j, "curve.secret", "unknown key");
}

}  // namespace
}  // namespace hub::pluginhost
