#include "config/config_fields.h"

#include <filesystem>

namespace hub::config_fields {

using nlohmann::json;
namespace fs = std::filesystem;

[[noreturn]] void invalid(const std::string& key, const std::string& message) { throw InvalidConfig{{key, message}}; }

void check_keys(const json& object, const std::string& where, const std::set<std::string>& allowed) {
  for (const auto& [key, value] : object.items()) {
    (void)value;
    if (allowed.count(key) == 0) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      invalid(where + key, "unknown key (allowed here: " + list + ")");
    }
  }
}

std::string get_string(const json& o, const std::string& where, const char* key, const std::string& fallback) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (!it->is_string()) invalid(where + key, "must be a string");
  return it->get<std::string>();
}

std::int64_t get_int(const json& o, const std::string& where, const char* key, std::int64_t fallback, std::int64_t min,
                     std::int64_t max) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (!it->is_number_integer()) invalid(where + key, "must be a whole number");
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max))
    invalid(where + key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " +
                             std::to_string(it->get<std::uint64_t>()) + ")");
  const auto v = it->get<std::int64_t>();
  if (v < min || v > max)
    invalid(where + key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " +
                             std::to_string(v) + ")");
  return v;
}

void check_endpoint(const std::string& key, const std::string& ep) {
  if (ep.rfind("tcp://", 0) != 0 && ep.rfind("ipc://", 0) != 0)
    invalid(key, "must be a ZeroMQ endpoint such as tcp://127.0.0.1:7001 (got '" + ep + "')");
}

std::string resolve(const std::string& base, const std::string& path) {
  if (path.empty()) return path;
  fs::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(base) / p).lexically_normal().string();
}

std::vector<std::string> get_string_list(const json& o, const std::string& where, const char* key) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end()) return out;
  if (!it->is_array()) invalid(where + key, "must be an array of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) invalid(where + key, "must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

void check_log_level(const std::string& key, const std::string& level) {
  static const std::set<std::string> levels{"debug", "info", "warn", "error"};
  if (levels.count(level) == 0) invalid(key, "must be debug, info, warn or error");
}

std::string executable_dir() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path().string() : p.parent_path().string();
}

}  // namespace hub::config_fields
