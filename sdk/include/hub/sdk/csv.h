// A small RFC 4180 CSV reader for department data (rosters) and import files.
//
// The first row is the header. Fields may be quoted with "…" (a doubled "" inside stands for
// one quote, and quoted fields may span lines). A UTF-8 byte-order mark before the header is
// skipped. Each row remembers the line it started on, so errors can name it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hub::sdk {

struct CsvRow {
  std::size_t line = 0;              // 1-based line number where the row starts
  std::vector<std::string> fields;
};

struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;

  // Index of a header column, or nothing.
  std::optional<std::size_t> column(std::string_view name) const noexcept;
};

// Parses CSV text. On malformed input (an unterminated quote, a row with a different number
// of fields than the header) returns nothing and sets *error to "line N: …".
std::optional<CsvTable> parse_csv(std::string_view text, std::string* error);

// Reads and parses a file; errors name the file.
std::optional<CsvTable> read_csv_file(const std::string& path, std::string* error);

}  // namespace hub::sdk
