// hub-plugin-host's own configuration (a small JSON file on the department's server): which
// hub to connect to, which department plugins to run, where their libraries and data live.
// The departments' catalogues and settings are NOT here: they stay in the hub's configuration
// and arrive in the hub's "welcome" (docs/plugin-host.md).
//
// load_host_config() validates everything before the host starts: an unknown key, a wrong type
// or an impossible value is a ConfigError naming the key (e.g. "plugins[1].id").
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "config/hub_config.h"

namespace hub::pluginhost {

struct HostedPlugin {
  std::string id;       // department id, e.g. "police"
  std::string library;  // absolute path of its .so
};

struct HostConfig {
  std::string hub_endpoint;  // the hub's endpoints.plugin_hosts, e.g. tcp://10.0.0.5:7002
  std::string host_name;     // how the hub's log and status name this host
  std::string data_dir;      // plugins keep their data in data_dir/plugins/<id>/
  std::string log_level = "info";
  std::vector<HostedPlugin> plugins;
  // "curve": {"hub_public_key": "<40 Z85, or the path of the hub's hub.curve.pub>",
  //           "secret_key_file": "<path of this host's NAME.curve.key>"}. Required unless the hub
  // is on this machine (loopback or ipc) and runs with security.mode "insecure".
  bool curve = false;
  std::string hub_public_key;  // Z85
  std::string hub_key_source;  // the hub.curve.pub file it was read from, or "host.json" (for messages)
  std::string secret_key;      // Z85, read from secret_key_file
  std::string key_name;        // NAME of secret_key_file's NAME.curve.key (for messages)
};

// `base_dir`: relative paths resolve against it (the config file's directory); `exe_dir`: the
// host's own directory (the default plugin_dir is exe_dir/../plugins, as for hubd);
// `default_host_name`: used when "host_name" is not given (the machine's host name).
std::variant<HostConfig, ConfigError> load_host_config(const std::string& json_text, const std::string& base_dir,
                                                       const std::string& exe_dir,
                                                       const std::string& default_host_name);

}  // namespace hub::pluginhost
