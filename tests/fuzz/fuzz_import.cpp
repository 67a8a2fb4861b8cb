// libFuzzer target: `hubctl import` reading a file (CSV or JSONL), then the whole-file checks.
//
// The first byte picks the file name (odd: .csv; even: .jsonl, .json or .ndjson by its next two
// bits); the rest is the file's text. Properties checked on every input:
//  - nothing throws (hubctl would die with an uncaught exception instead of a report);
//  - every problem has a code and a message, and can be printed as JSON (hubctl --json);
//  - every row accepted is a valid wire event for the hub's own parser, with an event_id;
//  - encodings: a CSV that is neither UTF-8 nor GB18030 (Latin-1, UTF-16…) is refused with
//    invalid_encoding and no rows, one that is either never is; the same file in each other form
//    the import accepts (GB18030 instead of UTF-8 and a UTF-8 byte-order mark for CSV, CRLF line
//    ends for both) gives the same rows and the same issues (code, line, field).
#include <iconv.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/import_file.h"
#include "fuzz_check.h"
#include "domain/wire_event.h"

namespace {

hub::ImportFile import(const std::string& name, const std::string& text) {
  hub::ImportFile file = hub::parse_import(name, text);
  if (file.issues.empty()) hub::check_file_consistency(file);
  return file;
}

// What hubctl reports and sends, without the messages (they may quote a line as it was).
std::string outcome(const hub::ImportFile& file) {
  nlohmann::json out{{"kind", file.kind}, {"rows", nlohmann::json::array()}, {"issues", nlohmann::json::array()}};
  for (const auto& row : file.rows) out["rows"].push_back({row.line, row.event});
  for (const auto& issue : file.issues) out["issues"].push_back({issue.line, issue.code, issue.field});
  return out.dump();
}

// `text` converted by iconv, or nothing when it is not in `from` (the oracle for the import's
// own conversion).
std::optional<std::string> convert(const std::string& text, const char* from, const char* to) {
  iconv_t cd = iconv_open(to, from);
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out(text.size() * 4 + 4, '\0');
  char* in = const_cast<char*>(text.data());
  std::size_t in_left = text.size(), out_left = out.size();
  char* o = out.data();
  const std::size_t r = iconv(cd, &in, &in_left, &o, &out_left);
  iconv_close(cd);
  if (r == static_cast<std::size_t>(-1) || in_left != 0) return std::nullopt;
  out.resize(out.size() - out_left);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* kJsonNames[] = {"town.jsonl", "town.json", "town.ndjson", "town.jsonl"};
  const bool csv = (data[0] & 1) != 0;
  const std::string name = csv ? "town.csv" : kJsonNames[(data[0] >> 1) & 3];
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);

  const hub::ImportFile file = import(name, text);

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

  if (csv) {
    bool refused_encoding = false;
    for (const auto& issue : file.issues) refused_encoding = refused_encoding || issue.code == "invalid_encoding";
    const bool utf8 = hub::is_valid_utf8(text);
    const bool gb18030 = !utf8 && convert(text, "GB18030", "UTF-8").has_value();
    FUZZ_CHECK(refused_encoding == (!utf8 && !gb18030), "invalid_encoding exactly when neither UTF-8 nor GB18030");
    FUZZ_CHECK(!refused_encoding || file.rows.empty(), "nothing from a file in neither encoding");
    FUZZ_CHECK(file.encoding == (gb18030 ? "GB18030" : "UTF-8"), "the encoding reported is the one read");
    if (utf8 && text.rfind("\xEF\xBB\xBF", 0) != 0)
      FUZZ_CHECK(outcome(import(name, "\xEF\xBB\xBF" + text)) == outcome(file), "a byte-order mark changes nothing");
    // The same text saved as GB18030 (unless those bytes happen to be UTF-8 too, which is read
    // as UTF-8): the same rows and issues. NUL and text GB18030 cannot hold aside.
    if (utf8 && text.find('\0') == std::string::npos)
      if (const auto gb = convert(text, "UTF-8", "GB18030"); gb && !hub::is_valid_utf8(*gb))
        FUZZ_CHECK(outcome(import(name, *gb)) == outcome(file), "GB18030 instead of UTF-8 changes nothing");
  }
  // CRLF line ends; not where the text has CRs already, nor in a CSV with quotes (a quoted line
  // break is the field's content and would change with it).
  if (text.find('\r') == std::string::npos && (!csv || text.find('"') == std::string::npos)) {
    std::string crlf;
    for (const char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    FUZZ_CHECK(outcome(import(name, crlf)) == outcome(file), "CRLF line ends change nothing");
  }
  return 0;
}
