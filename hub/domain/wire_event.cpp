#include "domain/wire_event.h"

#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

namespace hub {
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
                                            "quarter", "effective_date", "basis"};
  switch (type) {
    case EventType::kHousehold: return household;
    case EventType::kCommitment: return commitment;
    case EventType::kStatusChange: break;
  }
  return status;
}

}  // namespace

std::string_view to_string(EventType type) noexcept {
  switch (type) {
    case EventType::kHousehold: return "household";
    case EventType::kCommitment: return "commitment";
    case EventType::kStatusChange: return "status_change";
  }
  return "invalid";
}

const std::vector<std::string>& known_designations() {
  static const std::vector<std::string> names{"assistance"};
  return names;
}

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;  // overlong, range, surrogate
    i += len;
  }
  return true;
}

bool is_valid_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) continue;
    if (i == 0) return false;
    if (c != '_' && c != '-' && c != '.' && c != ':') return false;
  }
  return true;
}

std::optional<int> quarter_index(std::string_view q) noexcept {
  if (q.size() != 6 || q[4] != 'Q' || q[5] < '1' || q[5] > '4') return std::nullopt;
  int year = 0;
  for (int i = 0; i < 4; ++i) {
    if (q[i] < '0' || q[i] > '9') return std::nullopt;
    year = year * 10 + (q[i] - '0');
  }
  if (year < 1900 || year > 2999) return std::nullopt;
  return year * 4 + (q[5] - '1');
}

bool is_valid_date(std::string_view d) noexcept {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  auto digits = [&](std::size_t from, std::size_t n, int* out) {
    int v = 0;
    for (std::size_t i = from; i < from + n; ++i) {
      if (d[i] < '0' || d[i] > '9') return false;
      v = v * 10 + (d[i] - '0');
    }
    *out = v;
    return true;
  };
  int y = 0, m = 0, day = 0;
  if (!digits(0, 4, &y) || !digits(5, 2, &m) || !digits(8, 2, &day)) return false;
  if (y < 1900 || y > 3000 || m < 1 || m > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max = kDays[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
  return day <= max;
}

std::string first_day_after_quarter(std::string_view quarter) {
  auto idx = quarter_index(quarter);
  if (!idx) return {};
  const int next = *idx + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-01", next / 4, (next % 4) * 3 + 1);
  return buf;
}

std::string content_digest(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a-64 offset basis
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string generated_event_id(const WireEvent& ev) {
  nlohmann::json content = nlohmann::json::parse(ev.canonical_json());
  content.erase("event_id");
  const std::string digest = content_digest(content.dump()).substr(0, 8);
  const std::string& h = ev.household_id;
  std::string id;
  switch (ev.type) {
    case EventType::kHousehold: id = "reg-" + h + "-" + digest; break;
    case EventType::kCommitment: id = "com-" + h + "-" + digest; break;
    case EventType::kStatusChange: id = "ev-" + ev.quarter + "-" + h + "-" + digest; break;
  }
  return id.size() <= 64 ? id : "ev-" + content_digest(id);
}

namespace {

// Appends text as a JSON string exactly as nlohmann::json::dump() writes it (UTF-8 kept as
// is; quote, backslash and control characters escaped, \u00xx in lower-case hex), so that
// digests stored by earlier versions stay valid.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// "key":"value" with the separating comma; keys are written in sorted order by the caller.
void append_field(std::string& out, std::string_view key, std::string_view value) {
  if (out.size() > 1) out += ',';
  append_json_string(out, key);
  out += ':';
  append_json_string(out, value);
}

}  // namespace

// The canonical form is the event's fields as one JSON object with the keys in sorted order
// and no spaces — what nlohmann::json::dump() gives for the same object, written directly
// because this runs for every event ingested.
std::string WireEvent::canonical_json() const {
  std::string out = "{";
  out.reserve(256);
  switch (type) {
    case EventType::kHousehold:
      append_field(out, "event_id", event_id);
      if (!head.empty()) append_field(out, "head", head);
      append_field(out, "household_id", household_id);
      if (members) out += ",\"members\":" + std::to_string(*members);
      append_field(out, "type", to_string(type));
      append_field(out, "village", village);
      break;
    case EventType::kCommitment:
      append_field(out, "event_id", event_id);
      append_field(out, "household_id", household_id);
      append_field(out, "signed_on", signed_on);
      append_field(out, "type", to_string(type));
      break;
    case EventType::kStatusChange:
      if (!basis.empty()) append_field(out, "basis", basis);
      if (out.size() > 1) out += ',';
      out += "\"designations\":[";
      for (std::size_t i = 0; i < designations.size(); ++i) {
        if (i > 0) out += ',';
        append_json_string(out, designations[i]);
      }
      out += ']';
      append_field(out, "effective_date", effective_date);
      append_field(out, "event_id", event_id);
      append_field(out, "household_id", household_id);
      append_field(out, "quarter", quarter);
      append_field(out, "status", hub::sdk::to_string(status));
      append_field(out, "type", to_string(type));
      break;
  }
  out += '}';
  return out;
}

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

}  // namespace hub
