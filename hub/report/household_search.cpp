#include "report/household_search.h"

#include <algorithm>
#include <sstream>

#include "domain/status_json.h"
#include "domain/wire_event.h"

namespace hub::report {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxHeadQuery = 64;  // bytes: a name, not a document

const char* const kSearchStatuses[] = {"credit", "non_credit", "breach", "unevaluated"};

json invalid(const std::string& field, const std::string& message) {
  return error_reply("invalid_field", message, field);
}

// An optional string field; an error reply when present and not a string.
std::variant<std::optional<std::string>, json> text_field(const json& request, const char* field) {
  auto it = request.find(field);
  if (it == request.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return invalid(field, std::string("\"") + field + "\" must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

template <class Check>
json* read_text(const json& request, const char* field, std::optional<std::string>& out, json& error, Check check) {
  auto value = text_field(request, field);
  if (auto* e = std::get_if<json>(&value)) {
    error = *e;
    return &error;
  }
  out = std::get<std::optional<std::string>>(value);
  if (out && out->empty()) out.reset();  // an empty box in a form means "any"
  if (out) {
    if (auto message = check(*out); !message.empty()) {
      error = invalid(field, message);
      return &error;
    }
  }
  return nullptr;
}

json match_json(const HouseholdMatch& m) {
  const HouseholdRecord& h = m.household;
  return {{"household_id", m.household_id},
          {"village", h.village},
          {"head", h.head ? json(*h.head) : json(nullptr)},
          {"members", h.members ? json(*h.members) : json(nullptr)},
          {"status", h.status},
          {"quarter", h.quarter ? json(*h.quarter) : json(nullptr)},
          {"designations", h.designations}};
}

// RFC 4180 quoting; a leading = + - @ is quoted with an apostrophe so that a spreadsheet shows
// the name instead of running it as a formula.
std::string csv_field(const std::string& text) {
  std::string value = text;
  if (!value.empty() && std::string_view("=+-@").find(value.front()) != std::string_view::npos) value = "'" + value;
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::variant<HouseholdQuery, json> household_query(const json& request) {
  HouseholdQuery q;
  json error;
  if (read_text(request, "id", q.id_prefix, error, [](const std::string& v) -> std::string {
        return is_valid_id(v) ? "" : "\"id\" must be the start of a household id such as V03-004 (letters, digits, _ . : -)";
      }))
    return error;
  if (read_text(request, "head", q.head, error, [](const std::string& v) -> std::string {
        if (v.size() > kMaxHeadQuery) return "\"head\" must be at most " + std::to_string(kMaxHeadQuery) + " bytes";
        return is_valid_utf8(v) ? "" : "\"head\" must be UTF-8 text";
      }))
    return error;
  if (read_text(request, "village", q.village, error, [](const std::string& v) -> std::string {
        return is_valid_id(v) ? "" : "\"village\" must be a village id such as V03";
      }))
    return error;
  if (read_text(request, "status", q.status, error, [](const std::string& v) -> std::string {
        for (const char* s : kSearchStatuses)
          if (v == s) return "";
        return "\"status\" must be credit, non_credit, breach or unevaluated";
      }))
    return error;
  if (read_text(request, "designation", q.designation, error, [](const std::string& v) -> std::string {
        const auto& known = known_designations();
        if (std::find(known.begin(), known.end(), v) != known.end()) return "";
        std::string names;
        for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
        return "\"designation\" must be one of " + names;
      }))
    return error;
  if (read_text(request, "after", q.after, error, [](const std::string& v) -> std::string {
        return is_valid_id(v) ? "" : "\"after\" must be a household id (the last one of the previous page)";
      }))
    return error;
  if (auto it = request.find("limit"); it != request.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
        it->get<std::int64_t>() > static_cast<std::int64_t>(kMaxSearchPage))
      return invalid("limit", "\"limit\" must be a whole number from 1 to " + std::to_string(kMaxSearchPage));
    q.limit = it->get<std::size_t>();
  }
  return q;
}

json household_search(ReportViews& views, const HouseholdQuery& query) {
  const HouseholdPage page = views.search_households(query);
  json rows = json::array();
  for (const auto& m : page.rows) rows.push_back(match_json(m));
  return {{"ok", true},
          {"total", page.total},
          {"limit", query.limit},
          {"households", std::move(rows)},
          {"next_after", page.more && !page.rows.empty() ? json(page.rows.back().household_id) : json(nullptr)}};
}

std::variant<std::string, json> household_search_csv(ReportViews& views, HouseholdQuery query) {
  std::ostringstream out;
  out << "\xEF\xBB\xBF" << "household_id,village,head,members,status,quarter,designations\r\n";
  query.after.reset();
  query.limit = 5000;  // pages of one snapshot: consistent, and memory for one page at a time
  for (;;) {
    const HouseholdPage page = views.search_households(query);
    if (page.total > static_cast<std::int64_t>(kMaxCsvRows))
      return error_reply("too_many_rows",
                         std::to_string(page.total) + " households match, more than the " +
                             std::to_string(kMaxCsvRows) + " an export may hold: narrow the search (village, status)");
    for (const auto& m : page.rows) {
      const HouseholdRecord& h = m.household;
      std::string designations;
      for (const auto& d : h.designations) designations += (designations.empty() ? "" : ";") + d;
      out << csv_field(m.household_id) << ',' << csv_field(h.village) << ',' << csv_field(h.head.value_or("")) << ','
          << (h.members ? std::to_string(*h.members) : "") << ',' << h.status << ',' << h.quarter.value_or("") << ','
          << designations << "\r\n";
    }
    if (!page.more || page.rows.empty()) break;
    query.after = page.rows.back().household_id;
  }
  return out.str();
}

}  // namespace hub::report
