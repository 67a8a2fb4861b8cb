// Tests of the reference-town generator: determinism, the shape of the town, the status mix,
// that summary.json agrees with counts recomputed from the CSV files, and the command line.
#include "town_generator.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace hub::towngen {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::vector<std::string> kTownFiles = {
    "villages.csv",           "households.csv",      "commitments.csv",  "evaluations-2020Q3.csv",
    "evaluations-2020Q4.csv", "rosters/schools.csv", "rosters/land.csv", "rosters/finance.csv",
    "summary.json"};

using hub::testing::TempDir;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A strict RFC 4180 reader: '\n' line ends only (a '\r' anywhere is an error), header row
// first, every row as wide as the header.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  std::size_t col(const std::string& name) const {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) throw std::runtime_error("no column " + name);
    return static_cast<std::size_t>(it - header.begin());
  }
};

Csv read_csv(const fs::path& path) {
  const std::string text = read_file(path);
  if (text.find('\r') != std::string::npos) throw std::runtime_error(path.string() + ": contains \\r");
  if (text.empty() || text.back() != '\n') throw std::runtime_error(path.string() + ": no final newline");
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
    } else {
      field += c;
    }
  }
  if (quoted) throw std::runtime_error(path.string() + ": unterminated quote");
  Csv csv;
  csv.header = records.at(0);
  for (std::size_t i = 1; i < records.size(); ++i) {
    if (records[i].size() != csv.header.size()) {
      throw std::runtime_error(path.string() + ": row " + std::to_string(i + 1) + " has the wrong width");
    }
    csv.rows.push_back(std::move(records[i]));
  }
  return csv;
}

std::size_t to_size(const std::string& text) { return static_cast<std::size_t>(std::stoull(text)); }

// True if `text` has the given shape: '#' stands for one ASCII digit, any other character for
// itself. (std::regex would do, but GCC 12 warns inside it in sanitizer builds.)
bool has_shape(std::string_view text, std::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool ok = shape[i] == '#' ? (text[i] >= '0' && text[i] <= '9') : text[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

// A real date of 2020, "2020-MM-DD".
bool is_2020_date(const std::string& text) {
  if (!has_shape(text, "2020-##-##")) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int month = std::stoi(text.substr(5, 2));
  const int day = std::stoi(text.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= kDays[month - 1];
}

TownSummary generate(const TempDir& dir, std::size_t households = kDefaultHouseholds, std::size_t villages = 0,
                     std::uint64_t seed = kDefaultSeed, const std::string& plugin_data_dir = "") {
  TownOptions options;
  options.households = households;
  options.villages = villages;
  options.seed = seed;
  options.out_dir = dir.str();
  options.plugin_data_dir = plugin_data_dir;
  return generate_town(options);
}

// The default town is generated once and shared by the read-only tests.
class DefaultTown : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    summary_ = new TownSummary(generate(*dir_));
  }
  static void TearDownTestSuite() {
    delete summary_;
    delete dir_;
    summary_ = nullptr;
    dir_ = nullptr;
  }
  static fs::path file(const std::string& name) { return dir_->path() / name; }

  static TempDir* dir_;
  static TownSummary* summary_;
};
TempDir* DefaultTown::dir_ = nullptr;
TownSummary* DefaultTown::summary_ = nullptr;

// Everything summary.json claims, recomputed from the CSV files, and the returned TownSummary.
void expect_summary_matches_csv(const fs::path& dir, const TownSummary& returned) {
  const Json summary = Json::parse(read_file(dir / "summary.json"));

  const Csv villages = read_csv(dir / "villages.csv");
  const Csv households = read_csv(dir / "households.csv");
  const Csv commitments = read_csv(dir / "commitments.csv");
  EXPECT_EQ(summary["households"].get<std::size_t>(), households.rows.size());
  EXPECT_EQ(returned.households, households.rows.size());
  EXPECT_EQ(summary["villages"].get<std::size_t>(), villages.rows.size());
  EXPECT_EQ(returned.villages.size(), villages.rows.size());
  EXPECT_EQ(summary["commitments"].get<std::size_t>(), commitments.rows.size());
  EXPECT_EQ(summary["seed"].get<std::uint64_t>(), returned.seed);

  std::map<std::string, std::size_t> village_households;
  for (const auto& row : households.rows) ++village_households[row[households.col("village")]];
  ASSERT_EQ(summary["village_list"].size(), villages.rows.size());
  for (std::size_t i = 0; i < villages.rows.size(); ++i) {
    const auto& row = villages.rows[i];
    const auto& jv = summary["village_list"][i];
    EXPECT_EQ(jv["village"], row[villages.col("village")]);
    EXPECT_EQ(jv["name_zh"], row[villages.col("name_zh")]);
    EXPECT_EQ(jv["households"].get<std::size_t>(), to_size(row[villages.col("households")]));
    EXPECT_EQ(village_households[row[0]], to_size(row[villages.col("households")])) << row[0];
  }

  std::map<std::string, std::string> q3_status;
  for (std::size_t q = 0; q < 2; ++q) {
    const std::string quarter = q == 0 ? "2020Q3" : "2020Q4";
    const Csv evaluations = read_csv(dir / ("evaluations-" + quarter + ".csv"));
    const Json& jq = summary["quarters"][quarter];
    std::map<std::string, std::size_t> totals;
    std::map<std::string, std::map<std::string, std::size_t>> per_village;  // village -> status/assistance -> n
    std::size_t assistance = 0;
    std::map<std::string, std::size_t> pairs;
    for (const auto& row : evaluations.rows) {
      const std::string& id = row[evaluations.col("household_id")];
      const std::string& status = row[evaluations.col("status")];
      const std::string village = id.substr(0, id.find('-'));
      ++totals[status];
      ++per_village[village][status];
      if (row[evaluations.col("designations")] == "assistance") {
        ++assistance;
        ++per_village[village]["assistance"];
      }
      if (q == 0) {
        q3_status[id] = status;
      } else if (q3_status.at(id) != status) {
        ++pairs[q3_status.at(id) + "->" + status];
      }
    }
    EXPECT_EQ(jq["households"].get<std::size_t>(), evaluations.rows.size());
    EXPECT_EQ(jq["assistance"].get<std::size_t>(), assistance) << quarter;
    EXPECT_EQ(returned.quarters[q].assistance, assistance) << quarter;
    for (const char* status : {"credit", "non_credit", "breach"}) {
      EXPECT_EQ(jq["statuses"][status].get<std::size_t>(), totals[status]) << quarter << " " << status;
    }
    for (std::size_t s = 0; s < kStatusCount; ++s) {
      EXPECT_EQ(returned.quarters[q].statuses.by_status[s], totals[status_id(static_cast<Status>(s))]);
    }
    ASSERT_EQ(jq["villages"].size(), villages.rows.size());
    for (const auto& row : villages.rows) {
      const std::string& village = row[0];
      for (const char* key : {"credit", "non_credit", "breach", "assistance"}) {
        EXPECT_EQ(jq["villages"][village][key].get<std::size_t>(), per_village[village][key])
            << quarter << " " << village << " " << key;
      }
    }
    if (q == 1) {
      std::size_t changed = 0;
      for (const auto& [pair, n] : pairs) changed += n;
      EXPECT_EQ(summary["changes"]["changed"].get<std::size_t>(), changed);
      EXPECT_EQ(returned.changed, changed);
      EXPECT_EQ(summary["changes"]["pairs"].size(), 6u);
      for (const auto& [pair, n] : summary["changes"]["pairs"].items()) {
        EXPECT_EQ(n.get<std::size_t>(), pairs[pair]) << pair;
      }
    }
  }

  const Csv schools = read_csv(dir / "rosters/schools.csv");
  const Csv land = read_csv(dir / "rosters/land.csv");
  const Csv finance = read_csv(dir / "rosters/finance.csv");
  std::size_t children = 0;
  for (const auto& row : schools.rows) children += to_size(row[schools.col("children")]);
  std::set<std::string> land_households;
  for (const auto& row : land.rows) land_households.insert(row[land.col("household_id")]);
  std::size_t only_child = 0;
  std::size_t rural = 0;
  std::uint64_t fen = 0;
  for (const auto& row : finance.rows) {
    (row[finance.col("policy_id")] == "finance.only_child_reward" ? only_child : rural) += 1;
    fen += to_size(row[finance.col("amount_fen_per_quarter")]);
  }
  const Json& r = summary["rosters"];
  EXPECT_EQ(r["schools"]["rows"].get<std::size_t>(), schools.rows.size());
  EXPECT_EQ(r["schools"]["children"].get<std::size_t>(), children);
  EXPECT_EQ(r["land"]["rows"].get<std::size_t>(), land.rows.size());
  EXPECT_EQ(r["land"]["households"].get<std::size_t>(), land_households.size());
  EXPECT_EQ(r["finance"]["rows"].get<std::size_t>(), finance.rows.size());
  EXPECT_EQ(r["finance"]["finance.only_child_reward"].get<std::size_t>(), only_child);
  EXPECT_EQ(r["finance"]["finance.rural_reward"].get<std::size_t>(), rural);
  EXPECT_EQ(r["finance"]["amount_fen_per_quarter"].get<std::uint64_t>(), fen);
  EXPECT_EQ(returned.rosters.school_households, schools.rows.size());
  EXPECT_EQ(returned.rosters.land_applications, land.rows.size());
  EXPECT_EQ(returned.rosters.finance_only_child + returned.rosters.finance_rural, finance.rows.size());
}

// Household ids are unique, sorted, numbered 1..n within each village, and every other file
// lists only known households, in the same order.
void expect_ids_consistent(const fs::path& dir, std::string_view id_shape) {
  const Csv villages = read_csv(dir / "villages.csv");
  const Csv households = read_csv(dir / "households.csv");
  std::vector<std::string> ids;
  for (const auto& row : households.rows) {
    ids.push_back(row[0]);
    EXPECT_TRUE(has_shape(row[0], id_shape)) << row[0];
    EXPECT_EQ(row[0].substr(0, row[0].find('-')), row[households.col("village")]);
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "duplicate id";
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());

  std::vector<std::string> village_ids;
  for (const auto& row : villages.rows) village_ids.push_back(row[0]);
  EXPECT_TRUE(std::is_sorted(village_ids.begin(), village_ids.end()));
  std::map<std::string, std::size_t> next_number;
  for (const auto& id : ids) {
    const std::string village = id.substr(0, id.find('-'));
    EXPECT_TRUE(std::binary_search(village_ids.begin(), village_ids.end(), village)) << id;
    EXPECT_EQ(to_size(id.substr(id.find('-') + 1)), ++next_number[village]) << id;
  }

  // Commitments and evaluations: exactly one row per household, in household order.
  for (const char* name : {"commitments.csv", "evaluations-2020Q3.csv", "evaluations-2020Q4.csv"}) {
    const Csv csv = read_csv(dir / name);
    ASSERT_EQ(csv.rows.size(), ids.size()) << name;
    for (std::size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(csv.rows[i][0], ids[i]) << name;
  }
  // Rosters: known households, sorted (land may list a household twice, the others not).
  const std::set<std::string> known(ids.begin(), ids.end());
  for (const char* name : {"rosters/schools.csv", "rosters/land.csv", "rosters/finance.csv"}) {
    const Csv csv = read_csv(dir / name);
    std::vector<std::string> roster_ids;
    for (const auto& row : csv.rows) {
      EXPECT_TRUE(known.count(row[0])) << name << " " << row[0];
      roster_ids.push_back(row[0]);
    }
    EXPECT_TRUE(std::is_sorted(roster_ids.begin(), roster_ids.end())) << name;
    if (std::string(name) != "rosters/land.csv") {
      EXPECT_EQ(std::adjacent_find(roster_ids.begin(), roster_ids.end()), roster_ids.end()) << name;
    }
  }
}

TEST(TownGeneratorTest, SameOptionsGiveByteIdenticalFiles) {
  TempDir a, b, data_a, data_b;
  generate(a, kDefaultHouseholds, 0, kDefaultSeed, data_a.str());
  generate(b, kDefaultHouseholds, 0, kDefaultSeed, data_b.str());
  for (const auto& name : kTownFiles) {
    EXPECT_EQ(read_file(a.path() / name), read_file(b.path() / name)) << name;
  }
  for (const char* department : {"schools", "land", "finance"}) {
    const auto roster = fs::path(department) / "roster.csv";
    EXPECT_EQ(read_file(data_a.path() / roster), read_file(data_b.path() / roster)) << department;
  }
}

TEST(TownGeneratorTest, ADifferentSeedGivesADifferentTown) {
  TempDir a, b;
  generate(a, 2000, 0, 1);
  generate(b, 2000, 0, 2);
  EXPECT_NE(read_file(a.path() / "households.csv"), read_file(b.path() / "households.csv"));
  EXPECT_NE(read_file(a.path() / "evaluations-2020Q3.csv"), read_file(b.path() / "evaluations-2020Q3.csv"));
}

TEST_F(DefaultTown, HasTheReferenceTownsVillagesAndHouseholds) {
  const Csv villages = read_csv(file("villages.csv"));
  EXPECT_EQ(villages.header, (std::vector<std::string>{"village", "name_zh", "name_en", "households"}));
  ASSERT_EQ(villages.rows.size(), 14u);
  std::size_t total = 0;
  std::size_t smallest = SIZE_MAX;
  std::size_t largest = 0;
  std::set<std::string> names;
  for (std::size_t i = 0; i < villages.rows.size(); ++i) {
    const auto& row = villages.rows[i];
    EXPECT_EQ(row[0], (i < 9 ? "V0" : "V1") + std::to_string((i + 1) % 10));
    EXPECT_FALSE(row[1].empty());
    EXPECT_FALSE(row[2].empty());
    names.insert(row[1]);
    const std::size_t n = to_size(row[3]);
    total += n;
    smallest = std::min(smallest, n);
    largest = std::max(largest, n);
  }
  EXPECT_EQ(names.size(), 14u) << "village names are distinct";
  EXPECT_EQ(villages.rows[0][1], "东风村");
  EXPECT_EQ(total, 17090u);
  EXPECT_GT(largest, smallest * 3 / 2) << "village sizes should be uneven";
  EXPECT_GT(smallest, 0u);

  const Csv households = read_csv(file("households.csv"));
  EXPECT_EQ(households.header, (std::vector<std::string>{"household_id", "village", "head", "members"}));
  EXPECT_EQ(households.rows.size(), 17090u);
  std::map<std::size_t, std::size_t> sizes;
  for (const auto& row : households.rows) {
    EXPECT_GE(row[2].size(), 6u) << "a Chinese name of at least two characters";
    const std::size_t members = to_size(row[3]);
    EXPECT_GE(members, 1u);
    EXPECT_LE(members, 7u);
    ++sizes[members];
  }
  EXPECT_GT(sizes[3] + sizes[4] + sizes[5], 17090u * 6 / 10) << "mostly 3-5 members";
  EXPECT_GT(sizes[1], 0u);
  EXPECT_GT(sizes[7], 0u);
  EXPECT_EQ(summary_->households, 17090u);
  EXPECT_EQ(summary_->villages.size(), 14u);
}

TEST_F(DefaultTown, IdsAreUniqueSortedAndConsistentAcrossFiles) {
  expect_ids_consistent(dir_->path(), "V##-#####");
}

TEST_F(DefaultTown, EveryHouseholdSignedItsCommitmentBetweenMarchAndJune) {
  const Csv commitments = read_csv(file("commitments.csv"));
  EXPECT_EQ(commitments.header, (std::vector<std::string>{"household_id", "signed_on"}));
  EXPECT_EQ(commitments.rows.size(), 17090u);
  std::set<std::string> valid_dates;  // 2020-03-01 .. 2020-06-30
  for (const auto& [month, days] : {std::pair{3, 31}, std::pair{4, 30}, std::pair{5, 31}, std::pair{6, 30}}) {
    for (int day = 1; day <= days; ++day) {
      valid_dates.insert("2020-0" + std::to_string(month) + (day < 10 ? "-0" : "-") + std::to_string(day));
    }
  }
  std::set<std::string> months;
  for (const auto& row : commitments.rows) {
    ASSERT_TRUE(valid_dates.count(row[1])) << row[1];
    months.insert(row[1].substr(0, 7));
  }
  EXPECT_EQ(months.size(), 4u);
  EXPECT_EQ(summary_->commitments, 17090u);
}

TEST_F(DefaultTown, EvaluationsHaveTheDocumentedColumnsAndValues) {
  for (const char* quarter : {"2020Q3", "2020Q4"}) {
    const Csv csv = read_csv(file(std::string("evaluations-") + quarter + ".csv"));
    EXPECT_EQ(csv.header, (std::vector<std::string>{"household_id", "status", "quarter", "effective_date",
                                                    "designations", "basis"}));
    const std::string effective = std::string(quarter) == "2020Q3" ? "2020-10-01" : "2021-01-01";
    const std::string month = std::string(quarter) == "2020Q3" ? "2020-09-" : "2020-12-";
    for (const auto& row : csv.rows) {
      ASSERT_TRUE(row[1] == "credit" || row[1] == "non_credit" || row[1] == "breach") << row[1];
      ASSERT_EQ(row[2], quarter);
      ASSERT_EQ(row[3], effective);
      ASSERT_TRUE(row[4].empty() || row[4] == "assistance") << row[4];
      ASSERT_EQ(row[5].rfind(month, 0), 0u) << row[5];
      ASSERT_NE(row[5].find("评议小组会议纪要"), std::string::npos) << row[5];
      ASSERT_NE(row[5].find("evaluation group meeting minutes"), std::string::npos) << row[5];
    }
  }
}

TEST_F(DefaultTown, StatusMixIsRealistic) {
  const double n = 17090.0;
  const auto& q3 = summary_->quarters[0];
  EXPECT_GE(q3.statuses[Status::kCredit] / n, 0.90);
  EXPECT_LE(q3.statuses[Status::kCredit] / n, 0.97);
  EXPECT_GE(q3.statuses[Status::kNonCredit] / n, 0.03);
  EXPECT_LE(q3.statuses[Status::kNonCredit] / n, 0.08);
  EXPECT_GE(q3.statuses[Status::kBreach] / n, 0.002);
  EXPECT_LE(q3.statuses[Status::kBreach] / n, 0.015);
  EXPECT_GE(q3.assistance / n, 0.04);
  EXPECT_LE(q3.assistance / n, 0.08);

  // Some villages are noticeably worse than others.
  double best = 1.0;
  double worst = 0.0;
  for (std::size_t i = 0; i < summary_->villages.size(); ++i) {
    const auto& counts = q3.village_statuses[i];
    const double bad = static_cast<double>(counts[Status::kNonCredit] + counts[Status::kBreach]) / counts.total();
    best = std::min(best, bad);
    worst = std::max(worst, bad);
  }
  EXPECT_GT(worst, 2 * best);
  EXPECT_GT(worst, 0.09);

  const auto& q4 = summary_->quarters[1];
  EXPECT_GE(q4.statuses[Status::kCredit] / n, 0.90);
  EXPECT_LE(q4.statuses[Status::kCredit] / n, 0.98);
  EXPECT_GE(q4.assistance / n, 0.04);
  EXPECT_LE(q4.assistance / n, 0.08);
}

TEST_F(DefaultTown, Q4HasChangesInEachDirection) {
  const auto& c = summary_->changes;
  const auto idx = [](Status s) { return static_cast<std::size_t>(s); };
  EXPECT_GT(c[idx(Status::kNonCredit)][idx(Status::kCredit)], 0u);
  EXPECT_GT(c[idx(Status::kBreach)][idx(Status::kCredit)], 0u);
  EXPECT_GT(c[idx(Status::kCredit)][idx(Status::kNonCredit)], 0u);
  EXPECT_GT(c[idx(Status::kCredit)][idx(Status::kBreach)], 0u);
  // About 40% of non_credit households recover; most households keep their status.
  const auto& q3 = summary_->quarters[0].statuses;
  const double recovered =
      static_cast<double>(c[idx(Status::kNonCredit)][idx(Status::kCredit)]) / q3[Status::kNonCredit];
  EXPECT_GT(recovered, 0.30);
  EXPECT_LT(recovered, 0.50);
  EXPECT_LT(summary_->changed, 17090u / 10);
  EXPECT_GT(summary_->changed, 0u);
}

TEST_F(DefaultTown, RostersHaveRealisticSizesAndValues) {
  const double n = 17090.0;
  const Csv schools = read_csv(file("rosters/schools.csv"));
  EXPECT_EQ(schools.header, (std::vector<std::string>{"household_id", "children"}));
  std::map<std::size_t, std::size_t> children;
  for (const auto& row : schools.rows) ++children[to_size(row[1])];
  EXPECT_GE(schools.rows.size() / n, 0.30);
  EXPECT_LE(schools.rows.size() / n, 0.40);
  EXPECT_EQ(children.begin()->first, 1u);
  EXPECT_EQ(children.rbegin()->first, 3u);
  EXPECT_GT(children[1], schools.rows.size() / 2) << "mostly one child";

  const Csv land = read_csv(file("rosters/land.csv"));
  EXPECT_EQ(land.header, (std::vector<std::string>{"household_id", "application_id", "applied_on"}));
  std::set<std::string> applications;
  std::map<std::string, std::size_t> per_household;
  for (const auto& row : land.rows) {
    EXPECT_TRUE(has_shape(row[1], "ZJD-2020-######")) << row[1];
    EXPECT_TRUE(is_2020_date(row[2])) << row[2];
    EXPECT_LE(row[2], "2020-09-30") << "pending before the 2020Q3 evaluation";
    applications.insert(row[1]);
    ++per_household[row[0]];
  }
  EXPECT_EQ(applications.size(), land.rows.size()) << "application ids are unique";
  EXPECT_GE(per_household.size() / n, 0.02);
  EXPECT_LE(per_household.size() / n, 0.04);
  const auto two = std::count_if(per_household.begin(), per_household.end(), [](const auto& p) { return p.second == 2; });
  EXPECT_GT(two, 0);
  EXPECT_LT(static_cast<std::size_t>(two), per_household.size() / 4);

  const Csv finance = read_csv(file("rosters/finance.csv"));
  EXPECT_EQ(finance.header, (std::vector<std::string>{"household_id", "policy_id", "amount_fen_per_quarter"}));
  std::size_t only_child = 0;
  std::size_t only_child_two_parents = 0;
  std::size_t rural = 0;
  for (const auto& row : finance.rows) {
    const std::size_t amount = to_size(row[2]);
    if (row[1] == "finance.only_child_reward") {
      ++only_child;
      EXPECT_TRUE(amount == 3000 || amount == 6000) << amount;
      only_child_two_parents += amount == 6000;
    } else {
      EXPECT_EQ(row[1], "finance.rural_reward");
      ++rural;
      EXPECT_TRUE(amount == 24000 || amount == 48000) << amount;
    }
  }
  EXPECT_GE(only_child / n, 0.19);
  EXPECT_LE(only_child / n, 0.25);
  EXPECT_GT(only_child_two_parents, only_child / 2) << "usually two parents";
  EXPECT_GE(rural / n, 0.07);
  EXPECT_LE(rural / n, 0.11);
}

TEST_F(DefaultTown, SummaryJsonMatchesTheCsvFiles) { expect_summary_matches_csv(dir_->path(), *summary_); }

TEST(TownGeneratorTest, SmallTownsWork) {
  for (std::size_t n : {1u, 2u, 10u, 14u, 15u}) {
    SCOPED_TRACE("households " + std::to_string(n));
    TempDir dir;
    const TownSummary summary = generate(dir, n);
    EXPECT_EQ(summary.households, n);
    EXPECT_EQ(summary.villages.size(), 14u);
    EXPECT_EQ(read_csv(dir.path() / "households.csv").rows.size(), n);
    expect_ids_consistent(dir.path(), "V##-#####");
    expect_summary_matches_csv(dir.path(), summary);
  }
}

TEST(TownGeneratorTest, VillageCountIsAutomaticForLargeTowns) {
  TownOptions options;
  options.households = 17090;
  EXPECT_EQ(resolve_village_count(options), 14u);
  options.households = 70000;
  EXPECT_EQ(resolve_village_count(options), 14u);
  options.households = 70001;
  EXPECT_EQ(resolve_village_count(options), 15u);
  options.households = 1000000;
  EXPECT_EQ(resolve_village_count(options), 200u);
  options.villages = 3;
  EXPECT_EQ(resolve_village_count(options), 3u);
}

TEST(TownGeneratorTest, ManyVillagesWidenIdsSoTheyStaySorted) {
  TempDir dir;
  const TownSummary summary = generate(dir, 3000, 120);
  ASSERT_EQ(summary.villages.size(), 120u);
  EXPECT_EQ(summary.villages[0].id, "V001");
  EXPECT_EQ(summary.villages[14].id, "V015");
  EXPECT_EQ(summary.villages[14].name_zh, "第15村");
  EXPECT_EQ(summary.villages[119].id, "V120");
  expect_ids_consistent(dir.path(), "V###-#####");
  expect_summary_matches_csv(dir.path(), summary);
}

TEST(TownGeneratorTest, HugeVillagesWidenHouseholdNumbers) {
  TempDir dir;
  const TownSummary summary = generate(dir, 150000, 1);
  ASSERT_EQ(summary.villages.size(), 1u);
  const Csv households = read_csv(dir.path() / "households.csv");
  EXPECT_EQ(households.rows.front()[0], "V01-000001");
  EXPECT_EQ(households.rows.back()[0], "V01-150000");
}

TEST(TownGeneratorTest, ReportsProgress) {
  TempDir dir;
  TownOptions options;
  options.households = 2500;
  options.out_dir = dir.str();
  options.progress_every = 1000;
  std::vector<std::size_t> reports;
  options.progress = [&reports](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, 2500u);
    reports.push_back(done);
  };
  generate_town(options);
  EXPECT_EQ(reports, (std::vector<std::size_t>{1000, 2000}));
}

TEST(TownGeneratorTest, CopiesRostersIntoPluginDataDirectories) {
  TempDir dir, data;
  generate(dir, 500, 0, kDefaultSeed, (data.path() / "var" / "plugins").string());
  for (const char* department : {"schools", "land", "finance"}) {
    EXPECT_EQ(read_file(data.path() / "var" / "plugins" / department / "roster.csv"),
              read_file(dir.path() / "rosters" / (std::string(department) + ".csv")))
        << department;
  }
}

TEST(TownGeneratorTest, RejectsBadOptionsAndReportsIoFailures) {
  TempDir dir;
  TownOptions options;
  options.out_dir = dir.str();
  options.households = 0;
  EXPECT_THROW(generate_town(options), std::invalid_argument);
  options.households = 10;
  options.out_dir.clear();
  EXPECT_THROW(generate_town(options), std::invalid_argument);

  // out_dir below a regular file cannot be created.
  std::ofstream(dir.path() / "plain-file") << "x";
  options.out_dir = (dir.path() / "plain-file" / "town").string();
  try {
    generate_town(options);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("plain-file"), std::string::npos) << e.what();
  }
}

// ---- the command line

int run(const std::string& arguments, const TempDir& dir) {
  const std::string command =
      std::string(HUB_TOWNGEN_EXE) + " " + arguments + " >" + dir.str("stdout") + " 2>" + dir.str("stderr");
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(TownGeneratorCliTest, BadUsageExitsWithTwoAndAClearMessage) {
  TempDir dir;
  const std::string out = " --out " + dir.str("town");
  EXPECT_EQ(run("--bogus" + out, dir), 2);
  EXPECT_NE(read_file(dir.path() / "stderr").find("unknown option '--bogus'"), std::string::npos);
  EXPECT_EQ(run("--households many" + out, dir), 2);
  EXPECT_NE(read_file(dir.path() / "stderr").find("'many'"), std::string::npos);
  EXPECT_EQ(run("--households 0" + out, dir), 2);
  EXPECT_EQ(run("--households -5" + out, dir), 2);
  EXPECT_EQ(run("--households 12x" + out, dir), 2);
  EXPECT_EQ(run("--villages 0" + out, dir), 2);
  EXPECT_EQ(run("--quarters 1" + out, dir), 2);
  EXPECT_NE(read_file(dir.path() / "stderr").find("--quarters must be between 2 and 40"), std::string::npos);
  EXPECT_EQ(run("--quarters 41" + out, dir), 2);
  EXPECT_EQ(run("--quarters eight" + out, dir), 2);
  EXPECT_EQ(run("--seed" + out.substr(0, 6), dir), 2);  // "--seed --out": --out taken as value
  EXPECT_EQ(run("--households 10", dir), 2);
  EXPECT_NE(read_file(dir.path() / "stderr").find("--out"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "town"));
}

TEST(TownGeneratorCliTest, HelpIsBilingual) {
  TempDir dir;
  EXPECT_EQ(run("--help", dir), 0);
  const std::string help = read_file(dir.path() / "stdout");
  EXPECT_NE(help.find("--households"), std::string::npos);
  EXPECT_NE(help.find("--plugin-data"), std::string::npos);
  EXPECT_NE(help.find("--quarters"), std::string::npos);
  EXPECT_NE(help.find("户数"), std::string::npos);
  EXPECT_NE(help.find("reference town"), std::string::npos);
}

TEST(TownGeneratorCliTest, WritesTheSameTownAsTheLibrary) {
  TempDir dir, library;
  ASSERT_EQ(run("--out " + dir.str("town") + " --households 300 --villages 5 --seed=7 --plugin-data " +
                    dir.str("data") + " --quiet",
                dir),
            0);
  generate(library, 300, 5, 7);
  for (const auto& name : kTownFiles) {
    EXPECT_EQ(read_file(dir.path() / "town" / name), read_file(library.path() / name)) << name;
  }
  EXPECT_TRUE(fs::exists(dir.path() / "data" / "finance" / "roster.csv"));
  const std::string stdout_text = read_file(dir.path() / "stdout");
  EXPECT_NE(stdout_text.find("300 households"), std::string::npos) << stdout_text;
  EXPECT_NE(stdout_text.find("2020Q4"), std::string::npos) << stdout_text;
}

// A programme of eight quarters (2020Q3 … 2022Q2): one evaluations file per quarter, each with
// one row per household and its quarter's effective date; the counts in summary.json; every
// status and the assistance designation in each later quarter; and the files of a two-quarter
// town (rosters, the first two quarters …) byte for byte the same, so that tests and benchmarks
// of the default town are unaffected by longer ones.
TEST(TownGeneratorTest, EightQuartersFollowEachOtherAndKeepTheFirstTwo) {
  TempDir two, eight;
  generate(two, 2000, 4, 11);
  TownOptions options;
  options.households = 2000;
  options.villages = 4;
  options.seed = 11;
  options.quarters = 8;
  options.out_dir = eight.str();
  const TownSummary summary = generate_town(options);
  for (const auto& name : kTownFiles) EXPECT_EQ(read_file(eight.path() / name) == read_file(two.path() / name),
                                                 name != "summary.json") << name;
  const std::vector<std::pair<std::string, std::string>> quarters{
      {"2020Q3", "2020-10-01"}, {"2020Q4", "2021-01-01"}, {"2021Q1", "2021-04-01"}, {"2021Q2", "2021-07-01"},
      {"2021Q3", "2021-10-01"}, {"2021Q4", "2022-01-01"}, {"2022Q1", "2022-04-01"}, {"2022Q2", "2022-07-01"}};
  ASSERT_EQ(summary.quarters.size(), quarters.size());
  const Json json = Json::parse(read_file(eight.path() / "summary.json"));
  ASSERT_EQ(json["quarters"].size(), quarters.size());
  std::map<std::string, std::string> previous;
  std::size_t changed = 0;
  for (std::size_t q = 0; q < quarters.size(); ++q) {
    const auto& [quarter, effective] = quarters[q];
    EXPECT_EQ(summary.quarters[q].quarter, quarter);
    EXPECT_EQ(summary.quarters[q].effective_date, effective);
    const Csv csv = read_csv(eight.path() / ("evaluations-" + quarter + ".csv"));
    ASSERT_EQ(csv.rows.size(), 2000u) << quarter;
    std::map<std::string, std::size_t> totals;
    for (const auto& row : csv.rows) {
      EXPECT_EQ(row[csv.col("quarter")], quarter);
      EXPECT_EQ(row[csv.col("effective_date")], effective);
      EXPECT_NE(row[csv.col("basis")].find(quarter.substr(0, 4) + "-"), std::string::npos) << row[csv.col("basis")];
      ++totals[row[csv.col("status")]];
      if (row[csv.col("designations")] == "assistance") ++totals["assistance"];
      const std::string& id = row[csv.col("household_id")];
      if (q > 0 && previous[id] != row[csv.col("status")]) ++changed;
      previous[id] = row[csv.col("status")];
    }
    for (const char* status : {"credit", "non_credit", "breach"}) {
      EXPECT_GT(totals[status], 0u) << quarter << " " << status;
      EXPECT_EQ(json["quarters"][quarter]["statuses"][status].get<std::size_t>(), totals[status]) << quarter;
    }
    EXPECT_GT(totals["assistance"], 0u) << quarter;
    EXPECT_EQ(summary.quarters[q].assistance, totals["assistance"]) << quarter;
  }
  EXPECT_GT(changed, 6 * summary.changed / 2) << "households change status in the later quarters too";

  // Complaints about quarters before the last, ruled within the 15-day deadline; an upheld one
  // corrects the quarter to another status. A two-quarter town has none.
  EXPECT_FALSE(fs::exists(two.path() / "complaints.csv"));
  const Csv complaints = read_csv(eight.path() / "complaints.csv");
  ASSERT_EQ(complaints.rows.size(), summary.complaints);
  EXPECT_GT(summary.complaints, 0u);
  EXPECT_GT(summary.complaints_upheld, 0u);
  EXPECT_LT(summary.complaints_upheld, summary.complaints);
  std::set<std::string> complained;
  for (const auto& row : complaints.rows) {
    const std::string& id = row[complaints.col("household_id")];
    const std::string& quarter = row[complaints.col("quarter")];
    EXPECT_TRUE(complained.insert(id).second) << id << " complains twice";
    EXPECT_LT(quarter, "2022Q2") << "not about the last quarter";
    std::string effective, evaluated;
    for (const auto& [q, e] : quarters)
      if (q == quarter) effective = e;
    const Csv evaluations = read_csv(eight.path() / ("evaluations-" + quarter + ".csv"));
    for (const auto& r : evaluations.rows)
      if (r[0] == id) evaluated = r[evaluations.col("status")];
    const std::string& received = row[complaints.col("received_on")];
    const std::string& ruled = row[complaints.col("ruled_on")];
    EXPECT_GT(received, effective) << id;
    EXPECT_GE(ruled, received) << id;
    const std::string& outcome = row[complaints.col("outcome")];
    const std::string& corrected = row[complaints.col("corrected_status")];
    if (outcome == "upheld") {
      EXPECT_FALSE(corrected.empty()) << id;
      EXPECT_NE(corrected, evaluated) << id;
    } else {
      EXPECT_EQ(outcome, "dismissed");
      EXPECT_TRUE(corrected.empty()) << id;
    }
  }

  options.quarters = 1;
  EXPECT_THROW(generate_town(options), std::invalid_argument);
  options.quarters = kMaxQuarters + 1;
  EXPECT_THROW(generate_town(options), std::invalid_argument);
}

}  // namespace
}  // namespace hub::towngen
