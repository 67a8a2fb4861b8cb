// Terminal output for hubctl: aligned tables that count a Chinese character as two columns,
// a progress bar that draws only on a terminal, and the two messages every verb prints when the
// hub is unreachable or refuses a request.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hub::cli {

// hubctl's exit codes (hubctl --help).
inline constexpr int kExitOk = 0, kExitRejected = 1, kExitUsage = 2, kExitUnreachable = 3;

// "hubctl: 无法连接枢纽 / the hub is unreachable at ENDPOINT (…)" on stderr; returns kExitUnreachable.
int report_unreachable(const std::string& endpoint);
// The hub's error reply on stderr: "hubctl: 被拒绝 / rejected: CODE: MESSAGE [field F]", then one
// line per batch item ("errors") or per department ("error.departments") it names; returns
// kExitRejected.
int report_rejected(const nlohmann::json& reply);

// Display width of UTF-8 text (wide East Asian characters count 2).
std::size_t display_width(const std::string& text);

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Draws "label [#####.....] done/total (pct%)" on stderr, on a terminal only.
class Progress {
 public:
  Progress(std::string label, std::size_t total);
  void update(std::size_t done);
  void finish();

 private:
  std::string label_;
  std::size_t total_;
  bool enabled_;
  int last_percent_ = -1;
};

// The per-department table of an import preview (admin "import_preview", admin/import_preview.h):
// per department how many actions of each kind, on how many households, and the money.
void print_import_preview(std::ostream& out, const nlohmann::json& preview);

// "1,234,567"
std::string group_digits(std::uint64_t value);
// "123.45" from fen
std::string yuan(std::int64_t fen);
// Milliseconds as "3.2 s", "4 min", "2.5 h".
std::string duration_text(std::int64_t ms);

}  // namespace hub::cli
