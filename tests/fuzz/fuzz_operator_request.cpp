// libFuzzer target: the operators' requests from outside — the JSON body of the HTTP API's
// POST /api/(parked|plugins)/<action> and the admin socket's "parked"/"plugins" request — as
// admin/operator_requests.h checks them into a typed command for the dispatcher.
//
// The first byte picks the route: one of the five HTTP actions (the body then gets "cmd",
// "action" and a default "by" as http_server.cpp gives it), or the admin socket (the body is
// the request, "cmd" forced to parked or plugins as admin_server.cpp routes it). The hub's
// departments: police (in process), schools (on a plugin host), land (disabled).
//
// Properties checked on every input:
//  - nothing throws (the admin thread would die);
//  - a refusal is an error reply with a code, a message and the field it is about (every
//    refusal but not_loaded, which is about the configuration);
//  - an accepted command holds only what the checks promise (a configured enabled department,
//    an operator name of 1-64 printable characters, a household id, an absolute library for an
//    in-process department), and survives the hand-over to the dispatcher: decoded from its
//    frame, it encodes to the same frame.
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>

#include <nlohmann/json.hpp>

#include "admin/operator_requests.h"
#include "domain/wire_event.h"
#include "fuzz_check.h"

namespace {

using nlohmann::json;
namespace dl = hub::delivery;

const hub::HubConfig& config() {
  static const hub::HubConfig c = [] {
    hub::HubConfig x;
    for (const char* id : {"police", "schools", "land"}) {
      hub::PluginConfig p;
      p.id = id;
      x.plugins.push_back(p);
    }
    x.plugins[1].placement = hub::Placement::kHost;
    x.plugins[2].enabled = false;
    return x;
  }();
  return c;
}

bool is_operator_name(const std::string& by) {
  if (by.empty() || by.size() > 64) return false;
  for (const unsigned char c : by)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

const hub::PluginConfig* plugin(const std::string& id) {
  for (const auto& p : config().plugins)
    if (p.id == id) return &p;
  return nullptr;
}

void check_command(const dl::OperatorCommand& command) {
  std::visit(
      [](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (!std::is_same_v<T, dl::PluginsList>) {
          FUZZ_CHECK(c.department.empty() || plugin(c.department) != nullptr, "only a configured department");
        }
        if constexpr (std::is_same_v<T, dl::ParkedList> || std::is_same_v<T, dl::ParkedRetry> ||
                      std::is_same_v<T, dl::ParkedSkip>) {
          FUZZ_CHECK(c.household_id.empty() || hub::is_valid_id(c.household_id), "a household id");
        }
        if constexpr (std::is_same_v<T, dl::ParkedList>) {
          FUZZ_CHECK(!c.limit || (*c.limit >= 1 && *c.limit <= 100000), "a limit in range");
        }
        if constexpr (!std::is_same_v<T, dl::ParkedList> && !std::is_same_v<T, dl::PluginsList>) {
          FUZZ_CHECK(is_operator_name(c.by), "an operator name that can be recorded");
        }
        if constexpr (std::is_same_v<T, dl::PluginReload> || std::is_same_v<T, dl::PluginDisable> ||
                      std::is_same_v<T, dl::PluginEnable>) {
          FUZZ_CHECK(plugin(c.department) != nullptr && plugin(c.department)->enabled, "an enabled department");
        }
        if constexpr (std::is_same_v<T, dl::PluginReload>) {
          FUZZ_CHECK(c.library.empty() || (c.library.front() == '/' && plugin(c.department)->placement ==
                                                                            hub::Placement::kInProcess),
                     "a library only for an in-process department, and absolute");
        }
      },
      command);
  const std::string frame = dl::encode_command(command);
  FUZZ_CHECK(dl::encode_command(dl::decode_command(frame)) == frame, "the dispatcher reads the command as sent");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* kRoutes[][2] = {{"parked", "retry"},   {"parked", "skip"},     {"plugins", "reload"},
                                     {"plugins", "enable"}, {"plugins", "disable"}, {"parked", nullptr},
                                     {"plugins", nullptr}};
  const auto& route = kRoutes[data[0] % 7];
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  json request = body.empty() ? json::object() : json::parse(body, nullptr, false);
  if (!request.is_object()) return 0;  // both servers refuse it before this (invalid_json)
  request["cmd"] = route[0];
  if (route[1] != nullptr) {  // as http_server.cpp makes the request from the route and the body
    request["action"] = route[1];
    if (!request.contains("by")) request["by"] = "http-admin";
  }

  dl::OperatorCommand command;
  const json error = hub::admin::parse_operator_request(config(), request, command);
  if (error.is_null()) {
    check_command(command);
    return 0;
  }
  FUZZ_CHECK(error.value("ok", true) == false && error.contains("error"), "an error reply");
  const json& e = error["error"];
  FUZZ_CHECK(e["code"].is_string() && !e["code"].get<std::string>().empty(), "a refusal has a code");
  FUZZ_CHECK(e["message"].is_string() && !e["message"].get<std::string>().empty(), "a refusal says why");
  FUZZ_CHECK(e["code"] == "not_loaded" || (e.contains("field") && !e["field"].get<std::string>().empty()),
             "a refusal names its field");
  (void)error.dump();  // sent as it is
  return 0;
}
