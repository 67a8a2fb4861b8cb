// Tests of the SDK's roster loader: where the file is (settings.roster or <data_dir>/roster.csv),
// a good file, and each error a department's operator may see — missing file, unreadable CSV,
// missing column, empty household_id, a row the plugin refuses — with the line it names.
#include "hub/sdk/roster.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "testing/temp_dir.h"

namespace hub::sdk {
namespace {

using Fields = std::vector<std::string>;
using hub::testing::TempDir;

const RosterSpec kSchools{.department = "schools", .columns = {"children"}};
const RosterSpec kLand{
    .department = "land",
    .columns = {"application_id", "applied_on"},
    .contents = "listing pending homestead applications",
    .remedy = "generate it with the town generator or set settings.roster",
};

std::string load_error(const RosterSpec& spec, const std::string& path, const RosterRowCheck& check = {}) {
  std::string error;
  EXPECT_FALSE(load_roster(spec, path, check, &error).has_value()) << "expected an error";
  return error;
}

TEST(Roster, GoodFileGivesTheAskedColumnsInSpecOrderWithLineNumbers) {
  TempDir dir;
  // Columns in another order than the spec's, an extra column, a byte-order mark, CRLF and a
  // quoted field spanning two lines: the CSV reader's job, the roster only picks the columns.
  const std::string path = dir.write("roster.csv",
                                     "\xEF\xBB\xBF"
                                     "applied_on,note,household_id,application_id\r\n"
                                     "2020-03-02,first,V02-00010,A1\r\n"
                                     "2020-04-02,\"two\nlines\",V02-00011,A2\r\n"
                                     "2020-05-02,,V02-00010,A3\r\n");
  std::string error;
  const auto roster = load_roster(kLand, path, {}, &error);
  ASSERT_TRUE(roster.has_value()) << error;
  EXPECT_EQ(roster->path, path);
  ASSERT_EQ(roster->rows.size(), 3u);
  EXPECT_EQ(roster->rows[0].household_id, "V02-00010");
  EXPECT_EQ(roster->rows[0].fields, (Fields{"A1", "2020-03-02"}));
  EXPECT_EQ(roster->rows[1].household_id, "V02-00011");
  EXPECT_EQ(roster->rows[1].fields, (Fields{"A2", "2020-04-02"}));
  EXPECT_EQ(roster->rows[2].fields, (Fields{"A3", "2020-05-02"}));
  std::vector<std::size_t> lines;
  for (const RosterRow& row : roster->rows) lines.push_back(row.line);
  EXPECT_EQ(lines, (std::vector<std::size_t>{2, 3, 5}));  // the quoted field took lines 3 and 4
}

TEST(Roster, CheckSeesEveryRowInFileOrder) {
  TempDir dir;
  const std::string path = dir.write("roster.csv", "household_id,children\nV01-00001,2\nV01-00002,1\n");
  std::vector<std::string> seen;
  std::string error;
  const auto roster = load_roster(
      kSchools, path,
      [&](const RosterRow& row) -> std::optional<std::string> {
        seen.push_back(row.household_id + "=" + row.fields[0]);
        return std::nullopt;
      },
      &error);
  ASSERT_TRUE(roster.has_value()) << error;
  EXPECT_EQ(seen, (Fields{"V01-00001=2", "V01-00002=1"}));
  EXPECT_EQ(roster->rows.size(), 2u);
}

TEST(Roster, HeaderOnlyIsAnEmptyRoster) {
  TempDir dir;
  std::string error;
  const auto roster = load_roster(kSchools, dir.write("roster.csv", "household_id,children\n"), {}, &error);
  ASSERT_TRUE(roster.has_value()) << error;
  EXPECT_TRUE(roster->rows.empty());
}

TEST(Roster, MissingFileSaysWhatItShouldHold) {
  TempDir dir;
  const std::string path = dir.file("roster.csv");
  EXPECT_EQ(load_error(kSchools, path),
            "schools: roster file not found: " + path +
                " (CSV with header household_id,children; put the department's list there or set settings.roster)");
  EXPECT_EQ(load_error(kLand, path),
            "land: roster file not found: " + path +
                " (CSV with header household_id,application_id,applied_on listing pending homestead applications; "
                "generate it with the town generator or set settings.roster)");
}

TEST(Roster, DirectoryIsNotARosterFile) {
  TempDir dir;
  const std::string error = load_error(kSchools, dir.file());
  EXPECT_EQ(error.rfind("schools: roster file not found: " + dir.file(), 0), 0u) << error;
}

TEST(Roster, MalformedCsvNamesFileAndLine) {
  TempDir dir;
  const std::string path = dir.write("roster.csv", "household_id,children\nV01-00001,2\nV01-00002,\"1\n");
  EXPECT_EQ(load_error(kSchools, path),
            "schools: cannot read the roster: " + path + ": line 3: unterminated quoted field");
  const std::string short_row = dir.write("short.csv", "household_id,children\nV01-00001\n");
  EXPECT_EQ(load_error(kSchools, short_row),
            "schools: cannot read the roster: " + short_row + ": line 2: 1 fields, the header has 2");
}

TEST(Roster, HeaderMustNameEveryColumn) {
  TempDir dir;
  for (const std::string header : {"household_id,application_id", "application_id,applied_on", "household,id"}) {
    SCOPED_TRACE(header);
    const std::string path = dir.write("roster.csv", header + "\n");
    EXPECT_EQ(load_error(kLand, path),
              "land: roster " + path + ": the header must name the columns household_id,application_id,applied_on");
  }
}

TEST(Roster, EmptyHouseholdIdIsRefusedBeforeTheCheck) {
  TempDir dir;
  const std::string path = dir.write("roster.csv", "household_id,children\nV01-00001,2\n,1\n");
  int checked = 0;
  const std::string error = load_error(kSchools, path, [&](const RosterRow&) -> std::optional<std::string> {
    ++checked;
    return std::nullopt;
  });
  EXPECT_EQ(error, "schools: roster " + path + " line 3: household_id is empty");
  EXPECT_EQ(checked, 1);  // only the good row before it
}

TEST(Roster, RowTheCheckRefusesIsNamedByItsLineAndStopsTheLoading) {
  TempDir dir;
  const std::string path = dir.write("roster.csv", "household_id,children\nV01-00001,2\n\nV01-00002,0\nV01-00003,x\n");
  std::vector<std::string> seen;
  const std::string error = load_error(kSchools, path, [&](const RosterRow& row) -> std::optional<std::string> {
    seen.push_back(row.household_id);
    if (row.fields[0] == "0") return "children must be at least 1, got '0'";
    return std::nullopt;
  });
  // The blank line 3 is skipped but counted: the bad row is on line 4.
  EXPECT_EQ(error, "schools: roster " + path + " line 4: children must be at least 1, got '0'");
  EXPECT_EQ(seen, (Fields{"V01-00001", "V01-00002"}));  // nothing after the refused row
}

TEST(Roster, ErrorMayBeLeftOut) {
  TempDir dir;
  EXPECT_FALSE(load_roster(kSchools, dir.file("missing.csv"), {}, nullptr).has_value());
  EXPECT_FALSE(roster_path(kSchools, R"({"settings": {"roster": ""}})", dir.file(), nullptr).has_value());
}

TEST(RosterPath, DefaultIsRosterCsvInTheDataDirectory) {
  std::string error;
  EXPECT_EQ(roster_path(kSchools, R"({"id": "schools", "settings": {}})", "/var/hub/plugins/schools", &error),
            "/var/hub/plugins/schools/roster.csv");
  EXPECT_EQ(roster_path(kSchools, R"({"id": "schools"})", "/var/hub/plugins/schools", &error),
            "/var/hub/plugins/schools/roster.csv");
  // Configuration the plugin could not parse is the catalogue reader's to refuse.
  EXPECT_EQ(roster_path(kSchools, "not json", "/data", &error), "/data/roster.csv");
}

TEST(RosterPath, SettingIsRelativeToTheDataDirectoryUnlessAbsolute) {
  std::string error;
  EXPECT_EQ(roster_path(kSchools, R"({"settings": {"roster": "rosters/enrolled.csv"}})", "/data", &error),
            "/data/rosters/enrolled.csv");
  EXPECT_EQ(roster_path(kSchools, R"({"settings": {"roster": "/srv/school/enrolled.csv"}})", "/data", &error),
            "/srv/school/enrolled.csv");
}

TEST(RosterPath, MalformedSettingsAreErrorsNamingTheDepartment) {
  for (const std::string settings : {R"("")", R"(42)", R"({"x": 1})"}) {
    SCOPED_TRACE(settings);
    std::string error;
    const std::string config = R"({"settings": {"roster": )" + settings + "}}";
    EXPECT_FALSE(roster_path(kLand, config, "/data", &error).has_value());
    EXPECT_EQ(error, "land: settings.roster must be a non-empty file path");
  }
  std::string error;
  EXPECT_FALSE(roster_path(kLand, R"({"settings": ["roster.csv"]})", "/data", &error).has_value());
  EXPECT_EQ(error, "land: settings must be a JSON object");
}

}  // namespace
}  // namespace hub::sdk
