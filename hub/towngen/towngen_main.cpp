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

#include "common/command_line.h"
#include "town_generator.h"

namespace {

using hub::towngen::Status;

constexpr const char* kDescription =
    "hub-towngen — 生成确定性的参考乡镇数据（村、户、承诺书、各季度的评议结果、部门名册） /\n"
    "generate a deterministic reference town (villages, households, commitments, two quarters of\n"
    "evaluations or more, department rosters) as CSV files plus summary.json.";

constexpr const char* kFooter =
    "Files: villages.csv, households.csv, commitments.csv, evaluations-2020Q3.csv,\n"
    "evaluations-2020Q4.csv (and with --quarters N one file per quarter: evaluations-2021Q1.csv …),\n"
    "rosters/{schools,land,finance}.csv, summary.json.\n"
    "Exit codes: 0 ok, 1 I/O failure, 2 usage error.";

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
  if (s.complaints > 0)
    std::printf("  complaints (投诉): %zu about earlier quarters, %zu upheld (complaints.csv)\n", s.complaints,
                s.complaints_upheld);
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
  // Numbers are taken as text and checked below, so that a bad one is named with its value.
  std::string households, villages, seed, quarters;
  CLI::App app(kDescription, "hub-towngen");
  app.footer(kFooter);
  hub::command_line::repeated_options_take_the_last(app);
  app.add_option("--out", options.out_dir, "输出目录 / output directory (required; created if missing)")
      ->type_name("DIR")
      ->required();
  app.add_option("--households", households, "户数 / number of households (default 17090, at most 100000000)")
      ->type_name("N");
  app.add_option("--villages", villages,
                 "村数 / number of villages (default 14; with more than 70000 households and no --villages: one "
                 "village per 5000 households)")
      ->type_name("V");
  app.add_option("--seed", seed, "随机种子 / random seed (default 20200701); same arguments give byte-identical files")
      ->type_name("S");
  app.add_option("--quarters", quarters,
                 "季度数 / quarters of evaluations from 2020Q3 (default 2, at most 40); the first two are the same "
                 "for any number")
      ->type_name("N");
  app.add_option("--plugin-data", options.plugin_data_dir,
                 "同时把名册复制到插件数据目录 / also copy the rosters to DIR/schools/roster.csv, "
                 "DIR/land/roster.csv, DIR/finance/roster.csv")
      ->type_name("DIR");
  app.add_flag("-q,--quiet", quiet, "不显示进度 / no progress lines (the final summary is still printed)");
  if (const auto exit_code = hub::command_line::parse_command_line(app, argc, argv)) return *exit_code;

  for (const auto* dir : {app.get_option("--out"), app.get_option("--plugin-data")})
    if (dir->count() > 0 && dir->as<std::string>().empty())
      return hub::command_line::usage_error(app, "option " + dir->get_name() + " needs a non-empty directory");
  // The number in `text` for `name`, within [low, high]; writes the usage error and returns
  // nullopt when it is not.
  auto number = [&app](const char* name, const std::string& text, std::uint64_t low,
                       std::uint64_t high) -> std::optional<std::uint64_t> {
    const auto value = parse_number(text);
    if (!value) {
      hub::command_line::usage_error(app, std::string("option ") + name +
                                              " needs a non-negative whole number, got '" + text + "'");
    } else if (*value < low || *value > high) {
      hub::command_line::usage_error(app, std::string(name) + " must be between " + std::to_string(low) + " and " +
                                              std::to_string(high));
      return std::nullopt;
    }
    return value;
  };
  if (app.count("--households") > 0) {
    const auto n = number("--households", households, 1, hub::towngen::kMaxHouseholds);
    if (!n) return hub::command_line::kUsageError;
    options.households = static_cast<std::size_t>(*n);
  }
  if (app.count("--villages") > 0) {
    const auto n = number("--villages", villages, 1, hub::towngen::kMaxVillages);
    if (!n) return hub::command_line::kUsageError;
    options.villages = static_cast<std::size_t>(*n);
  }
  if (app.count("--quarters") > 0) {
    const auto n = number("--quarters", quarters, hub::towngen::kDefaultQuarters, hub::towngen::kMaxQuarters);
    if (!n) return hub::command_line::kUsageError;
    options.quarters = static_cast<std::size_t>(*n);
  }
  if (app.count("--seed") > 0) {
    const auto n = number("--seed", seed, 0, UINT64_MAX);
    if (!n) return hub::command_line::kUsageError;
    options.seed = *n;
  }

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
