// Rosters: a department's own list of the households a policy concerns (which households have
// children at the school, which have pending homestead applications, which are paid a reward),
// kept as a CSV file in the plugin's data directory and read once in on_start.
//
// roster_path() finds the file: settings.roster of the plugin's configuration (relative to
// the data directory) or <data_dir>/roster.csv. load_roster() reads it with the SDK's CSV
// reader, checks the header names the columns the department needs and that no household_id
// is empty, and hands each row to the plugin's own check, row by row. Every error is a
// complete message for HandleResult::error that starts with the department's id and names the
// file and, for a bad row, its line, so the operator sees in `hubctl status` what to fix:
//
//   const hub::sdk::RosterSpec kRoster{.department = "schools", .columns = {"children"}};
//   std::string error;
//   auto path = hub::sdk::roster_path(kRoster, host.config_json(), host.data_dir(), &error);
//   if (!path) return HandleResult::error(error);
//   auto roster = hub::sdk::load_roster(kRoster, *path, [&](const hub::sdk::RosterRow& row)
//       -> std::optional<std::string> {
//     if (row.fields[0] == "0") return "children must be at least 1";  // "schools: roster … line 3: …"
//     return std::nullopt;
//   }, &error);
//   if (!roster) return HandleResult::error(error);
//
// Like csv.h this is part of the SDK's static library, compiled into the plugin; nothing here
// crosses the plugin boundary, so it is not part of the ABI (scripts/sdk_abi_fingerprint.py).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hub::sdk {

// What a department's roster looks like. Every roster has a household_id column; `columns`
// are the others the department needs. The file may have more columns, in any order; they are
// ignored. Every member has an initializer so that a designated initializer may leave any out
// without a -Wmissing-field-initializers warning in the plugin's build.
struct RosterSpec {
  std::string department{};            // the plugin's id; starts every message: "land"
  std::vector<std::string> columns{};  // besides household_id: {"application_id", "applied_on"}
  // What the file lists, for the message when it is missing, e.g. "listing pending homestead
  // applications" gives "(CSV with header household_id,application_id,applied_on listing …".
  std::string contents{};
  // What the operator can do about a missing file; ends the message.
  std::string remedy = "put the department's list there or set settings.roster";
};

// One row of the roster, with the values of the columns the spec names.
struct RosterRow {
  std::size_t line = 0;             // 1-based line of the file where the row starts
  std::string household_id;         // never empty
  std::vector<std::string> fields;  // the values of RosterSpec::columns, in that order
};

struct Roster {
  std::string path;             // the file it was read from
  std::vector<RosterRow> rows;  // in file order
};

// The plugin's check of one row, called in file order after household_id was found non-empty:
// nothing when the row is accepted, otherwise what is wrong with it ("children must be …").
// It may also take the row into the plugin's own tables; a row it refuses ends the loading.
// load_roster throws nothing of its own; should the check throw, the exception reaches the
// caller unchanged (and, from a hook, the SDK's entry points turn it into an error result).
using RosterRowCheck = std::function<std::optional<std::string>(const RosterRow& row)>;

// Where the roster is: the plugin configuration's settings.roster (Host::config_json()),
// relative to data_dir unless absolute, or <data_dir>/roster.csv when it is not set. On a
// malformed setting returns nothing and sets *error ("land: settings.roster must be a
// non-empty file path", "land: settings must be a JSON object").
std::optional<std::string> roster_path(const RosterSpec& spec, std::string_view config_json, std::string_view data_dir,
                                       std::string* error);

// Reads and checks the roster at `path`, stopping at the first problem. On failure returns
// nothing and sets *error to one of (for spec.department "schools", columns {"children"}):
//   "schools: roster file not found: <path> (CSV with header household_id,children; <remedy>)"
//   "schools: cannot read the roster: <path>: line 4: unterminated quoted field"
//   "schools: roster <path>: the header must name the columns household_id,children"
//   "schools: roster <path> line 3: household_id is empty"
//   "schools: roster <path> line 3: " + what check() said
// `check` may be empty: every row with a household_id is accepted.
std::optional<Roster> load_roster(const RosterSpec& spec, const std::string& path, const RosterRowCheck& check,
                                  std::string* error);

}  // namespace hub::sdk
