#include "admin/operator_requests.h"

#include <cstdint>
#include <optional>
#include <string>

#include "domain/status_json.h"
#include "domain/wire_event.h"

namespace hub::admin {

namespace {

using nlohmann::json;

// Reads an optional string field; sets `error` when it is there but not a string.
std::optional<std::string> optional_string(const json& request, const char* field, json& error) {
  auto it = request.find(field);
  if (it == request.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    error = error_reply("invalid_field", std::string("\"") + field + "\" must be a string", field);
    return std::nullopt;
  }
  return it->get<std::string>();
}

// The operator's name: 1-64 printable characters, no control characters.
std::optional<std::string> operator_name(const json& request, json& error) {
  auto it = request.find("by");
  if (it == request.end() || !it->is_string() || it->get<std::string>().empty()) {
    error = error_reply(it == request.end() ? "missing_field" : "invalid_field",
                        "\"by\" is required: the name of the operator doing this (it is recorded)", "by");
    return std::nullopt;
  }
  const std::string by = it->get<std::string>();
  bool ok = by.size() <= 64;
  for (const unsigned char c : by) ok = ok && c >= 0x20 && c != 0x7f;
  if (!ok) {
    error = error_reply("invalid_field", "\"by\" must be 1-64 characters without control characters", "by");
    return std::nullopt;
  }
  return by;
}

const PluginConfig* find_plugin(const HubConfig& config, const std::string& id) {
  for (const auto& plugin : config.plugins)
    if (plugin.id == id) return &plugin;
  return nullptr;
}

json unknown_department(const std::string& id) {
  return error_reply("unknown_department", "no department '" + id + "' in this hub", "department");
}

json parked_request(const HubConfig& config, const json& request, delivery::OperatorCommand& command) {
  json error;
  auto action = optional_string(request, "action", error);
  if (!error.is_null()) return error;
  if (!action) action = "list";  // {"cmd":"parked"}, as the dashboard asks
  if (*action != "list" && *action != "retry" && *action != "skip")
    return error_reply("unknown_action", "parked needs \"action\": \"list\", \"retry\" or \"skip\"", "action");
  const auto department = optional_string(request, "department", error);
  if (!error.is_null()) return error;
  if (department && find_plugin(config, *department) == nullptr) return unknown_department(*department);
  const auto household = optional_string(request, "household_id", error);
  if (!error.is_null()) return error;
  if (household && !is_valid_id(*household))
    return error_reply("invalid_field", "\"household_id\" must be a household id such as V03-00417", "household_id");
  std::uint64_t seq = 0;
  if (auto it = request.find("seq"); it != request.end() && !it->is_null()) {
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() == 0)
      return error_reply("invalid_field", "\"seq\" must be a positive whole number", "seq");
    seq = it->get<std::uint64_t>();
  }

  if (*action == "list") {
    delivery::ParkedList list;
    list.department = department.value_or("");
    list.household_id = household.value_or("");
    list.seq = seq;
    if (auto it = request.find("all"); it != request.end() && !it->is_null()) {
      if (!it->is_boolean()) return error_reply("invalid_field", "\"all\" must be true or false", "all");
      list.all = it->get<bool>();
    }
    if (auto it = request.find("limit"); it != request.end() && !it->is_null()) {
      if (!it->is_number_unsigned() || it->get<std::uint64_t>() == 0 || it->get<std::uint64_t>() > 100000)
        return error_reply("invalid_field", "\"limit\" must be between 1 and 100000", "limit");
      list.limit = it->get<std::size_t>();
    }
    command = std::move(list);
    return nullptr;
  }
  const auto by = operator_name(request, error);
  if (!by) return error;
  if (*action == "skip")
    command = delivery::ParkedSkip{department.value_or(""), household.value_or(""), seq, *by};
  else
    command = delivery::ParkedRetry{department.value_or(""), household.value_or(""), seq, *by};
  return nullptr;
}

json plugins_request(const HubConfig& config, const json& request, delivery::OperatorCommand& command) {
  json error;
  auto action = optional_string(request, "action", error);
  if (!error.is_null()) return error;
  if (!action) action = "list";  // {"cmd":"plugins"}, as the dashboard asks
  if (*action != "list" && *action != "reload" && *action != "disable" && *action != "enable")
    return error_reply("unknown_action", "plugins needs \"action\": \"list\", \"reload\", \"disable\" or \"enable\"",
                       "action");
  if (*action == "list") {
    command = delivery::PluginsList{};
    return nullptr;
  }
  const auto department = optional_string(request, "department", error);
  if (!error.is_null()) return error;
  if (!department) return error_reply("missing_field", "\"department\" is required", "department");
  const PluginConfig* plugin = find_plugin(config, *department);
  if (plugin == nullptr) return unknown_department(*department);
  const auto by = operator_name(request, error);
  if (!by) return error;
  if (!plugin->enabled)
    return error_reply("not_loaded", "department '" + plugin->id +
                                         "' is disabled in the configuration (\"enabled\": false); enable it there and "
                                         "restart hubd");
  const auto reason = optional_string(request, "reason", error);
  if (!error.is_null()) return error;
  if (reason) {
    if (*action != "disable")
      return error_reply("invalid_field", "\"reason\" is recorded only with \"action\": \"disable\"", "reason");
    bool ok = !reason->empty() && reason->size() <= 500;
    for (const unsigned char c : *reason) ok = ok && c >= 0x20 && c != 0x7f;
    if (!ok) return error_reply("invalid_field", "\"reason\" must be 1-500 characters without control characters", "reason");
  }
  if (*action == "enable") {
    command = delivery::PluginEnable{plugin->id, *by};
    return nullptr;
  }
  if (*action == "disable") {
    command = delivery::PluginDisable{plugin->id, reason.value_or(""), *by};
    return nullptr;
  }
  const auto library = optional_string(request, "library", error);
  if (!error.is_null()) return error;
  // The host loads only the library its own configuration names: the hub cannot make a
  // department's server load a file of the hub's choosing.
  if (library && plugin->placement == Placement::kHost)
    return error_reply("not_supported", "'" + plugin->id +
                                            "' runs on a plugin host, which reloads only the library its own "
                                            "configuration names: replace that file on the department's server "
                                            "and reload without \"library\"",
                       "library");
  if (library && (library->empty() || library->front() != '/'))
    return error_reply("invalid_field", "\"library\" must be an absolute path to the plugin's .so", "library");
  command = delivery::PluginReload{plugin->id, library.value_or(""), *by};
  return nullptr;
}

}  // namespace

json parse_operator_request(const HubConfig& config, const json& request, delivery::OperatorCommand& command) {
  return request["cmd"] == "parked" ? parked_request(config, request, command)
                                    : plugins_request(config, request, command);
}

}  // namespace hub::admin
