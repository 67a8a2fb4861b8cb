// Helpers for reading one field of a JSON configuration with a clear error, shared by hubd's
// configuration (hub_config.h) and the plugin host's (pluginhost/host_config.h).
//
// Each helper throws InvalidConfig naming the key as the user wrote it (e.g. "plugins[2].id",
// built from `where` + key); the loaders catch it once and return it as a ConfigError value.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/hub_config.h"

namespace hub::config_fields {

struct InvalidConfig {
  ConfigError error;
};

[[noreturn]] void invalid(const std::string& key, const std::string& message);

// Refuses any key of `object` that is not in `allowed`, listing the allowed ones.
void check_keys(const nlohmann::json& object, const std::string& where, const std::set<std::string>& allowed);
std::string get_string(const nlohmann::json& o, const std::string& where, const char* key, const std::string& fallback);
std::int64_t get_int(const nlohmann::json& o, const std::string& where, const char* key, std::int64_t fallback,
                     std::int64_t min, std::int64_t max);
std::vector<std::string> get_string_list(const nlohmann::json& o, const std::string& where, const char* key);
// A ZeroMQ endpoint (tcp:// or ipc://).
void check_endpoint(const std::string& key, const std::string& endpoint);
// `path` made absolute against `base` (empty stays empty).
std::string resolve(const std::string& base, const std::string& path);
// debug, info, warn or error.
void check_log_level(const std::string& key, const std::string& level);

// The running program's own directory (default plugin_dir is this/../plugins).
std::string executable_dir();

}  // namespace hub::config_fields
