#include "hub/sdk/csv.h"

#include <fstream>
#include <sstream>

namespace hub::sdk {

std::optional<std::size_t> CsvTable::column(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  return std::nullopt;
}

std::optional<CsvTable> parse_csv(std::string_view text, std::string* error, std::vector<CsvRowError>* row_errors) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  CsvTable table;
  std::vector<std::string> record;
  std::string field;
  std::size_t line = 1;
  std::size_t record_line = 1;
  bool in_quotes = false;
  bool field_was_quoted = false;
  bool record_has_content = false;

  auto end_record = [&]() -> bool {
    record.push_back(std::move(field));
    field.clear();
    const bool blank = !record_has_content && record.size() == 1 && record[0].empty();
    if (!blank) {
      if (table.header.empty()) {
        table.header = std::move(record);
      } else if (record.size() != table.header.size()) {
        std::string message = std::to_string(record.size()) + " fields, the header has " +
                              std::to_string(table.header.size());
        if (row_errors == nullptr) {
          *error = "line " + std::to_string(record_line) + ": " + message;
          return false;
        }
        row_errors->push_back(CsvRowError{record_line, std::move(message)});
      } else {
        table.rows.push_back(CsvRow{record_line, std::move(record)});
      }
    }
    record.clear();
    record_has_content = false;
    field_was_quoted = false;
    return true;
  };

  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    switch (c) {
      case '"':
        if (!field.empty() || field_was_quoted) {
          *error = "line " + std::to_string(line) + ": a quote inside an unquoted field";
          return std::nullopt;
        }
        in_quotes = true;
        field_was_quoted = true;
        record_has_content = true;
        break;
      case ',':
        record.push_back(std::move(field));
        field.clear();
        field_was_quoted = false;
        record_has_content = true;
        break;
      case '\r':
        break;
      case '\n':
        if (!end_record()) return std::nullopt;
        ++line;
        record_line = line;
        break;
      default:
        field.push_back(c);
        record_has_content = true;
    }
  }
  if (in_quotes) {
    *error = "line " + std::to_string(record_line) + ": unterminated quoted field";
    return std::nullopt;
  }
  if (record_has_content || !field.empty()) {
    if (!end_record()) return std::nullopt;
  }
  if (table.header.empty()) {
    *error = "line 1: no header row";
    return std::nullopt;
  }
  return table;
}

std::optional<CsvTable> read_csv_file(const std::string& path, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open";
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  auto table = parse_csv(buffer.str(), error);
  if (!table) *error = path + ": " + *error;
  return table;
}

}  // namespace hub::sdk
