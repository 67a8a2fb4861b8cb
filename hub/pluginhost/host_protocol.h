// The wire between hubd's plugin-host endpoint and hub-plugin-host (docs/protocol.md, "Plugin
// hosts"): every message is one ZeroMQ frame of UTF-8 JSON with a "type"; the hub's ROUTER
// adds the routing envelope. This file turns the in-process delivery values (LoggedEvent,
// Report, PolicyAction, a department's PluginConfig) into that JSON and back.
//
// Decoding never trusts the other side: every decoder throws ProtocolError naming the field.
// decode_report() goes further, because the hub must not trust a remote host: it checks the
// report against the request it answers (sequence range, order) and the actions against the
// department's catalogue, and turns anything invalid into a failed Report, so a broken or
// hostile host can delay its own department but never corrupt the ledger.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/hub_config.h"
#include "runtime/worker_messages.h"
#include "domain/logged_event.h"
#include "pluginhost/supervisor.h"

namespace hub::pluginhost {

// Version of this wire protocol, sent in "hello"; the hub refuses another.
constexpr int kProtocolVersion = 1;
// The host pings this often; either side gives the other up after kSilenceTimeoutMs without
// hearing from it (a ping, pong or any other message).
constexpr int kHeartbeatMs = 1000;
constexpr int kSilenceTimeoutMs = 4000;
// After a TCP connection to the hub's endpoint closed, each host must be heard within this
// (it pings every kHeartbeatMs), so a killed host is given up quickly.
constexpr int kSuspectTimeoutMs = 2000;

struct ProtocolError : std::runtime_error {
  ProtocolError(std::string field_name, const std::string& message)
      : std::runtime_error(field_name + ": " + message), field(std::move(field_name)) {}
  std::string field;
};

// Field access with errors naming `where` + key.
std::string string_field(const nlohmann::json& o, const std::string& where, const char* key);
std::uint64_t uint_field(const nlohmann::json& o, const std::string& where, const char* key);
// Parses one frame into a JSON object with a string "type"; throws ProtocolError otherwise.
nlohmann::json parse_message(const std::string& frame);
// {"type":"error"|"refused","error":{"code","message"}}
nlohmann::json error_message(const std::string& type, const std::string& code, const std::string& message);

// `department`: only what it may receive — an event it does not subscribe to as {"seq","withheld"},
// the others with only the fields its configuration lists (data minimisation). nullptr: all.
nlohmann::json encode_event(const LoggedEvent& event, const PluginConfig* department = nullptr);
LoggedEvent decode_event(const nlohmann::json& j, const std::string& where);

nlohmann::json encode_actions(const std::vector<hub::sdk::PolicyAction>& actions);
std::vector<hub::sdk::PolicyAction> decode_actions(const nlohmann::json& j, const std::string& where);

// The longest call timeout a hub may give a host (a day, as in the hub's configuration).
constexpr std::uint64_t kMaxCallTimeoutMs = 86'400'000;

// A department as the welcome message carries it: id, catalogue, settings, subscription, call
// timeout.
nlohmann::json encode_department(const PluginConfig& plugin);
// The host's side; `library` is the host's own .so for that department.
PluginConfig decode_department(const nlohmann::json& j, const std::string& where, const std::string& library);

// The "restart" object of a hello sent by a host its supervisor restarted after a crash.
nlohmann::json encode_restart(const Restart& restart);
Restart decode_restart(const nlohmann::json& j);  // throws ProtocolError naming "restart.<key>"

// Host side: the worker's Report as the "report" message's fields (without type/session).
nlohmann::json encode_report(const runtime::Report& report);
// The "error" object of a refused, error or failed started message: {"code", "message"}. It is
// only logged and shown, so a missing or malformed part gives `fallback_code` / no text (capped
// at 2000 bytes) instead of an error.
struct WireError {
  std::string code;
  std::string message;
};
WireError decode_error(const nlohmann::json& message, const std::string& fallback_code);

// Host side: a worker's Started as the "started" message's fields (without type/department).
nlohmann::json encode_started(const runtime::Started& started);
// Hub side: the Started a "started" message says (host name and the department's reload
// bookkeeping are the caller's); throws ProtocolError naming the field.
runtime::Started decode_started(const nlohmann::json& message);

// Hub side: the Report to hand the dispatcher for a host's answer to `request`; invalid
// answers become a failure of the request's first event with the reason.
runtime::Report decode_report(const nlohmann::json& message, const runtime::Request& request,
                               const PluginConfig& plugin);

}  // namespace hub::pluginhost
