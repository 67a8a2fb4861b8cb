// The reference-town generator: writes a deterministic, realistic town (villages, households,
// commitments, two quarters of evaluations or more, and the department rosters) as CSV files, plus a
// summary.json of the counts that a correct hub must reproduce.
//
// The hub's tests, benchmarks and demos all need the same town: the 14 villages and 17,090
// households of SPEC §2, or a county of 1,000,000 households. `hub-towngen` is the command-line
// front end; tests and tools call generate_town() directly. The output depends only on
// TownOptions (never on the clock, the platform or the standard library's distributions): the
// same options give byte-identical files. Rows are streamed to disk as they are generated, so
// memory stays small for any size. generate_town() is a plain function with no shared state;
// any thread may call it, but two calls must not write into the same directory at once.
//
// Files written into out_dir (UTF-8, '\n' line endings, header row first, RFC 4180 quoting
// only where a field needs it), every one sorted by household id:
//   villages.csv               village,name_zh,name_en,households
//   households.csv             household_id,village,head,members
//   commitments.csv            household_id,signed_on
//   evaluations-2020Q3.csv     household_id,status,quarter,effective_date,designations,basis
//   evaluations-2020Q4.csv     (same columns; designations joined with ';'), and with
//                              quarters > 2 evaluations-2021Q1.csv … one file per quarter
//   complaints.csv             (quarters > 2 only) household_id,quarter,channel,received_on,
//                              summary,outcome,ruled_on,ruling,corrected_status: complaints about
//                              quarters before the last, each ruled upheld (corrected_status) or
//                              dismissed within 15 days; at most one per household
//   rosters/schools.csv        household_id,children
//   rosters/land.csv           household_id,application_id,applied_on
//   rosters/finance.csv        household_id,policy_id,amount_fen_per_quarter
//   summary.json               the counts in TownSummary
// With plugin_data_dir set, the rosters are also copied to <plugin_data_dir>/<department>/
// roster.csv, where the schools, land and finance plugins read them.
//
// Ids: villages are "V" + a number of at least two digits ("V01".."V14"); households are
// "<village>-" + a number of at least five digits ("V03-00417"). When a town has more than 99
// villages, or a village more than 99,999 households, every id of that town is widened to the
// same width, so that sorting ids as text is the same as sorting them by number.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hub::towngen {

inline constexpr std::size_t kDefaultHouseholds = 17090;
inline constexpr std::size_t kDefaultVillages = 14;
inline constexpr std::uint64_t kDefaultSeed = 20200701;
// With villages == 0 (automatic), a town larger than kDefaultVillages * kAutoVillageSize
// households gets ceil(households / kAutoVillageSize) villages instead of the default 14.
inline constexpr std::size_t kAutoVillageSize = 5000;
// Upper bounds that keep the arithmetic exact and the output on a sane scale (10^8 households
// is roughly 10 GB of CSV).
inline constexpr std::size_t kMaxHouseholds = 100000000;
inline constexpr std::size_t kMaxVillages = 1000000;
// Quarters of evaluations, from 2020Q3 on: two by default (2020Q3, 2020Q4), up to ten years.
inline constexpr std::size_t kDefaultQuarters = 2;
inline constexpr std::size_t kMaxQuarters = 40;

struct TownOptions {
  std::size_t households = kDefaultHouseholds;  // 1..kMaxHouseholds
  std::size_t villages = 0;  // 0 = automatic (see kAutoVillageSize); villages may stay empty
                             // when there are fewer households than villages
  std::uint64_t seed = kDefaultSeed;
  // kDefaultQuarters..kMaxQuarters. Each quarter after the first follows the one before it with
  // the same transition rates; the first two are the same for any number of quarters.
  std::size_t quarters = kDefaultQuarters;
  std::string out_dir;          // required; created if missing, existing files overwritten
  std::string plugin_data_dir;  // optional; empty = do not copy the rosters
  // Called on the calling thread after every `progress_every` households (not at 0, and not
  // necessarily at the end). Empty = no progress reports.
  std::function<void(std::size_t done, std::size_t total)> progress;
  std::size_t progress_every = 100000;
};

enum class Status { kCredit = 0, kNonCredit = 1, kBreach = 2 };
inline constexpr std::size_t kStatusCount = 3;
// "credit", "non_credit", "breach" (the wire spellings, SPEC §2).
const char* status_id(Status status) noexcept;

struct StatusCounts {
  std::array<std::size_t, kStatusCount> by_status{};  // indexed by Status

  std::size_t& operator[](Status s) noexcept { return by_status[static_cast<std::size_t>(s)]; }
  std::size_t operator[](Status s) const noexcept { return by_status[static_cast<std::size_t>(s)]; }
  std::size_t total() const noexcept { return by_status[0] + by_status[1] + by_status[2]; }
};

struct VillageSummary {
  std::string id;       // "V01"
  std::string name_zh;  // "东风村"
  std::string name_en;  // "Dongfeng Village"
  std::size_t households = 0;
};

struct QuarterSummary {
  std::string quarter;         // "2020Q3"
  std::string effective_date;  // "2020-10-01"
  StatusCounts statuses;
  std::size_t assistance = 0;                  // households designated "assistance"
  std::vector<StatusCounts> village_statuses;  // index-aligned with TownSummary::villages
  std::vector<std::size_t> village_assistance;  // index-aligned with TownSummary::villages
};

struct RosterSummary {
  std::size_t school_households = 0;  // rows of rosters/schools.csv
  std::size_t school_children = 0;    // sum of its children column
  std::size_t land_households = 0;    // households with at least one pending application
  std::size_t land_applications = 0;  // rows of rosters/land.csv
  std::size_t finance_only_child = 0;  // rows with policy finance.only_child_reward
  std::size_t finance_rural = 0;       // rows with policy finance.rural_reward
  std::uint64_t finance_fen_per_quarter = 0;  // sum of amount_fen_per_quarter
};

struct TownSummary {
  std::uint64_t seed = 0;
  std::size_t households = 0;
  std::size_t commitments = 0;  // every household signs: equals households
  std::vector<VillageSummary> villages;
  std::vector<QuarterSummary> quarters;  // [0] = 2020Q3, [1] = 2020Q4, [2] = 2021Q1, …
  // changes[from][to]: households whose status went from `from` (2020Q3) to `to` (2020Q4);
  // the diagonal counts households that kept their status.
  std::array<std::array<std::size_t, kStatusCount>, kStatusCount> changes{};
  std::size_t changed = 0;  // sum of the off-diagonal entries
  std::size_t complaints = 0;         // rows of complaints.csv (not in summary.json)
  std::size_t complaints_upheld = 0;  // of those, upheld
  RosterSummary rosters;
  std::string out_dir;
};

// Generates the town described by `options` into options.out_dir (and the rosters into
// options.plugin_data_dir if set) and returns its counts, which are also written to
// summary.json. Throws std::invalid_argument for bad options (households or villages out of
// range, empty out_dir) and std::runtime_error naming the path on any I/O failure.
TownSummary generate_town(const TownOptions& options);

// The number of villages generate_town() uses for `options` (resolves villages == 0).
std::size_t resolve_village_count(const TownOptions& options) noexcept;

}  // namespace hub::towngen
