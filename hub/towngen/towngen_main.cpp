// hub-towngen: the command-line front end of the reference-town generator
// (town_generator.h). Exit codes: 0 done, 1 I/O failure, 2 usage error.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "town_generator.h"

namespace {

using hub::towngen::Status;

constexpr const char* kHelp =
    "hub-towngen — 生成确定性的参考乡镇数据（村、户、承诺书、两个季度的评议结果、部门名册） /\n"
    "generate a deterministic reference town (villages, households, commitments, two quarters of\n"
    "evaluations, department rosters) as CSV files plus summary.json.\n"
    "\n"
    "Usage: hub-towngen --out DIR [options]\n"
    "\n"
    "  --out DIR            输出目录 / output directory (required; created if missing)\n"
    "  --households N       户数 / number of households (default 17090, at most 100000000)\n"
    "  --villages V         村数 / number of villages (default 14; with more than 70000\n"
    "                       households and no --villages: one village per 5000 households)\n"
    "  --seed S             随机种子 / random seed (default 20200701); same arguments give\n"
    "                       byte-identical files\n"
    "  --plugin-data DIR    同时把名册复制到插件数据目录 / also copy the rosters to\n"
    "                       DIR/schools/roster.csv, DIR/land/roster.csv, DIR/finance/roster.csv\n"
    "  --quiet              不显示进度 / no progress lines (the final summary is still printed)\n"
    "  -h, --help           显示本帮助 / show this help\n"
    "\n"
    "Files: villages.csv, households.csv, commitments.csv, evaluations-2020Q3.csv,\n"
    "evaluations-2020Q4.csv, rosters/{schools,land,finance}.csv, summary.json.\n"
    "Exit codes: 0 ok, 1 I/O failure, 2 usage error.\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "hub-towngen: %s\nTry 'hub-towngen --help'.\n", message.c_str());
  return 2;
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end) return std::nullopt;
  return value;
}

std::string percent(std::size_t part, std::size_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

void print_summary(const hub::towngen::TownSummary& s, const hub::towngen::TownOptions& options, double seconds) {
  std::printf("hub-towngen: %zu households (户) in %zu villages (村), seed %llu, %.1f s\n", s.households,
              s.villages.size(), static_cast<unsigned long long>(s.seed), seconds);
  std::printf("  commitments signed (承诺书): %zu (%s)\n", s.commitments, percent(s.commitments, s.households).c_str());
  // Column titles padded by hand: each CJK character takes two columns on a terminal.
  std::printf("  quarter        credit 诚信 non_credit 不诚信       breach 违约   assistance 帮扶\n");
  for (const auto& q : s.quarters) {
    std::printf("  %-8s %8zu (%6s) %8zu (%6s) %8zu (%6s) %8zu (%6s)\n", q.quarter.c_str(), q.statuses[Status::kCredit],
                percent(q.statuses[Status::kCredit], s.households).c_str(), q.statuses[Status::kNonCredit],
                percent(q.statuses[Status::kNonCredit], s.households).c_str(), q.statuses[Status::kBreach],
                percent(q.statuses[Status::kBreach], s.households).c_str(), q.assistance,
                percent(q.assistance, s.households).c_str());
  }
  std::printf("  status changes %s -> %s: %zu", s.quarters[0].quarter.c_str(), s.quarters[1].quarter.c_str(), s.changed);
  const char* separator = " (";
  for (std::size_t from = 0; from < hub::towngen::kStatusCount; ++from) {
    for (std::size_t to = 0; to < hub::towngen::kStatusCount; ++to) {
      if (from == to) continue;
      std::printf("%s%s->%s %zu", separator, hub::towngen::status_id(static_cast<Status>(from)),
                  hub::towngen::status_id(static_cast<Status>(to)), s.changes[from][to]);
      separator = ", ";
    }
  }
  std::printf(")\n");
  const auto& r = s.rosters;
  std::printf("  rosters (名册): schools %zu households / %zu children; land %zu households / %zu applications;\n"
              "                 finance %zu only_child_reward + %zu rural_reward\n",
              r.school_households, r.school_children, r.land_households, r.land_applications, r.finance_only_child,
              r.finance_rural);
  std::printf("  output (输出): %s\n", s.out_dir.c_str());
  if (!options.plugin_data_dir.empty()) {
    std::printf("  plugin rosters (插件名册): %s/{schools,land,finance}/roster.csv\n", options.plugin_data_dir.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  hub::towngen::TownOptions options;
  bool quiet = false;

  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (arg == "--quiet" || arg == "-q") {
      quiet = true;
      continue;
    }
    // Options with a value: "--name VALUE" or "--name=VALUE".
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const bool takes_value = name == "--out" || name == "--households" || name == "--villages" || name == "--seed" ||
                             name == "--plugin-data";
    if (!takes_value) return usage_error("unknown option '" + std::string(arg) + "'");
    if (!value) {
      if (i + 1 >= argc) return usage_error("option " + std::string(name) + " needs a value");
      value = argv[++i];
    }

    if (name == "--out" || name == "--plugin-data") {
      if (value->empty()) return usage_error("option " + std::string(name) + " needs a non-empty directory");
      (name == "--out" ? options.out_dir : options.plugin_data_dir) = std::string(*value);
      continue;
    }
    const auto number = parse_number(*value);
    if (!number) {
      return usage_error("option " + std::string(name) + " needs a non-negative whole number, got '" +
                         std::string(*value) + "'");
    }
    if (name == "--households") {
      if (*number < 1 || *number > hub::towngen::kMaxHouseholds) {
        return usage_error("--households must be between 1 and " + std::to_string(hub::towngen::kMaxHouseholds));
      }
      options.households = static_cast<std::size_t>(*number);
    } else if (name == "--villages") {
      if (*number < 1 || *number > hub::towngen::kMaxVillages) {
        return usage_error("--villages must be between 1 and " + std::to_string(hub::towngen::kMaxVillages));
      }
      options.villages = static_cast<std::size_t>(*number);
    } else {
      options.seed = *number;
    }
  }
  if (options.out_dir.empty()) return usage_error("missing --out DIR");

  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (!quiet) {
    options.progress = [&elapsed](std::size_t done, std::size_t total) {
      std::fprintf(stderr, "hub-towngen: %zu / %zu households (%zu%%), %.1f s\n", done, total, done * 100 / total,
                   elapsed());
    };
  }

  try {
    const auto summary = hub::towngen::generate_town(options);
    print_summary(summary, options, elapsed());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hub-towngen: %s\n", e.what());
    return 1;
  }
  return 0;
}
