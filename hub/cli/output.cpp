#include "cli/output.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <iostream>

namespace hub::cli {

int report_unreachable(const std::string& endpoint) {
  std::cerr << "hubctl: 无法连接枢纽 / the hub is unreachable at " << endpoint
            << " (is hubd running? see --ingest/--admin/--data-dir)\n";
  return kExitUnreachable;
}

int report_rejected(const nlohmann::json& reply) {
  const nlohmann::json& e = reply.value("error", nlohmann::json::object());
  std::cerr << "hubctl: 被拒绝 / rejected: " << e.value("code", "error") << ": " << e.value("message", "");
  if (e.contains("field") && e["field"].is_string()) std::cerr << " [field " << e["field"].get<std::string>() << "]";
  std::cerr << "\n";
  if (reply.contains("errors") && reply["errors"].is_array())
    for (const auto& item : reply["errors"])
      std::cerr << "  #" << item.value("index", 0) << " " << item.value("code", "") << ": " << item.value("message", "")
                << "\n";
  if (e.contains("departments") && e["departments"].is_array())
    for (const auto& d : e["departments"])
      std::cerr << "  " << d.value("department", "") << ": " << d.value("state", "") << "\n";
  return kExitRejected;
}

std::size_t display_width(const std::string& text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    std::uint32_t cp = c;
    std::size_t len = 1;
    if (c >= 0xF0) { len = 4; cp = c & 0x07; }
    else if (c >= 0xE0) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xC0) { len = 2; cp = c & 0x1F; }
    for (std::size_t k = 1; k < len && i + k < text.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    width += (cp >= 0x1100 && (cp <= 0x115F || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
                               (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
                               (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000))
                 ? 2
                 : 1;
    i += len;
  }
  return width;
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  auto line = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(widths[i] - display_width(row[i]) + 2, ' ');
    }
    out << "\n";
  };
  line(header_);
  for (const auto& r : rows_) line(r);
}

Progress::Progress(std::string label, std::size_t total)
    : label_(std::move(label)), total_(total), enabled_(::isatty(2) == 1 && total > 0) {}

void Progress::update(std::size_t done) {
  if (!enabled_) return;
  const int percent = static_cast<int>(done * 100 / total_);
  if (percent == last_percent_) return;
  last_percent_ = percent;
  const int filled = percent * 30 / 100;
  std::fprintf(stderr, "\r%s [%s%s] %zu/%zu (%d%%)", label_.c_str(), std::string(filled, '#').c_str(),
               std::string(30 - filled, '.').c_str(), done, total_, percent);
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_) std::fprintf(stderr, "\n");
}

std::string group_digits(std::uint64_t value) {
  const std::string digits = std::to_string(value);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string yuan(std::int64_t fen) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", fen < 0 ? "-" : "", static_cast<long long>(std::llabs(fen) / 100),
                static_cast<long long>(std::llabs(fen) % 100));
  return buf;
}

std::string duration_text(std::int64_t ms) {
  char buf[32];
  if (ms < 60000) std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000.0);
  else if (ms < 3600000) std::snprintf(buf, sizeof buf, "%.0f min", ms / 60000.0);
  else std::snprintf(buf, sizeof buf, "%.1f h", ms / 3600000.0);
  return buf;
}

void print_import_preview(std::ostream& out, const nlohmann::json& preview) {
  static const char* const kKinds[][2] = {{"apply", "兑现 apply"},       {"defer", "暂缓 defer"},
                                          {"withhold", "不兑现 withhold"}, {"release", "补发 release"},
                                          {"restore", "恢复 restore"},     {"not_applicable", "不适用 n/a"}};
  std::vector<std::string> header{"部门 department", "依据 by", "事件 events"};
  for (const auto& kind : kKinds) header.push_back(kind[1]);
  header.push_back("兑付 paid ¥");
  header.push_back("失败 failed");
  Table table(header);
  for (const auto& d : preview.value("departments", nlohmann::json::array())) {
    std::vector<std::string> row{d.value("id", "") + " " + d.value("name_zh", ""),
                                 d.value("mode", "") == "plugin" ? "插件 plugin" : "目录 catalogue",
                                 group_digits(d.value("events", 0))};
    const nlohmann::json totals = d.value("totals", nlohmann::json::object());
    for (const auto& kind : kKinds) {
      const auto t = totals.find(kind[0]);
      if (t == totals.end()) {
        row.push_back("-");
        continue;
      }
      std::string cell = group_digits(t->value("actions", 0));
      if (t->value("amount_fen", std::int64_t{0}) != 0) cell += " (¥" + yuan(t->value("amount_fen", std::int64_t{0})) + ")";
      row.push_back(cell);
    }
    row.push_back(yuan(d.value("paid_fen", std::int64_t{0})));
    row.push_back(group_digits(d.value("failed", 0)));
    table.add(std::move(row));
  }
  out << "各部门将如何处理 / what each department would do:\n";
  table.print(out);
  for (const auto& d : preview.value("departments", nlohmann::json::array()))
    if (d.contains("note"))
      out << "  " << d.value("id", "") << ": 按政策目录估算，不含金额和名册政策 / estimated by the catalogue, without money "
          << "or roster policies: " << d.value("note", "") << "\n";
}

}  // namespace hub::cli
