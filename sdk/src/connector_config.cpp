// Connector configuration (parse_connector_config), the factory, and the JSON that both
// connectors hand to the department: the same fields, whether posted as one batch per event
// or written as one spool line per action. Text that is not valid UTF-8 (a plugin's reason)
// is written with U+FFFD replacement characters rather than failing the hand-off.
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "connector_internal.h"
#include "hub/sdk/connectors.h"

namespace hub::sdk {
namespace {

using nlohmann::json;

// Limits that catch typos (a timeout in seconds written as milliseconds, a misplaced zero).
constexpr std::int64_t kMaxTimeoutMs = 600'000;
constexpr std::int64_t kMaxBackoffMs = 3'600'000;
constexpr int kMaxAttempts = 20;

struct Invalid {
  std::string key;
  std::string message;
};

void check_keys(const json& object, const std::set<std::string>& allowed) {
  for (const auto& [key, value] : object.items()) {
    (void)value;
    if (allowed.count(key) != 0) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw Invalid{key, "unknown key (allowed here: " + list + ")"};
  }
}

std::int64_t get_int(const json& o, const char* key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const auto it = o.find(key);
  if (it == o.end()) return fallback;
  const std::string range = "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (!it->is_number_integer()) throw Invalid{key, range + " (got " + it->dump() + ")"};
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max))
    throw Invalid{key, range + " (got " + it->dump() + ")"};
  const auto value = it->get<std::int64_t>();
  if (value < min || value > max) throw Invalid{key, range + " (got " + it->dump() + ")"};
  return value;
}

std::string get_string(const json& o, const char* key) {
  const auto it = o.find(key);
  if (it == o.end()) return {};
  if (!it->is_string()) throw Invalid{key, "must be a string"};
  return it->get<std::string>();
}

// Header names are HTTP tokens; values must not smuggle in line breaks.
void check_header(const std::string& name, const json& value) {
  const std::string key = "headers." + name;
  static const std::string kTokenPunctuation = "!#$%&'*+-.^_`|~";
  if (name.empty()) throw Invalid{"headers", "a header name must not be empty"};
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && kTokenPunctuation.find(c) == std::string::npos)
      throw Invalid{key, "not a valid HTTP header name"};
  if (!value.is_string()) throw Invalid{key, "must be a string"};
  const auto& text = value.get_ref<const std::string&>();
  if (text.find_first_of("\r\n") != std::string::npos) throw Invalid{key, "must not contain line breaks"};
  static const std::set<std::string> kReserved{"idempotency-key", "content-type", "content-length", "host"};
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (kReserved.count(lower) != 0) throw Invalid{key, "is set by the connector and cannot be configured"};
}

ConnectorConfig parse_object(const json& root) {
  if (!root.is_object()) throw Invalid{"", "must be an object such as {\"type\":\"spool\",\"dir\":\"…\"}"};
  const std::string type = get_string(root, "type");
  ConnectorConfig config;
  if (type == "none") {
    check_keys(root, {"type"});
  } else if (type == "spool") {
    check_keys(root, {"type", "dir"});
    config.type = ConnectorConfig::Type::kSpool;
    config.spool.dir = get_string(root, "dir");
  } else if (type == "webhook") {
    check_keys(root, {"type", "url", "timeout_ms", "attempts", "backoff_initial_ms", "backoff_max_ms", "headers"});
    config.type = ConnectorConfig::Type::kWebhook;
    WebhookOptions& w = config.webhook;
    w.url = get_string(root, "url");
    if (w.url.empty()) throw Invalid{"url", "required: the department system's URL, e.g. http://10.0.0.5:8080/hub"};
    std::string url_error;
    if (!detail::parse_webhook_url(w.url, &url_error)) throw Invalid{"url", url_error};
    w.timeout_ms = get_int(root, "timeout_ms", w.timeout_ms, 1, kMaxTimeoutMs);
    w.attempts = static_cast<int>(get_int(root, "attempts", w.attempts, 1, kMaxAttempts));
    w.backoff_initial_ms = get_int(root, "backoff_initial_ms", w.backoff_initial_ms, 0, kMaxBackoffMs);
    w.backoff_max_ms = get_int(root, "backoff_max_ms", std::max(w.backoff_max_ms, w.backoff_initial_ms),
                               w.backoff_initial_ms, kMaxBackoffMs);
    if (const auto it = root.find("headers"); it != root.end()) {
      if (!it->is_object()) throw Invalid{"headers", "must be an object of header names to strings"};
      for (const auto& [name, value] : it->items()) {
        check_header(name, value);
        w.headers[name] = value.get<std::string>();
      }
    }
  } else {
    throw Invalid{"type", type.empty() ? "required: \"spool\", \"webhook\" or \"none\""
                                       : "unknown connector type '" + type + "' (spool, webhook or none)"};
  }
  return config;
}

json action_json(const PolicyAction& action) {
  return {{"policy_id", action.policy_id},
          {"action", to_string(action.action)},
          {"amount_fen", action.amount_fen ? json(*action.amount_fen) : json(nullptr)},
          {"reason", action.reason}};
}

// The department part of an idempotency key "<department>:<seq>".
std::string key_department(const Event& event) {
  const auto colon = event.idempotency_key.rfind(':');
  return colon == std::string::npos ? event.idempotency_key : event.idempotency_key.substr(0, colon);
}

json event_json(const Event& event) {
  return {{"idempotency_key", event.idempotency_key},
          {"department", key_department(event)},
          {"seq", event.sequence},
          {"event_id", event.event_id},
          {"household_id", event.household_id},
          {"village", event.village},
          {"quarter", event.quarter},
          {"correction", event.correction}};
}

}  // namespace

std::string_view to_string(ConnectorConfig::Type type) noexcept {
  switch (type) {
    case ConnectorConfig::Type::kNone: return "none";
    case ConnectorConfig::Type::kSpool: return "spool";
    case ConnectorConfig::Type::kWebhook: return "webhook";
  }
  return "none";
}

std::optional<ConnectorConfig> parse_connector_config(std::string_view json_text, std::string* error_key,
                                                      std::string* error) {
  const json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  try {
    if (root.is_discarded()) throw Invalid{"", "not valid JSON"};
    return parse_object(root);
  } catch (const Invalid& invalid) {
    if (error_key) *error_key = invalid.key;
    if (error) *error = invalid.message;
    return std::nullopt;
  }
}

std::unique_ptr<Connector> make_connector(const ConnectorConfig& config, std::string* error) {
  switch (config.type) {
    case ConnectorConfig::Type::kNone: return nullptr;
    case ConnectorConfig::Type::kSpool: return detail::make_spool_connector(config.spool, error);
    case ConnectorConfig::Type::kWebhook: return detail::make_webhook_connector(config.webhook, error);
  }
  return nullptr;
}

std::string actions_batch_json(const Event& event, const std::vector<PolicyAction>& actions) {
  json batch = event_json(event);
  json list = json::array();
  for (const auto& action : actions) list.push_back(action_json(action));
  batch["actions"] = std::move(list);
  return batch.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string actions_jsonl(const Event& event, const std::vector<PolicyAction>& actions) {
  const json common = event_json(event);
  std::string out;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    json line = common;
    line["action_index"] = i;
    line["action_count"] = actions.size();
    line.update(action_json(actions[i]));
    out += line.dump(-1, ' ', false, json::error_handler_t::replace);
    out += '\n';
  }
  return out;
}

std::string spool_file_name(const Event& event) {
  std::string department = key_department(event);
  for (char& c : department)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  std::string seq = std::to_string(event.sequence);
  seq.insert(0, 20 - seq.size(), '0');  // uint64 has at most 20 digits
  return department + "-" + seq + ".jsonl";
}

}  // namespace hub::sdk
