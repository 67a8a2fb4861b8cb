#include "cli/import_file.h"

#include <map>
#include <sstream>

#include "hub/sdk/csv.h"
#include "domain/wire_event.h"

namespace hub::cli {
namespace {

using nlohmann::json;

// Case-insensitive: exports from office software often end in .CSV.
bool ends_with(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    const char c = s[s.size() - suffix.size() + i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != suffix[i]) return false;
  }
  return true;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Validates an event with the hub's own parser; on success gives it a stable id if it has none.
void accept(ImportFile& file, std::size_t line, json event) {
  if (!event.is_object()) {
    file.issues.push_back({line, "invalid_request", "", "each row must be one JSON object (an event)"});
    return;
  }
  const bool generated_id = !event.contains("event_id");
  if (generated_id) event["event_id"] = "pending";
  auto parsed = parse_event(event);
  if (auto* e = parsed.error()) {
    file.issues.push_back({line, e->code, e->field, e->message});
    return;
  }
  if (generated_id) {
    const auto& ev = parsed.value();
    json content = json::parse(ev.canonical_json());
    content.erase("event_id");
    const std::string digest = content_digest(content.dump()).substr(0, 8);
    const std::string& h = ev.household_id;
    std::string id;
    switch (ev.type) {
      case EventType::kHousehold: id = "reg-" + h + "-" + digest; break;
      case EventType::kCommitment: id = "com-" + h + "-" + digest; break;
      case EventType::kStatusChange: id = "ev-" + ev.quarter + "-" + h + "-" + digest; break;
    }
    event["event_id"] = id.size() <= 64 ? id : "ev-" + content_digest(id);
  }
  file.rows.push_back({line, std::move(event)});
}

// Every line that is not UTF-8 (an export saved as GBK, say): reported, and then the file is
// not read further — its text cannot be put into JSON events as it is.
bool check_csv_encoding(ImportFile& file, const std::string& text) {
  std::size_t line = 1, start = 0;
  bool good = true;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (!is_valid_utf8(std::string_view(text).substr(start, end - start))) {
      file.issues.push_back({line, "invalid_encoding", "",
                             "line " + std::to_string(line) +
                                 " is not UTF-8 text; save the file as UTF-8 (from GBK: iconv -f GBK -t UTF-8)"});
      good = false;
    }
    start = end + 1;
    ++line;
  }
  return good;
}

void parse_csv_rows(ImportFile& file, const std::string& text) {
  if (!check_csv_encoding(file, text)) return;
  std::string error;
  std::vector<hub::sdk::CsvRowError> ragged;
  auto table = hub::sdk::parse_csv(text, &error, &ragged);
  for (const auto& r : ragged) file.issues.push_back({r.line, "invalid_csv", "", "line " + std::to_string(r.line) + ": " + r.message});
  if (!table) {
    std::size_t line = 0;
    if (error.rfind("line ", 0) == 0) line = std::strtoul(error.c_str() + 5, nullptr, 10);
    file.issues.push_back({line, "invalid_csv", "", error});
    return;
  }
  auto has = [&](const char* c) { return table->column(c).has_value(); };
  if (!has("household_id")) {
    file.issues.push_back({1, "missing_column", "household_id", "the header has no household_id column"});
    return;
  }
  if (has("status")) {
    file.kind = "evaluations";
  } else if (has("signed_on")) {
    file.kind = "commitments";
  } else if (has("village")) {
    file.kind = "households";
  } else {
    file.issues.push_back({1, "unknown_file_kind", "",
                           "cannot tell the kind of file from its header: households need village, commitments "
                           "signed_on, evaluations status and quarter"});
    return;
  }
  for (const auto& row : table->rows) {
    auto get = [&](const char* c) -> std::string {
      auto i = table->column(c);
      return i ? trim(row.fields[*i]) : std::string();
    };
    json ev;
    if (!get("event_id").empty()) ev["event_id"] = get("event_id");
    ev["household_id"] = get("household_id");
    if (file.kind == "households") {
      ev["type"] = "household";
      ev["village"] = get("village");
      if (!get("head").empty()) ev["head"] = get("head");
      const std::string members = get("members");
      if (!members.empty()) {
        char* end = nullptr;
        const long n = std::strtol(members.c_str(), &end, 10);
        if (end == nullptr || *end != '\0') {
          file.issues.push_back({row.line, "invalid_field", "members", "members must be a whole number (got '" + members + "')"});
          continue;
        }
        ev["members"] = n;
      }
    } else if (file.kind == "commitments") {
      ev["type"] = "commitment";
      ev["signed_on"] = get("signed_on");
    } else {
      ev["type"] = "status_change";
      ev["status"] = get("status");
      ev["quarter"] = get("quarter");
      if (!get("effective_date").empty()) ev["effective_date"] = get("effective_date");
      if (!get("basis").empty()) ev["basis"] = get("basis");
      json designations = json::array();
      std::stringstream list(get("designations"));
      std::string d;
      while (std::getline(list, d, ';'))
        if (!trim(d).empty()) designations.push_back(trim(d));
      ev["designations"] = designations;
    }
    accept(file, row.line, std::move(ev));
  }
}

void parse_jsonl_rows(ImportFile& file, const std::string& text) {
  file.kind = "jsonl";
  std::istringstream in(text);
  std::string line_text;
  std::size_t line = 0;
  while (std::getline(in, line_text)) {
    ++line;
    if (!line_text.empty() && line_text.back() == '\r') line_text.pop_back();
    if (trim(line_text).empty()) continue;
    json ev = json::parse(line_text, nullptr, false);
    if (ev.is_discarded()) {
      file.issues.push_back({line, "invalid_json", "", "not valid JSON"});
      continue;
    }
    if (ev.is_object() && ev.contains("type") && ev["type"].is_string() && ev["type"] == "batch") {
      file.issues.push_back({line, "invalid_request", "type", "a batch cannot be imported as a row; put one event per line"});
      continue;
    }
    accept(file, line, std::move(ev));
  }
}

}  // namespace

ImportFile parse_import(const std::string& name, const std::string& text) {
  ImportFile file;
  if (ends_with(name, ".csv")) {
    parse_csv_rows(file, text);
  } else if (ends_with(name, ".jsonl") || ends_with(name, ".json") || ends_with(name, ".ndjson")) {
    parse_jsonl_rows(file, text);
  } else {
    file.issues.push_back({0, "unknown_file_kind", "", "the file must end in .csv or .jsonl"});
  }
  if (file.issues.empty() && file.rows.empty()) file.issues.push_back({0, "empty_file", "", "the file has no rows"});
  return file;
}

void check_file_consistency(ImportFile& file) {
  std::map<std::string, std::pair<std::size_t, std::string>> ids;  // event_id -> line, content
  std::map<std::string, std::pair<int, std::string>> last_quarter;  // household -> quarter index, text
  for (const auto& row : file.rows) {
    const std::string id = row.event["event_id"];
    const std::string content = row.event.dump();
    auto [it, inserted] = ids.emplace(id, std::make_pair(row.line, content));
    if (!inserted && it->second.second != content)
      file.issues.push_back({row.line, "conflict", "event_id",
                             "event_id '" + id + "' is also used on line " + std::to_string(it->second.first) +
                                 " for different content"});
    if (row.event.value("type", "") == "status_change") {
      const std::string h = row.event["household_id"];
      const std::string q = row.event["quarter"];
      const int qi = quarter_index(q).value_or(0);
      auto prev = last_quarter.find(h);
      if (prev != last_quarter.end() && qi < prev->second.first)
        file.issues.push_back({row.line, "stale_quarter", "quarter",
                               "household '" + h + "': " + q + " comes after " + prev->second.second +
                                   " in this file; it would be rejected as stale"});
      else
        last_quarter[h] = {qi, q};
    }
  }
}

}  // namespace hub::cli
