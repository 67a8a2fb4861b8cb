#include "pluginhost/host_config.h"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "config/config_fields.h"
#include "security/keys.h"
#include "domain/wire_event.h"

namespace hub::pluginhost {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace hub::config_fields;

std::string plugin_library(const std::string& plugin_dir, const std::string& id) {
  return (fs::path(plugin_dir) / ("libhub_plugin_" + id + ".so")).string();
}

HostedPlugin parse_plugin(const json& p, const std::string& where, const std::string& base_dir,
                          const std::string& plugin_dir) {
  HostedPlugin plugin;
  if (p.is_string()) {
    plugin.id = p.get<std::string>();
  } else if (p.is_object()) {
    check_keys(p, where + ".", {"id", "library"});
    plugin.id = get_string(p, where + ".", "id", "");
    plugin.library = resolve(base_dir, get_string(p, where + ".", "library", ""));
  } else {
    invalid(where, "must be a department id such as \"police\" or {\"id\": \"police\", \"library\": \"/path/to.so\"}");
  }
  const std::string id_key = p.is_object() ? where + ".id" : where;
  if (plugin.id.empty()) invalid(id_key, "required: the department id, e.g. \"police\"");
  if (!is_valid_id(plugin.id))
    invalid(id_key, "must be 1-64 letters, digits, '_', '.', ':' or '-' (got '" + plugin.id + "')");
  if (plugin.library.empty()) plugin.library = plugin_library(plugin_dir, plugin.id);
  return plugin;
}

HostConfig parse(const json& root, const std::string& base_dir, const std::string& exe_dir,
                 const std::string& default_host_name) {
  if (!root.is_object()) invalid("", "the configuration must be a JSON object");
  check_keys(root, "", {"hub", "host_name", "plugin_dir", "data_dir", "log_level", "plugins", "curve"});
  HostConfig c;
  c.hub_endpoint = get_string(root, "", "hub", "");
  if (c.hub_endpoint.empty())
    invalid("hub", "required: the hub's plugin-host endpoint, e.g. \"tcp://10.0.0.5:7002\" (endpoints.plugin_hosts)");
  check_endpoint("hub", c.hub_endpoint);
  if (c.hub_endpoint.find('*') != std::string::npos) invalid("hub", "must name a real address and port, not a wildcard");
  c.host_name = get_string(root, "", "host_name", default_host_name);
  if (c.host_name.empty() || c.host_name.size() > 128) invalid("host_name", "must be 1-128 characters");
  c.data_dir = resolve(base_dir, get_string(root, "", "data_dir", "var"));
  if (c.data_dir.empty()) invalid("data_dir", "must not be empty");
  c.log_level = get_string(root, "", "log_level", "info");
  check_log_level("log_level", c.log_level);
  std::string plugin_dir = get_string(root, "", "plugin_dir", "");
  plugin_dir = plugin_dir.empty() ? (fs::path(exe_dir) / ".." / "plugins").lexically_normal().string()
                                  : resolve(base_dir, plugin_dir);

  auto plugins = root.find("plugins");
  if (plugins == root.end()) invalid("plugins", "required: the department plugins this host runs, e.g. [\"police\"]");
  if (!plugins->is_array() || plugins->empty()) invalid("plugins", "must be a non-empty array of department ids");
  if (plugins->size() > 64) invalid("plugins", "at most 64 plugins per host (run a second host for more)");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < plugins->size(); ++i) {
    const std::string where = "plugins[" + std::to_string(i) + "]";
    HostedPlugin plugin = parse_plugin((*plugins)[i], where, base_dir, plugin_dir);
    if (!seen.insert(plugin.id).second) invalid(where, "department '" + plugin.id + "' is listed twice");
    c.plugins.push_back(std::move(plugin));
  }
  if (auto curve = root.find("curve"); curve != root.end()) {
    if (!curve->is_object()) invalid("curve", "must be an object: {\"hub_public_key\": …, \"secret_key_file\": …}");
    check_keys(*curve, "curve.", {"hub_public_key", "secret_key_file"});
    std::string hub_key = get_string(*curve, "curve.", "hub_public_key", "");
    if (hub_key.empty())
      invalid("curve.hub_public_key", "required: the hub's public key (40 Z85 characters) or the path of its hub.curve.pub");
    c.hub_key_source = "curve.hub_public_key in the host's configuration";
    if (!security::is_z85_key(hub_key)) {
      try {
        c.hub_key_source = resolve(base_dir, hub_key);
        hub_key = security::read_key_file(c.hub_key_source);
      } catch (const std::exception& e) {
        invalid("curve.hub_public_key", std::string("neither a key (40 Z85 characters) nor a key file: ") + e.what());
      }
    }
    const std::string secret_file = resolve(base_dir, get_string(*curve, "curve.", "secret_key_file", ""));
    if (secret_file.empty())
      invalid("curve.secret_key_file", "required: this host's secret key file (NAME.curve.key from 'hubctl keygen NAME')");
    c.key_name = std::filesystem::path(secret_file).filename().string();
    if (const auto suffix = c.key_name.rfind(".curve.key"); suffix != std::string::npos && suffix > 0)
      c.key_name.erase(suffix);
    try {
      c.secret_key = security::read_key_file(secret_file);
    } catch (const std::exception& e) {
      invalid("curve.secret_key_file", e.what());
    }
    c.curve = true;
    c.hub_public_key = hub_key;
  } else if (!is_loopback_endpoint(c.hub_endpoint)) {
    invalid("curve", "required for a hub on another machine (" + c.hub_endpoint +
                         "): {\"hub_public_key\": \"<hub.curve.pub>\", \"secret_key_file\": \"<NAME.curve.key>\"} "
                         "(docs/plugin-host.md)");
  }
  return c;
}

}  // namespace

std::variant<HostConfig, ConfigError> load_host_config(const std::string& json_text, const std::string& base_dir,
                                                       const std::string& exe_dir,
                                                       const std::string& default_host_name) {
  json root = json::parse(json_text, nullptr, false, /*ignore_comments=*/true);
  if (root.is_discarded()) return ConfigError{"", "the configuration is not valid JSON"};
  try {
    return parse(root, base_dir, exe_dir, default_host_name);
  } catch (const InvalidConfig& e) {
    return e.error;
  }
}

}  // namespace hub::pluginhost
