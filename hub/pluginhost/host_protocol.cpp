#include "pluginhost/host_protocol.h"

#include <algorithm>
#include <iterator>

#include "runtime/plugin_worker.h"
#include "hub/loader/action_validator.h"
#include "runtime/subscription.h"

namespace hub::pluginhost {

using nlohmann::json;
using hub::sdk::HouseholdStatus;

namespace {

constexpr std::size_t kMaxReasonChars = 2000;  // a failure reason from a host, as shown to administrators

const json& member(const json& o, const std::string& where, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) throw ProtocolError(where + key, "missing");
  return *it;
}

bool bool_field(const json& o, const std::string& where, const char* key, bool fallback) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (!it->is_boolean()) throw ProtocolError(where + key, "must be true or false");
  return it->get<bool>();
}

const json& array_field(const json& o, const std::string& where, const char* key) {
  const json& v = member(o, where, key);
  if (!v.is_array()) throw ProtocolError(where + key, "must be an array");
  return v;
}

std::vector<std::string> string_list(const json& o, const std::string& where, const char* key) {
  std::vector<std::string> out;
  for (const auto& v : array_field(o, where, key)) {
    if (!v.is_string()) throw ProtocolError(where + key, "must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

HouseholdStatus status_field(const json& o, const std::string& where, const char* key) {
  const auto status = hub::sdk::parse_household_status(string_field(o, where, key));
  if (!status) throw ProtocolError(where + key, "unknown status");
  return *status;
}

EventType event_type_field(const json& o, const std::string& where) {
  const std::string type = string_field(o, where, "type");
  for (EventType t : {EventType::kHousehold, EventType::kCommitment, EventType::kStatusChange})
    if (to_string(t) == type) return t;
  throw ProtocolError(where + "type", "unknown event type '" + type + "'");
}

json object_field(const json& o, const std::string& where, const char* key) {
  const json& v = member(o, where, key);
  if (!v.is_object()) throw ProtocolError(where + key, "must be an object");
  return v;
}

}  // namespace

std::string string_field(const json& o, const std::string& where, const char* key) {
  const json& v = member(o, where, key);
  if (!v.is_string()) throw ProtocolError(where + key, "must be a string");
  return v.get<std::string>();
}

std::uint64_t uint_field(const json& o, const std::string& where, const char* key) {
  const json& v = member(o, where, key);
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0) throw ProtocolError(where + key, "must be a whole number >= 0");
  return static_cast<std::uint64_t>(v.get<std::int64_t>());
}

json parse_message(const std::string& frame) {
  json message = json::parse(frame, nullptr, false);
  if (message.is_discarded() || !message.is_object()) throw ProtocolError("", "not a JSON object");
  (void)string_field(message, "", "type");
  return message;
}

json error_message(const std::string& type, const std::string& code, const std::string& message) {
  return {{"type", type}, {"error", {{"code", code}, {"message", message}}}};
}

json encode_event(const LoggedEvent& e, const PluginConfig* department) {
  if (department != nullptr && !runtime::subscribed(*department, e)) return {{"seq", e.seq}, {"withheld", true}};
  const std::uint32_t f = department != nullptr ? department->fields : kAllEventFields;
  json j{{"seq", e.seq},
         {"type", to_string(e.type)},
         {"household_id", e.household_id},
         {"status", hub::sdk::to_string(e.status)}};
  if (f & kFieldEventId) j["event_id"] = e.event_id;
  if (f & kFieldVillage) j["village"] = e.village;
  if (f & kFieldPreviousStatus) j["previous_status"] = hub::sdk::to_string(e.previous_status);
  if (f & kFieldQuarter) j["quarter"] = e.quarter;
  if (f & kFieldPreviousQuarter) j["previous_quarter"] = e.previous_quarter;
  if (f & kFieldEffectiveDate) j["effective_date"] = e.effective_date;
  if (f & kFieldDesignations) j["designations"] = e.designations;
  if (f & kFieldCorrection) {
    j["correction"] = e.correction;
    if (!e.complaint_id.empty()) j["complaint_id"] = e.complaint_id;
  }
  if (e.past_quarter) j["past_quarter"] = true;
  return j;
}

LoggedEvent decode_event(const json& j, const std::string& where) {
  if (!j.is_object()) throw ProtocolError(where.substr(0, where.size() - 1), "must be an object");
  LoggedEvent e;
  e.seq = uint_field(j, where, "seq");
  if (bool_field(j, where, "withheld", false)) {
    e.withheld = true;  // not for this department: only its place in the sequence
    return e;
  }
  e.type = event_type_field(j, where);
  e.household_id = string_field(j, where, "household_id");
  e.status = status_field(j, where, "status");
  // The rest only when the department may receive it (its "fields" in the hub's configuration).
  auto optional_string = [&](const char* key) { return j.contains(key) ? string_field(j, where, key) : std::string(); };
  e.event_id = optional_string("event_id");
  e.village = optional_string("village");
  if (j.contains("previous_status")) e.previous_status = status_field(j, where, "previous_status");
  e.quarter = optional_string("quarter");
  e.previous_quarter = optional_string("previous_quarter");
  e.effective_date = optional_string("effective_date");
  if (j.contains("designations")) e.designations = string_list(j, where, "designations");
  e.correction = bool_field(j, where, "correction", false);
  e.past_quarter = bool_field(j, where, "past_quarter", false);
  e.complaint_id = optional_string("complaint_id");
  return e;
}

json encode_actions(const std::vector<hub::sdk::PolicyAction>& actions) {
  json out = json::array();
  for (const auto& a : actions) {
    json j{{"policy_id", a.policy_id},
           {"household_id", a.household_id},
           {"action", hub::sdk::to_string(a.action)},
           {"reason", a.reason}};
    if (a.amount_fen) j["amount_fen"] = *a.amount_fen;
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<hub::sdk::PolicyAction> decode_actions(const json& j, const std::string& where) {
  if (!j.is_array()) throw ProtocolError(where.substr(0, where.size() - 1), "must be an array");
  std::vector<hub::sdk::PolicyAction> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string at = where.substr(0, where.size() - 1) + "[" + std::to_string(i) + "].";
    const json& a = j[i];
    if (!a.is_object()) throw ProtocolError(at.substr(0, at.size() - 1), "must be an object");
    hub::sdk::PolicyAction action;
    action.policy_id = string_field(a, at, "policy_id");
    action.household_id = string_field(a, at, "household_id");
    const auto kind = hub::sdk::parse_action_kind(string_field(a, at, "action"));
    if (!kind) throw ProtocolError(at + "action", "unknown action");
    action.action = *kind;
    action.reason = string_field(a, at, "reason");
    if (auto amount = a.find("amount_fen"); amount != a.end() && !amount->is_null()) {
      if (!amount->is_number_integer()) throw ProtocolError(at + "amount_fen", "must be a whole number of fen");
      action.amount_fen = amount->get<std::int64_t>();
    }
    out.push_back(std::move(action));
  }
  return out;
}

json encode_department(const PluginConfig& plugin) {
  return {{"id", plugin.id},
          {"catalogue", json::parse(plugin.catalogue_json)},
          {"settings", json::parse(plugin.settings_json)},
          {"villages", plugin.villages},
          {"statuses", plugin.statuses},
          {"call_timeout_ms", plugin.call_timeout_ms}};
}

PluginConfig decode_department(const json& j, const std::string& where, const std::string& library) {
  if (!j.is_object()) throw ProtocolError(where.substr(0, where.size() - 1), "must be an object");
  PluginConfig plugin;
  plugin.id = string_field(j, where, "id");
  plugin.library = library;
  plugin.catalogue_json = object_field(j, where, "catalogue").dump();
  std::string error;
  auto catalogue = hub::sdk::Catalogue::parse(plugin.catalogue_json, &error);
  if (!catalogue) throw ProtocolError(where + "catalogue", error);
  plugin.catalogue = std::move(*catalogue);
  plugin.settings_json = object_field(j, where, "settings").dump();
  plugin.villages = string_list(j, where, "villages");
  plugin.statuses = string_list(j, where, "statuses");
  if (j.contains("call_timeout_ms")) {  // absent from hubs before 1.3: the default
    const std::uint64_t ms = uint_field(j, where, "call_timeout_ms");
    if (ms == 0 || ms > kMaxCallTimeoutMs)
      throw ProtocolError(where + "call_timeout_ms", "must be 1.." + std::to_string(kMaxCallTimeoutMs));
    plugin.call_timeout_ms = static_cast<std::int64_t>(ms);
  }
  return plugin;
}

json encode_restart(const Restart& restart) {
  return {{"count", restart.count},
          {"exit", restart.exit},
          {"department", restart.department},
          {"phase", restart.phase},
          {"seq", restart.seq},
          {"replaces_session", restart.replaces_session},
          {"start_delay_ms", restart.start_delay_ms}};
}

Restart decode_restart(const json& j) {
  if (!j.is_object()) throw ProtocolError("restart", "must be an object");
  auto bounded = [&j](const char* key, std::size_t max_chars) {
    std::string value = string_field(j, "restart.", key);
    if (value.size() > max_chars)
      throw ProtocolError(std::string("restart.") + key, "longer than " + std::to_string(max_chars) + " bytes");
    return value;
  };
  Restart r;
  const std::uint64_t count = uint_field(j, "restart.", "count");
  if (count == 0 || count > 1'000'000) throw ProtocolError("restart.count", "must be 1..1000000");
  r.count = static_cast<int>(count);
  r.exit = bounded("exit", 200);
  r.department = bounded("department", 64);
  r.phase = bounded("phase", 32);
  static const char* kPhases[] = {"", "idle", "loading", "starting", "handling", "ending_batch", "stopping"};
  if (std::find(std::begin(kPhases), std::end(kPhases), r.phase) == std::end(kPhases))
    throw ProtocolError("restart.phase", "unknown phase '" + r.phase + "'");
  r.seq = uint_field(j, "restart.", "seq");
  r.replaces_session = bounded("replaces_session", 79);
  const std::uint64_t delay = uint_field(j, "restart.", "start_delay_ms");
  if (delay > 3'600'000) throw ProtocolError("restart.start_delay_ms", "must be at most 3600000");
  r.start_delay_ms = static_cast<std::int64_t>(delay);
  return r;
}

WireError decode_error(const json& message, const std::string& fallback_code) {
  WireError out{fallback_code, ""};
  auto error = message.find("error");
  if (error == message.end() || !error->is_object()) return out;
  if (auto code = error->find("code"); code != error->end() && code->is_string() && !code->get_ref<const std::string&>().empty())
    out.code = code->get<std::string>().substr(0, kMaxReasonChars);
  if (auto text = error->find("message"); text != error->end() && text->is_string())
    out.message = text->get<std::string>().substr(0, kMaxReasonChars);
  return out;
}

json encode_started(const runtime::Started& started) {
  json out{{"ok", started.ok}};
  if (started.reload) {
    out["reload"] = true;
    out["keeps_running"] = started.keeps_running;
    out["library"] = started.library;
  }
  if (started.ok) {
    out["plugin_version"] = started.info.version;
    out["abi_version"] = started.info.abi_version;
  } else {
    out["error"] = {{"code", started.error_code}, {"message", started.error}};
  }
  return out;
}

runtime::Started decode_started(const json& message) {
  runtime::Started started;
  started.ok = bool_field(message, "", "ok", false);
  if (bool_field(message, "", "reload", false)) {
    started.reload = true;
    started.keeps_running = bool_field(message, "", "keeps_running", false);
    if (message.contains("library")) started.library = string_field(message, "", "library");
  }
  if (started.ok) {
    started.info.version = string_field(message, "", "plugin_version");
    const std::uint64_t abi = uint_field(message, "", "abi_version");
    if (abi > UINT32_MAX) throw ProtocolError("abi_version", "must be at most " + std::to_string(UINT32_MAX));
    started.info.abi_version = static_cast<std::uint32_t>(abi);
  } else {
    WireError error = decode_error(message, "start_failed");
    started.error_code = std::move(error.code);
    started.error = std::move(error.message);
  }
  return started;
}

json encode_report(const runtime::Report& report) {
  json out{{"done_upto", report.done_upto}, {"skipped", report.skipped}};
  json delivered = json::array();
  for (const auto& d : report.delivered) delivered.push_back({{"seq", d.seq}, {"actions", encode_actions(d.actions)}});
  out["delivered"] = std::move(delivered);
  if (report.failed) {
    out["failed"] = {{"seq", report.failed_seq}, {"reason", report.failure}};
    if (report.culprit_seq != 0 && report.culprit_seq != report.failed_seq) out["failed"]["culprit_seq"] = report.culprit_seq;
  }
  return out;
}

namespace {

// The checks of decode_report(); throws ProtocolError naming what is wrong.
runtime::Report checked_report(const json& message, const runtime::Request& request, const PluginConfig& plugin) {
  const EventChunk& chunk = *request.chunk;
  const std::uint64_t first = chunk.first_seq + request.begin;
  const std::uint64_t last = chunk.first_seq + request.end - 1;
  runtime::Report report;
  report.generation = request.generation;
  report.done_upto = first - 1;
  if (bool_field(message, "", "skipped", false)) {
    report.skipped = true;
    return report;
  }
  const std::uint64_t done_upto = uint_field(message, "", "done_upto");
  if (done_upto + 1 < first || done_upto > last)
    throw ProtocolError("done_upto", std::to_string(done_upto) + " is outside the request's events " +
                                         std::to_string(first) + ".." + std::to_string(last));
  report.done_upto = done_upto;
  std::uint64_t previous = first - 1;
  const json& delivered = array_field(message, "", "delivered");
  for (std::size_t i = 0; i < delivered.size(); ++i) {
    const std::string where = "delivered[" + std::to_string(i) + "].";
    if (!delivered[i].is_object()) throw ProtocolError(where.substr(0, where.size() - 1), "must be an object");
    const std::uint64_t seq = uint_field(delivered[i], where, "seq");
    if (seq <= previous || seq > done_upto)
      throw ProtocolError(where + "seq", std::to_string(seq) + " is out of order or beyond done_upto");
    previous = seq;
    const LoggedEvent& event = chunk.events[seq - chunk.first_seq];
    if (event.type != EventType::kStatusChange)
      throw ProtocolError(where + "seq", std::to_string(seq) + " is not a status change");
    auto actions = decode_actions(member(delivered[i], where, "actions"), where + "actions.");
    if (auto problem = hub::validate_actions(plugin.catalogue, event.household_id, actions))
      throw ProtocolError(where + "actions", *problem);
    runtime::DeliveredEvent d;
    d.seq = seq;
    d.household_id = event.household_id;
    d.event_id = event.event_id;
    d.received_at_ms = event.received_at_ms;
    d.actions = std::move(actions);
    report.delivered.push_back(std::move(d));
  }
  if (auto failed = message.find("failed"); failed != message.end() && !failed->is_null()) {
    if (!failed->is_object()) throw ProtocolError("failed", "must be an object");
    const std::uint64_t seq = uint_field(*failed, "failed.", "seq");
    if (seq != done_upto + 1 || seq > last)
      throw ProtocolError("failed.seq", std::to_string(seq) + " must be the event after done_upto");
    report.failed = true;
    report.failed_seq = seq;
    report.culprit_seq = seq;
    report.failure = string_field(*failed, "failed.", "reason").substr(0, kMaxReasonChars);
    if (failed->contains("culprit_seq")) {
      // A call that timed out: the event it hung on, at or after the first uncommitted one.
      const std::uint64_t culprit = uint_field(*failed, "failed.", "culprit_seq");
      if (culprit < seq || culprit > last)
        throw ProtocolError("failed.culprit_seq", std::to_string(culprit) + " must be within " + std::to_string(seq) +
                                                      ".." + std::to_string(last));
      report.culprit_seq = culprit;
    }
  }
  return report;
}

}  // namespace

runtime::Report decode_report(const json& message, const runtime::Request& request, const PluginConfig& plugin) {
  try {
    return checked_report(message, request, plugin);
  } catch (const ProtocolError& e) {
    runtime::Report failed;
    failed.generation = request.generation;
    failed.failed = true;
    failed.failed_seq = request.chunk->first_seq + request.begin;
    failed.done_upto = failed.failed_seq - 1;
    failed.failure = std::string("plugin host sent an invalid report: ") + e.what();
    return failed;
  }
}

}  // namespace hub::pluginhost
