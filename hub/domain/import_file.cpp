#include "domain/import_file.h"

#include <iconv.h>

#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>

#include "hub/sdk/csv.h"
#include "domain/wire_event.h"

namespace hub {
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
  if (generated_id) event["event_id"] = generated_event_id(parsed.value());
  file.rows.push_back({line, std::move(event)});
}

// The text converted from GB18030 (which includes GBK and GB2312) to UTF-8, or nothing when it
// is not GB18030 (a byte sequence GB18030 does not have, or a character cut off at the end).
std::optional<std::string> from_gb18030(const std::string& text) {
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  // A GB18030 character of 1, 2 or 4 bytes is at most 1, 3 or 4 bytes of UTF-8: twice the size is enough.
  std::string out(text.size() * 2 + 4, '\0');
  char* in = const_cast<char*>(text.data());
  std::size_t in_left = text.size();
  char* o = out.data();
  std::size_t out_left = out.size();
  const std::size_t converted = iconv(cd, &in, &in_left, &o, &out_left);
  iconv_close(cd);
  if (converted == static_cast<std::size_t>(-1) || in_left != 0) return std::nullopt;
  out.resize(out.size() - out_left);
  return out;
}

// Every line that is neither UTF-8 nor GB18030: reported, and then the file is not read
// further — its text cannot be put into JSON events as it is.
bool check_csv_encoding(ImportFile& file, const std::string& text) {
  std::size_t line = 1, start = 0;
  bool good = true;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (!is_valid_utf8(std::string_view(text).substr(start, end - start))) {
      file.issues.push_back({line, "invalid_encoding", "",
                             "line " + std::to_string(line) +
                                 " is neither UTF-8 nor GB18030 (GBK) text; save the file from Excel as "
                                 "\"CSV UTF-8\" or as \"CSV\" on a Chinese Windows"});
      good = false;
    }
    start = end + 1;
    ++line;
  }
  return good;
}

// Chinese column names and the wire field each stands for.
constexpr std::array<std::pair<std::string_view, std::string_view>, 18> kChineseColumns{{
    {"户号", "household_id"},      {"户编号", "household_id"}, {"村", "village"},          {"村组", "village"},
    {"所属村", "village"},         {"户主", "head"},           {"户主姓名", "head"},       {"人口", "members"},
    {"家庭人口", "members"},       {"签订日期", "signed_on"},  {"评议结果", "status"},     {"季度", "quarter"},
    {"评议季度", "quarter"},       {"生效日期", "effective_date"}, {"认定", "designations"}, {"认定类别", "designations"},
    {"评议依据", "basis"},         {"事件编号", "event_id"},
}};

// Chinese values of the fields that have a fixed set of values.
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kChineseValues{{
    {"诚信户", "credit"}, {"诚信", "credit"}, {"不诚信户", "non_credit"}, {"不诚信", "non_credit"},
    {"违约户", "breach"}, {"违约", "breach"}, {"帮扶对象", "assistance"},
}};

std::string english_value(const std::string& value) {
  for (const auto& [zh, en] : kChineseValues)
    if (value == zh) return std::string(en);
  return value;
}

// The header with Chinese names replaced by the wire's; an issue for a field named twice.
bool english_header(ImportFile& file, std::vector<std::string>& header) {
  std::map<std::string, std::string> seen;  // field -> the column that gave it
  bool good = true;
  for (auto& name : header) {
    const std::string given = trim(name);
    name = given;
    for (const auto& [zh, en] : kChineseColumns)
      if (given == zh) name = std::string(en);
    if (auto [it, inserted] = seen.emplace(name, given); !inserted) {
      file.issues.push_back({1, "duplicate_column", name,
                             "the header names " + name + " twice ('" + it->second + "' and '" + given + "')"});
      good = false;
    }
  }
  return good;
}

// "2020年第4季度", "2020年第四季度", "2020年4季度" → "2020Q4"; anything else as it is.
std::string english_quarter(const std::string& value) {
  const std::string_view v(value);
  if (v.size() < 4 + 3 || v.substr(4, 3) != "年") return value;
  std::string_view rest = v.substr(7);
  if (rest.substr(0, 3) == "第") rest.remove_prefix(3);
  constexpr std::string_view kSuffix = "季度";
  if (rest.size() <= kSuffix.size() || rest.substr(rest.size() - kSuffix.size()) != kSuffix) return value;
  rest.remove_suffix(kSuffix.size());
  static const std::map<std::string_view, char> kDigits{{"1", '1'}, {"2", '2'}, {"3", '3'}, {"4", '4'},
                                                         {"一", '1'}, {"二", '2'}, {"三", '3'}, {"四", '4'}};
  const auto digit = kDigits.find(rest);
  if (digit == kDigits.end()) return value;
  return std::string(v.substr(0, 4)) + "Q" + digit->second;
}

// "2021/1/1", "2021-1-1", "2021年1月1日" → "2021-01-01" (the validator then checks the date);
// anything else as it is.
std::string iso_date(const std::string& value) {
  std::string text = value;
  for (const char* mark : {"年", "月"})
    for (std::size_t at; (at = text.find(mark)) != std::string::npos;) text.replace(at, 3, "-");
  if (text.size() > 3 && text.compare(text.size() - 3, 3, "日") == 0) text.resize(text.size() - 3);
  for (char& c : text)
    if (c == '/') c = '-';
  int y = 0, m = 0, d = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || text.size() < 8 || text[4] != '-')
    return value;
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02d-%02d", y, m, d);
  return out;
}

// Designations separated by ';', '；' or '、', each in English or Chinese.
json designation_list(const std::string& value) {
  std::string text = value;
  for (const char* mark : {"；", "、"})
    for (std::size_t at; (at = text.find(mark)) != std::string::npos;) text.replace(at, std::string_view(mark).size(), ";");
  json designations = json::array();
  std::stringstream list(text);
  std::string d;
  while (std::getline(list, d, ';'))
    if (!trim(d).empty()) designations.push_back(english_value(trim(d)));
  return designations;
}

void parse_csv_rows(ImportFile& file, const std::string& given_text) {
  std::string text = given_text;
  if (!is_valid_utf8(text)) {
    if (auto converted = from_gb18030(text)) {
      text = std::move(*converted);
      file.encoding = "GB18030";
    }
  }
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
  if (!english_header(file, table->header)) return;
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
      ev["signed_on"] = iso_date(get("signed_on"));
    } else {
      ev["type"] = "status_change";
      ev["status"] = english_value(get("status"));
      ev["quarter"] = english_quarter(get("quarter"));
      if (!get("effective_date").empty()) ev["effective_date"] = iso_date(get("effective_date"));
      if (!get("basis").empty()) ev["basis"] = get("basis");
      ev["designations"] = designation_list(get("designations"));
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
  // What a row says of its household: "household", "commitment" or "status_change 2020Q4" ->
  // the first line that said it. A second row saying it again is a mistake even when identical
  // (a row pasted twice) and, when not, one of the two would silently win.
  std::map<std::pair<std::string, std::string>, std::size_t> said;
  for (const auto& row : file.rows) {
    const std::string id = row.event["event_id"];
    const std::string content = row.event.dump();
    auto [it, inserted] = ids.emplace(id, std::make_pair(row.line, content));
    if (!inserted && it->second.second != content) {
      file.issues.push_back({row.line, "conflict", "event_id",
                             "event_id '" + id + "' is also used on line " + std::to_string(it->second.first) +
                                 " for different content"});
    } else {
      const std::string type = row.event.value("type", "");
      const std::string household = row.event.value("household_id", "");
      const std::string what = type == "status_change" ? type + " " + row.event.value("quarter", "") : type;
      auto [first, fresh] = said.emplace(std::make_pair(household, what), row.line);
      if (!fresh) {
        const std::string earlier = "line " + std::to_string(first->second);
        file.issues.push_back(
            {row.line, "duplicate_row", "household_id",
             type == "status_change"
                 ? "household '" + household + "' is evaluated for " + row.event.value("quarter", "") + " on " + earlier +
                       " too: a file holds one evaluation per household and quarter; keep one of the rows (a correction is "
                       "published on its own, after this file)"
             : type == "household" ? "household '" + household + "' is registered on " + earlier + " too: keep one of the rows"
                                   : "household '" + household + "' has a commitment on " + earlier + " too: keep one of the rows"});
      }
    }
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

}  // namespace hub
