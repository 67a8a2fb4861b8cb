#include "hub/sdk/roster.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "hub/sdk/csv.h"

namespace hub::sdk {
namespace {

// "household_id,application_id,applied_on": the header as the messages name it.
std::string header_names(const RosterSpec& spec) {
  std::string out = "household_id";
  for (const std::string& column : spec.columns) out += "," + column;
  return out;
}

}  // namespace

std::optional<std::string> roster_path(const RosterSpec& spec, std::string_view config_json, std::string_view data_dir,
                                       std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  // Not this function's business to refuse a configuration it cannot parse: the catalogue
  // reader the plugin runs first reports that. Without settings the default path holds.
  const nlohmann::json config = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  const nlohmann::json settings =
      config.is_object() && config.contains("settings") ? config["settings"] : nlohmann::json::object();
  if (!settings.is_object()) {
    *error = spec.department + ": settings must be a JSON object";
    return std::nullopt;
  }
  const std::filesystem::path data(data_dir);
  const auto it = settings.find("roster");
  if (it == settings.end()) return (data / "roster.csv").string();
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    *error = spec.department + ": settings.roster must be a non-empty file path";
    return std::nullopt;
  }
  const std::filesystem::path configured(it->get<std::string>());
  return (configured.is_absolute() ? configured : data / configured).string();
}

std::optional<Roster> load_roster(const RosterSpec& spec, const std::string& path, const RosterRowCheck& check,
                                  std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  // Said apart from an unreadable file because a missing roster is the usual mistake on a new
  // hub, and the message tells what the file should hold.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    *error = spec.department + ": roster file not found: " + path + " (CSV with header " + header_names(spec) +
             (spec.contents.empty() ? "" : " " + spec.contents) + "; " + spec.remedy + ")";
    return std::nullopt;
  }
  std::string csv_error;
  auto table = read_csv_file(path, &csv_error);
  if (!table) {
    *error = spec.department + ": cannot read the roster: " + csv_error;
    return std::nullopt;
  }

  const auto household_column = table->column("household_id");
  std::vector<std::size_t> columns;
  bool complete = household_column.has_value();
  for (const std::string& name : spec.columns) {
    const auto column = table->column(name);
    complete = complete && column.has_value();
    if (column) columns.push_back(*column);
  }
  if (!complete) {
    *error = spec.department + ": roster " + path + ": the header must name the columns " + header_names(spec);
    return std::nullopt;
  }

  Roster roster{path, {}};
  roster.rows.reserve(table->rows.size());
  for (const CsvRow& csv_row : table->rows) {
    // Copied, not moved: a spec may name household_id among its columns too.
    RosterRow row{csv_row.line, csv_row.fields[*household_column], {}};
    row.fields.reserve(columns.size());
    for (std::size_t column : columns) row.fields.push_back(csv_row.fields[column]);
    std::optional<std::string> problem;
    if (row.household_id.empty()) {
      problem = "household_id is empty";
    } else if (check) {
      problem = check(row);
    }
    if (problem) {
      *error = spec.department + ": roster " + path + " line " + std::to_string(row.line) + ": " + *problem;
      return std::nullopt;
    }
    roster.rows.push_back(std::move(row));
  }
  return roster;
}

}  // namespace hub::sdk
