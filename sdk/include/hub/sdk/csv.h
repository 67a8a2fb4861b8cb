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

// A row that was left out because its number of fields differs from the header's.
struct CsvRowError {
  std::size_t line = 0;
  std::string message;
};

// Parses CSV text. On malformed input (an unterminated quote, a row with a different number
// of fields than the header) returns nothing and sets *error to "line N: …" — unless
// row_errors is given: then rows with the wrong number of fields are left out of the table,
// each listed in *row_errors, and parsing goes on (so an import can report every bad row).
std::optional<CsvTable> parse_csv(std::string_view text, std::string* error,
                                  std::vector<CsvRowError>* row_errors = nullptr);

// Reads and parses a file; errors name the file.
std::optional<CsvTable> read_csv_file(const std::string& path, std::string* error);

}  // namespace hub::sdk
