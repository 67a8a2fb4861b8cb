#include "domain/wire_event.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "domain/complaint.h"
#include "domain/event_fields.h"

namespace hub {

using nlohmann::json;

namespace wire {

std::string utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // continuation byte
  return std::string(text.substr(0, end));
}

namespace {

constexpr std::array<std::string_view, kEventKeyCount> kKeyNames{
    "type", "event_id", "household_id", "village", "head", "members", "signed_on", "status", "designations",
    "quarter", "effective_date", "basis", "complaint_id"};

constexpr std::uint16_t bit(EventKey key) { return static_cast<std::uint16_t>(1u << static_cast<unsigned>(key)); }

// The keys each type allows, as bits of EventKey.
std::uint16_t allowed_keys(EventType type) {
  using K = EventKey;
  const std::uint16_t common = bit(K::kType) | bit(K::kEventId) | bit(K::kHouseholdId);
  switch (type) {
    case EventType::kHousehold: return common | bit(K::kVillage) | bit(K::kHead) | bit(K::kMembers);
    case EventType::kCommitment: return common | bit(K::kSignedOn);
    case EventType::kStatusChange: break;
  }
  return common | bit(K::kStatus) | bit(K::kDesignations) | bit(K::kQuarter) | bit(K::kEffectiveDate) |
         bit(K::kBasis) | bit(K::kComplaintId);
}

// The EventKeys in byte order of their names: the order nlohmann's objects iterate in.
const std::array<EventKey, kEventKeyCount>& keys_in_name_order() {
  static const std::array<EventKey, kEventKeyCount> order = [] {
    std::array<EventKey, kEventKeyCount> keys{};
    for (std::size_t i = 0; i < kEventKeyCount; ++i) keys[i] = static_cast<EventKey>(i);
    std::sort(keys.begin(), keys.end(), [](EventKey a, EventKey b) {
      return kKeyNames[static_cast<std::size_t>(a)] < kKeyNames[static_cast<std::size_t>(b)];
    });
    return keys;
  }();
  return order;
}

FieldError error(std::string code, std::string field, std::string message) {
  return FieldError{std::move(code), std::move(message), std::move(field)};
}

bool absent_or_null(const FieldValue& v) { return v.kind == ValueKind::kAbsent || v.kind == ValueKind::kNull; }

// Takes a required string field; returns an error for a missing, null, non-string or empty value.
std::optional<FieldError> require_string(EventFields& f, EventKey key, std::string* out) {
  FieldValue& v = f[key];
  const std::string name(kKeyNames[static_cast<std::size_t>(key)]);
  if (absent_or_null(v)) return error("missing_field", name, "missing field '" + name + "'");
  if (v.kind != ValueKind::kString) return error("invalid_field", name, "field '" + name + "' must be a string");
  *out = std::move(v.text);
  if (out->empty()) return error("missing_field", name, "field '" + name + "' is empty");
  return std::nullopt;
}

std::optional<FieldError> optional_string(EventFields& f, EventKey key, std::string* out, std::size_t max_len) {
  FieldValue& v = f[key];
  if (absent_or_null(v)) return std::nullopt;
  const std::string name(kKeyNames[static_cast<std::size_t>(key)]);
  if (v.kind != ValueKind::kString) return error("invalid_field", name, "field '" + name + "' must be a string");
  *out = std::move(v.text);
  if (out->size() > max_len)
    return error("invalid_field", name, "field '" + name + "' is longer than " + std::to_string(max_len) + " bytes");
  return std::nullopt;
}

std::optional<FieldError> check_id(const char* key, const std::string& value) {
  if (!is_valid_id(value))
    return error("invalid_field", key, std::string("field '") + key + "' must be 1-64 characters of letters, digits, '_', '.', ':' or '-' (got '" + utf8_prefix(value, 80) + "')");
  return std::nullopt;
}

// The key reported as unknown_field: the first in byte order among the keys present that the
// type does not allow, or nothing.
std::optional<std::string> first_unknown_key(const EventFields& f, std::uint16_t allowed) {
  for (EventKey key : keys_in_name_order()) {
    if (f[key].kind == ValueKind::kAbsent || (allowed & bit(key)) != 0) continue;
    const std::string_view name = kKeyNames[static_cast<std::size_t>(key)];
    if (f.first_other_key && *f.first_other_key < name) return f.first_other_key;
    return std::string(name);
  }
  return f.first_other_key;
}

}  // namespace

std::optional<EventKey> event_key(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kEventKeyCount; ++i)
    if (kKeyNames[i] == name) return static_cast<EventKey>(i);
  return std::nullopt;
}

std::string_view key_name(EventKey key) noexcept { return kKeyNames[static_cast<std::size_t>(key)]; }

void EventFields::note_other_key(std::string_view key) {
  if (!first_other_key || key < *first_other_key) first_other_key = std::string(key);
}

void EventFields::clear() {
  for (FieldValue& v : values) {
    v.kind = ValueKind::kAbsent;
    v.text.clear();
  }
  designation_items.clear();
  first_other_key.reset();
}

FieldError not_an_object_error() { return error("invalid_request", "", "an event must be a JSON object"); }

}  // namespace wire

using wire::utf8_prefix;

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
      if (!complaint_id.empty()) append_field(out, "complaint_id", complaint_id);
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

namespace wire {

Result<WireEvent> validate_event_fields(EventFields& f) {
  using K = EventKey;
  WireEvent ev;
  std::string type;
  if (auto e = require_string(f, K::kType, &type)) return *e;
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
  if (auto key = first_unknown_key(f, allowed_keys(ev.type)))
    return error("unknown_field", *key, "field '" + utf8_prefix(*key, 40) + "' is not part of a " + type + " event");
  if (auto e = require_string(f, K::kEventId, &ev.event_id)) return *e;
  if (auto e = check_id("event_id", ev.event_id)) return *e;
  if (auto e = require_string(f, K::kHouseholdId, &ev.household_id)) return *e;
  if (auto e = check_id("household_id", ev.household_id)) return *e;

  switch (ev.type) {
    case EventType::kHousehold: {
      if (auto e = require_string(f, K::kVillage, &ev.village)) return *e;
      if (auto e = check_id("village", ev.village)) return *e;
      if (auto e = optional_string(f, K::kHead, &ev.head, 200)) return *e;
      if (const FieldValue& m = f[K::kMembers]; !absent_or_null(m)) {
        if (m.kind != ValueKind::kInteger || m.integer < 1 || m.integer > 100)
          return error("invalid_field", "members", "field 'members' must be a whole number from 1 to 100");
        ev.members = m.integer;
      }
      break;
    }
    case EventType::kCommitment: {
      if (auto e = require_string(f, K::kSignedOn, &ev.signed_on)) return *e;
      if (!is_valid_date(ev.signed_on))
        return error("invalid_date", "signed_on", "field 'signed_on' must be a date YYYY-MM-DD (got '" + utf8_prefix(ev.signed_on, 40) + "')");
      break;
    }
    case EventType::kStatusChange: {
      std::string status;
      if (auto e = require_string(f, K::kStatus, &status)) return *e;
      auto parsed = hub::sdk::parse_household_status(status);
      if (!parsed || *parsed == hub::sdk::HouseholdStatus::kUnevaluated)
        return error("invalid_status", "status", "unknown status '" + utf8_prefix(status, 40) + "' (credit, non_credit or breach)");
      ev.status = *parsed;
      if (auto e = require_string(f, K::kQuarter, &ev.quarter)) return *e;
      if (!quarter_index(ev.quarter))
        return error("invalid_quarter", "quarter", "field 'quarter' must look like 2020Q3 (got '" + utf8_prefix(ev.quarter, 40) + "')");
      if (FieldValue& d = f[K::kEffectiveDate]; !absent_or_null(d)) {
        if (d.kind != ValueKind::kString || !is_valid_date(d.text))
          return error("invalid_date", "effective_date", "field 'effective_date' must be a date YYYY-MM-DD");
        ev.effective_date = std::move(d.text);
      } else {
        ev.effective_date = first_day_after_quarter(ev.quarter);
      }
      if (const FieldValue& d = f[K::kDesignations]; !absent_or_null(d)) {
        if (d.kind != ValueKind::kArray) return error("invalid_field", "designations", "field 'designations' must be an array of strings");
        for (FieldValue& item : f.designation_items) {
          if (item.kind != ValueKind::kString) return error("invalid_field", "designations", "field 'designations' must be an array of strings");
          const std::string& name = item.text;
          bool known = false;
          for (const auto& k : known_designations()) known = known || k == name;
          if (!known) return error("invalid_designation", "designations", "unknown designation '" + utf8_prefix(name, 40) + "' (assistance)");
          bool repeated = false;
          for (const auto& seen : ev.designations) repeated = repeated || seen == name;
          if (!repeated) ev.designations.push_back(std::move(item.text));
        }
      }
      if (auto e = optional_string(f, K::kBasis, &ev.basis, 2000)) return *e;
      const bool names_complaint = !absent_or_null(f[K::kComplaintId]);
      if (auto e = optional_string(f, K::kComplaintId, &ev.complaint_id, 32)) return *e;
      if (names_complaint && !is_complaint_id(ev.complaint_id))
        return error("invalid_complaint_id", "complaint_id",
                     "field 'complaint_id' must name a complaint as the register writes it, e.g. TS-2026-000123 (got '" +
                         utf8_prefix(ev.complaint_id, 40) + "')");
      break;
    }
  }
  return ev;
}

}  // namespace wire

namespace {

wire::FieldValue field_value(const json& v) {
  using wire::ValueKind;
  wire::FieldValue out;
  switch (v.type()) {
    case json::value_t::null: out.kind = ValueKind::kNull; break;
    case json::value_t::string: out.kind = ValueKind::kString; out.text = v.get_ref<const std::string&>(); break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: out.kind = ValueKind::kInteger; out.integer = v.get<std::int64_t>(); break;
    case json::value_t::number_float: out.kind = ValueKind::kOtherNumber; break;
    case json::value_t::boolean: out.kind = ValueKind::kBoolean; break;
    case json::value_t::array: out.kind = ValueKind::kArray; break;
    case json::value_t::object: out.kind = ValueKind::kObject; break;
    case json::value_t::binary:
    case json::value_t::discarded: out.kind = ValueKind::kOtherNumber; break;  // never from JSON text; not a string
  }
  return out;
}

}  // namespace

Result<WireEvent> parse_event(const json& o) {
  if (!o.is_object()) return wire::not_an_object_error();
  wire::EventFields fields;
  for (const auto& [key, value] : o.items()) {
    const auto k = wire::event_key(key);
    if (!k) {
      fields.note_other_key(key);
      continue;
    }
    fields[*k] = field_value(value);
    if (*k == wire::EventKey::kDesignations && value.is_array())
      for (const auto& item : value) fields.designation_items.push_back(field_value(item));
  }
  return wire::validate_event_fields(fields);
}

}  // namespace hub
