// libFuzzer target: `hubctl import` reading a file (CSV or JSONL), then the whole-file checks.
//
// The first byte picks the file name (odd: .csv, even: .jsonl); the rest is the file's text.
// Properties checked on every input:
//  - nothing throws (hubctl would die with an uncaught exception instead of a report);
//  - every problem has a code and a message, and can be printed as JSON (hubctl --json);
//  - every row accepted is a valid wire event for the hub's own parser, with an event_id.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/import_file.h"
#include "fuzz_check.h"
#include "domain/wire_event.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string name = (data[0] & 1) != 0 ? "town.csv" : "town.jsonl";
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);

  hub::cli::ImportFile file = hub::cli::parse_import(name, text);
  if (file.issues.empty()) hub::cli::check_file_consistency(file);

  for (const auto& issue : file.issues) {
    FUZZ_CHECK(!issue.code.empty(), "an issue has a code");
    FUZZ_CHECK(!issue.message.empty(), "an issue has a message");
    nlohmann::json report{{"line", issue.line}, {"code", issue.code}, {"field", issue.field}, {"message", issue.message}};
    (void)report.dump();  // throws on text that is not UTF-8
  }
  for (const auto& row : file.rows) {
    FUZZ_CHECK(row.line >= 1, "a row has a line number");
    auto parsed = hub::parse_event(row.event);
    FUZZ_CHECK(parsed.ok(), "an accepted row is a valid event");
    (void)row.event.dump();  // what hubctl sends
  }
  return 0;
}
