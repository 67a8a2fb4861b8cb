// The DOM parser that parse_request() and parse_event() replaced (see wire_event_dom_oracle.h),
// kept word for word as the oracle of the differential tests and of fuzz_ingest.
#include "testing/wire_event_dom_oracle.h"

#include "domain/complaint.h"

#include <set>

#include <nlohmann/json.hpp>

namespace hub::dom_oracle {
namespace {

using nlohmann::json;

// At most max_bytes of text, cut at a character boundary: error messages quote what was sent,
// and a reply must stay valid UTF-8 (nlohmann::json::dump() throws on a cut character).
std::string utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // continuation byte
  return std::string(text.substr(0, end));
}

FieldError error(std::string code, std::string field, std::string message) {
  return FieldError{std::move(code), std::move(message), std::move(field)};
}

// Reads a required string field; returns an error for a missing or non-string value.
std::optional<FieldError> require_string(const json& o, const char* key, std::string* out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return error("missing_field", key, std::string("missing field '") + key + "'");
  if (!it->is_string()) return error("invalid_field", key, std::string("field '") + key + "' must be a string");
  *out = it->get<std::string>();
  if (out->empty()) return error("missing_field", key, std::string("field '") + key + "' is empty");
  return std::nullopt;
}

std::optional<FieldError> optional_string(const json& o, const char* key, std::string* out, std::size_t max_len) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return error("invalid_field", key, std::string("field '") + key + "' must be a string");
  *out = it->get<std::string>();
  if (out->size() > max_len)
    return error("invalid_field", key, std::string("field '") + key + "' is longer than " + std::to_string(max_len) + " bytes");
  return std::nullopt;
}

std::optional<FieldError> check_id(const char* key, const std::string& value) {
  if (!is_valid_id(value))
    return error("invalid_field", key, std::string("field '") + key + "' must be 1-64 characters of letters, digits, '_', '.', ':' or '-' (got '" + utf8_prefix(value, 80) + "')");
  return std::nullopt;
}

const std::set<std::string>& allowed_keys(EventType type) {
  static const std::set<std::string> household{"type", "event_id", "household_id", "village", "head", "members"};
  static const std::set<std::string> commitment{"type", "event_id", "household_id", "signed_on"};
  static const std::set<std::string> status{"type", "event_id", "household_id", "status", "designations",
                                            "quarter", "effective_date", "basis", "complaint_id"};
  switch (type) {
    case EventType::kHousehold: return household;
    case EventType::kCommitment: return commitment;
    case EventType::kStatusChange: break;
  }
  return status;
}

}  // namespace

Result<WireEvent> parse_event(const json& o) {
  if (!o.is_object()) return error("invalid_request", "", "an event must be a JSON object");
  WireEvent ev;
  std::string type;
  if (auto e = require_string(o, "type", &type)) return *e;
  if (type == "household") {
    ev.type = EventType::kHousehold;
  } else if (type == "commitment") {
    ev.type = EventType::kCommitment;
  } else if (type == "status_change") {
    ev.type = EventType::kStatusChange;
  } else {
    return error("unknown_type", "type", "unknown event type '" + utf8_prefix(type, 40) +
                                             "' (household, commitment, status_change or batch)");
  }
  const auto& allowed = allowed_keys(ev.type);
  for (const auto& [key, value] : o.items()) {
    (void)value;
    if (allowed.count(key) == 0)
      return error("unknown_field", key, "field '" + utf8_prefix(key, 40) + "' is not part of a " + type + " event");
  }
  if (auto e = require_string(o, "event_id", &ev.event_id)) return *e;
  if (auto e = check_id("event_id", ev.event_id)) return *e;
  if (auto e = require_string(o, "household_id", &ev.household_id)) return *e;
  if (auto e = check_id("household_id", ev.household_id)) return *e;

  switch (ev.type) {
    case EventType::kHousehold: {
      if (auto e = require_string(o, "village", &ev.village)) return *e;
      if (auto e = check_id("village", ev.village)) return *e;
      if (auto e = optional_string(o, "head", &ev.head, 200)) return *e;
      if (auto it = o.find("members"); it != o.end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 100)
          return error("invalid_field", "members", "field 'members' must be a whole number from 1 to 100");
        ev.members = it->get<std::int64_t>();
      }
      break;
    }
    case EventType::kCommitment: {
      if (auto e = require_string(o, "signed_on", &ev.signed_on)) return *e;
      if (!is_valid_date(ev.signed_on))
        return error("invalid_date", "signed_on", "field 'signed_on' must be a date YYYY-MM-DD (got '" + utf8_prefix(ev.signed_on, 40) + "')");
      break;
    }
    case EventType::kStatusChange: {
      std::string status;
      if (auto e = require_string(o, "status", &status)) return *e;
      auto parsed = hub::sdk::parse_household_status(status);
      if (!parsed || *parsed == hub::sdk::HouseholdStatus::kUnevaluated)
        return error("invalid_status", "status", "unknown status '" + utf8_prefix(status, 40) + "' (credit, non_credit or breach)");
      ev.status = *parsed;
      if (auto e = require_string(o, "quarter", &ev.quarter)) return *e;
      if (!quarter_index(ev.quarter))
        return error("invalid_quarter", "quarter", "field 'quarter' must look like 2020Q3 (got '" + utf8_prefix(ev.quarter, 40) + "')");
      if (auto it = o.find("effective_date"); it != o.end() && !it->is_null()) {
        if (!it->is_string() || !is_valid_date(it->get<std::string>()))
          return error("invalid_date", "effective_date", "field 'effective_date' must be a date YYYY-MM-DD");
        ev.effective_date = it->get<std::string>();
      } else {
        ev.effective_date = first_day_after_quarter(ev.quarter);
      }
      if (auto it = o.find("designations"); it != o.end() && !it->is_null()) {
        if (!it->is_array()) return error("invalid_field", "designations", "field 'designations' must be an array of strings");
        for (const auto& d : *it) {
          if (!d.is_string()) return error("invalid_field", "designations", "field 'designations' must be an array of strings");
          const auto name = d.get<std::string>();
          bool known = false;
          for (const auto& k : known_designations()) known = known || k == name;
          if (!known) return error("invalid_designation", "designations", "unknown designation '" + utf8_prefix(name, 40) + "' (assistance)");
          bool repeated = false;
          for (const auto& seen : ev.designations) repeated = repeated || seen == name;
          if (!repeated) ev.designations.push_back(name);
        }
      }
      if (auto e = optional_string(o, "basis", &ev.basis, 2000)) return *e;
      if (auto e = optional_string(o, "complaint_id", &ev.complaint_id, 32)) return *e;
      if (o.contains("complaint_id") && !o["complaint_id"].is_null() && !is_complaint_id(ev.complaint_id))
        return error("invalid_complaint_id", "complaint_id",
                     "field 'complaint_id' must name a complaint as the register writes it, e.g. TS-2026-000123 (got '" +
                         utf8_prefix(ev.complaint_id, 40) + "')");
      break;
    }
  }
  return ev;
}

Result<IngestRequest> parse_request(std::string_view body_text, const RequestLimits& limits) {
  if (body_text.size() > limits.max_message_bytes)
    return error("too_large", "", "message of " + std::to_string(body_text.size()) + " bytes exceeds the limit of " +
                                      std::to_string(limits.max_message_bytes) + " bytes");
  const json body = json::parse(body_text.begin(), body_text.end(), nullptr, false);
  if (body.is_discarded())
    return error("invalid_json", "", "the message is not valid JSON (one UTF-8 JSON object per frame)");
  if (!body.is_object()) return error("invalid_request", "", "the message must be a JSON object");

  IngestRequest request;
  const auto type_it = body.find("type");
  request.is_batch = type_it != body.end() && type_it->is_string() && *type_it == "batch";
  if (!request.is_batch) {
    auto parsed = parse_event(body);
    if (auto* e = parsed.error()) return std::move(*e);
    request.events.push_back(std::move(parsed).value());
    request.original_index.push_back(0);
    return request;
  }
  for (const auto& [key, value] : body.items()) {
    (void)value;
    if (key != "type" && key != "events" && key != "dry_run")
      return error("unknown_field", key, "field '" + utf8_prefix(key, 40) + "' is not part of a batch");
  }
  const auto ev = body.find("events");
  if (ev == body.end() || !ev->is_array())
    return error("missing_field", "events", "a batch needs \"events\": an array of events");
  if (ev->empty()) return error("empty_batch", "events", "the batch has no events");
  if (ev->size() > limits.max_batch_events)
    return error("batch_too_large", "events", "the batch has " + std::to_string(ev->size()) + " events; the limit is " +
                                                  std::to_string(limits.max_batch_events));
  if (auto d = body.find("dry_run"); d != body.end()) {
    if (!d->is_boolean()) return error("invalid_field", "dry_run", "field 'dry_run' must be true or false");
    request.dry_run = d->get<bool>();
  }
  for (std::size_t i = 0; i < ev->size(); ++i) {
    auto parsed = parse_event((*ev)[i]);
    if (auto* e = parsed.error()) {
      request.item_errors.emplace(i, std::move(*e));
    } else {
      request.events.push_back(std::move(parsed).value());
      request.original_index.push_back(i);
    }
  }
  return request;
}

namespace {

std::string describe_error(const FieldError& e) {
  return "error{code=" + e.code + " field=" + e.field + " message=" + e.message + "}";
}

std::string describe_event(const WireEvent& ev) {
  std::string out = "event{type=" + std::string(to_string(ev.type)) + " event_id=" + ev.event_id +
                    " household_id=" + ev.household_id + " village=" + ev.village + " head=" + ev.head +
                    " members=" + (ev.members ? std::to_string(*ev.members) : "-") + " signed_on=" + ev.signed_on +
                    " status=" + std::string(hub::sdk::to_string(ev.status)) + " designations=[";
  for (const auto& d : ev.designations) out += d + ";";
  out += "] quarter=" + ev.quarter + " effective_date=" + ev.effective_date + " basis=" + ev.basis + " complaint_id=" + ev.complaint_id +
         " canonical=" + ev.canonical_json() + "}";
  return out;
}

}  // namespace

std::string describe(const Result<WireEvent>& result) {
  if (const FieldError* e = result.error()) return describe_error(*e);
  return describe_event(result.value());
}

std::string describe(const Result<IngestRequest>& result) {
  if (const FieldError* e = result.error()) return describe_error(*e);
  const IngestRequest& r = result.value();
  std::string out = std::string("request{batch=") + (r.is_batch ? "1" : "0") + " dry_run=" + (r.dry_run ? "1" : "0") +
                    " events=" + std::to_string(r.events.size()) + " indexes=" +
                    std::to_string(r.original_index.size()) + "}\n";
  for (std::size_t i = 0; i < r.events.size(); ++i)
    out += "#" + (i < r.original_index.size() ? std::to_string(r.original_index[i]) : std::string("?")) + " " +
           describe_event(r.events[i]) + "\n";
  for (const auto& [index, e] : r.item_errors) out += "!" + std::to_string(index) + " " + describe_error(e) + "\n";
  return out;
}

}  // namespace hub::dom_oracle
