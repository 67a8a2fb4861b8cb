// The town model and its CSV/JSON output. See town_generator.h for the contract.
//
// Determinism: every random decision comes from std::mt19937_64 (whose output sequence the
// C++ standard fixes) through the integer helpers in Rng below; no std::*_distribution (their
// algorithms are implementation-defined) and no floating point (so no dependence on FMA
// contraction or rounding modes). Probabilities are integers in parts per million.
#include "town_generator.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

namespace hub::towngen {

namespace fs = std::filesystem;

const char* status_id(Status status) noexcept {
  switch (status) {
    case Status::kCredit:
      return "credit";
    case Status::kNonCredit:
      return "non_credit";
    case Status::kBreach:
      return "breach";
  }
  return "credit";
}

std::size_t resolve_village_count(const TownOptions& options) noexcept {
  if (options.villages != 0) return options.villages;
  if (options.households > kDefaultVillages * kAutoVillageSize) {
    return (options.households + kAutoVillageSize - 1) / kAutoVillageSize;
  }
  return kDefaultVillages;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Randomness

constexpr std::uint32_t kMillion = 1000000;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, n), n >= 1, without modulo bias: rejects the raw values below 2^64 mod n.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const std::uint64_t x = engine_();
      if (x >= threshold) return x % n;
    }
  }

  // Uniform in [lo, hi], lo <= hi.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }

  // True with probability ppm / 1,000,000.
  bool bernoulli(std::uint32_t ppm) { return below(kMillion) < ppm; }

  // An index into `weights`, chosen with probability proportional to its weight.
  template <std::size_t N>
  std::size_t weighted(const std::array<std::uint32_t, N>& weights) {
    std::uint64_t total = 0;
    for (auto w : weights) total += w;
    std::uint64_t x = below(total);
    for (std::size_t i = 0; i < N; ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return N - 1;
  }

 private:
  std::mt19937_64 engine_;
};

// SplitMix64 finaliser: derives independent per-village seeds from the town seed, so that one
// village's households do not depend on how many random numbers earlier villages consumed.
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// ---------------------------------------------------------------------------------------------
// Reference data

struct VillageName {
  const char* zh;
  const char* en;
};

constexpr std::array<VillageName, 14> kVillageNames = {{
    {"东风村", "Dongfeng Village"},
    {"红旗村", "Hongqi Village"},
    {"新华社区", "Xinhua Community"},
    {"向阳村", "Xiangyang Village"},
    {"前进村", "Qianjin Village"},
    {"胜利村", "Shengli Village"},
    {"团结村", "Tuanjie Village"},
    {"和平村", "Heping Village"},
    {"光明村", "Guangming Village"},
    {"五星村", "Wuxing Village"},
    {"长青村", "Changqing Village"},
    {"桃园村", "Taoyuan Village"},
    {"大王庄村", "Dawangzhuang Village"},
    {"河口社区", "Hekou Community"},
}};

// Common surnames, roughly in order of frequency (the picker favours the front of the list).
constexpr std::array<const char*, 60> kSurnames = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏",
    "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金"};

// Given names typical of heads of household born 1940s-1980s.
constexpr std::array<const char*, 48> kMaleGivenNames = {
    "建国", "建华", "建军", "建平", "国强", "国庆", "国华", "志刚", "志强", "志明", "卫东", "卫国",
    "红军", "永红", "永强", "德明", "德华", "春生", "长林", "海涛", "文斌", "文华", "明亮", "宏伟",
    "玉成", "金山", "福生", "树林", "保国", "振华", "学军", "新民", "伟", "军", "勇", "涛",
    "斌", "强", "磊", "刚", "平", "辉", "鹏", "杰", "超", "林", "峰", "兵"};
constexpr std::array<const char*, 36> kFemaleGivenNames = {
    "秀英", "桂英", "秀兰", "玉兰", "桂兰", "凤英", "淑珍", "春梅", "丽娟", "红梅", "海燕", "秀珍",
    "玉梅", "美华", "翠花", "金凤", "月娥", "素芬", "桂芳", "小红", "丽", "敏", "静", "艳",
    "芳", "霞", "娟", "燕", "萍", "红", "英", "华", "兰", "琴", "梅", "莉"};

// Household size 1..7, mostly 3-5 (weights in per mille).
constexpr std::array<std::uint32_t, 7> kMemberWeights = {40, 120, 280, 300, 160, 70, 30};
// Chance of having children at the central school, by household size 1..7 (ppm): ~35% overall.
constexpr std::array<std::uint32_t, 7> kSchoolPpm = {0, 100000, 380000, 400000, 420000, 440000, 450000};
// Number of school children 1..3, mostly 1 (weights in per mille).
constexpr std::array<std::uint32_t, 3> kChildrenWeights = {700, 250, 50};

// 2020Q3 base rates (ppm), scaled per village so that some villages are noticeably worse
// while the town as a whole stays near 94% / 5% / 0.7%.
constexpr std::uint64_t kNonCreditPpm = 50000;
constexpr std::uint64_t kBreachPpm = 7000;
constexpr std::uint32_t kAssistancePpm = 60000;

// 2020Q4 transitions (ppm) from each 2020Q3 status; the rest keep their status.
constexpr std::uint32_t kCreditToNonCreditPpm = 15000;
constexpr std::uint32_t kCreditToBreachPpm = 3000;
constexpr std::uint32_t kNonCreditToCreditPpm = 400000;
constexpr std::uint32_t kNonCreditToBreachPpm = 20000;
constexpr std::uint32_t kBreachToCreditPpm = 200000;
constexpr std::uint32_t kBreachToNonCreditPpm = 100000;
constexpr std::uint32_t kAssistanceKeptPpm = 920000;
constexpr std::uint32_t kAssistanceNewPpm = 4000;

constexpr std::uint32_t kLandPpm = 30000;            // households with a pending application
constexpr std::uint32_t kLandSecondPpm = 80000;      // of those, with a second one
constexpr std::uint32_t kOnlyChildPpm = 220000;      // 独生子女父母奖励费
constexpr std::uint32_t kRuralRewardPpm = 90000;     // 农村部分计划生育家庭奖励扶助
constexpr std::uint32_t kOnlyChildTwoParentsPpm = 850000;
constexpr std::uint32_t kRuralTwoPersonsPpm = 600000;
constexpr std::uint64_t kOnlyChildFenPerParent = 3000;
constexpr std::uint64_t kRuralFenPerPerson = 24000;

constexpr const char* kOnlyChildPolicy = "finance.only_child_reward";
constexpr const char* kRuralPolicy = "finance.rural_reward";

// Quarters after the first two draw from streams of their own (seeded with this salt), so that
// a town of two quarters is byte for byte what it was before towns had more.
constexpr std::uint64_t kLaterQuartersSalt = 0x9e3779b97f4a7c15ULL;

struct QuarterSpec {
  std::string quarter;         // "2020Q3"
  std::string effective_date;  // "2020-10-01": the first day of the next quarter
  std::string meeting_month;   // "2020-09": village evaluation meetings happen late that month
};

// Complaints (投诉举报, only in towns of more than two quarters): a household's evaluation of
// one quarter before the last is challenged with this probability per quarter, once at most;
// this many in a million of them are upheld and put the quarter right.
constexpr std::uint64_t kComplaintsSalt = 0x5851f42d4c957f2dULL;
constexpr std::uint32_t kComplaintPpm = 400;
constexpr std::uint32_t kComplaintUpheldPpm = 400000;
constexpr std::array<const char*, 5> kChannels = {"town_box", "village_box", "phone", "visit", "online"};

// `date` ("YYYY-MM-DD") plus `days`.
std::string add_days(const std::string& date, int days) {
  using namespace std::chrono;
  const year_month_day ymd{year{std::stoi(date.substr(0, 4))}, month{static_cast<unsigned>(std::stoi(date.substr(5, 2)))},
                           day{static_cast<unsigned>(std::stoi(date.substr(8, 2)))}};
  const year_month_day later{sys_days{ymd} + std::chrono::days{days}};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(later.year()), static_cast<unsigned>(later.month()),
                static_cast<unsigned>(later.day()));
  return text;
}

// The k-th quarter of the town's evaluations (0 = 2020Q3, 1 = 2020Q4, 2 = 2021Q1, …).
QuarterSpec quarter_spec(std::size_t k) {
  const std::size_t index = 2 + k;  // quarters since 2020Q1
  const std::size_t year = 2020 + index / 4, q = index % 4 + 1;
  const std::size_t next_year = q == 4 ? year + 1 : year, next_q = q % 4 + 1;
  const auto two = [](std::size_t n) { return (n < 10 ? "0" : "") + std::to_string(n); };
  return {std::to_string(year) + "Q" + std::to_string(q),
          std::to_string(next_year) + "-" + two((next_q - 1) * 3 + 1) + "-01",
          std::to_string(year) + "-" + two(q * 3)};
}

// ---------------------------------------------------------------------------------------------
// Formatting

std::size_t decimal_digits(std::uint64_t n) {
  std::size_t digits = 1;
  while (n >= 10) {
    n /= 10;
    ++digits;
  }
  return digits;
}

// Appends n in decimal, left-padded with zeros to at least `width` digits.
void append_number(std::string& out, std::uint64_t n, std::size_t width = 0) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, n);
  const auto len = static_cast<std::size_t>(result.ptr - buf);
  if (len < width) out.append(width - len, '0');
  out.append(buf, len);
}

std::string padded(std::uint64_t n, std::size_t width) {
  std::string s;
  append_number(s, n, width);
  return s;
}

// "2020-MM-DD" for a day of the year 2020 (1 = 1 January; 2020 is a leap year).
std::string date_2020(std::int64_t day_of_year) {
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int month = 0;
  auto day = day_of_year;
  while (month < 11 && day > kDays[static_cast<std::size_t>(month)]) {
    day -= kDays[static_cast<std::size_t>(month)];
    ++month;
  }
  std::string s = "2020-";
  append_number(s, static_cast<std::uint64_t>(month + 1), 2);
  s += '-';
  append_number(s, static_cast<std::uint64_t>(day), 2);
  return s;
}

constexpr std::int64_t kMarch1 = 61;    // day of year of 2020-03-01
constexpr std::int64_t kJune30 = 182;   // day of year of 2020-06-30

// Streams CSV rows to a file with a large buffer. Fields are quoted only when they contain a
// comma, a quote or a line break (RFC 4180). Errors throw std::runtime_error naming the file.
class CsvWriter {
 public:
  CsvWriter(fs::path path, std::initializer_list<std::string_view> header) : path_(std::move(path)) {
    file_ = std::fopen(path_.c_str(), "wb");
    if (file_ == nullptr) fail("cannot create");
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);
    for (auto h : header) field(h);
    end_row();
  }
  ~CsvWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  CsvWriter& field(std::string_view value) {
    if (fields_ > 0) row_ += ',';
    ++fields_;
    if (value.find_first_of(",\"\n\r") == std::string_view::npos) {
      row_ += value;
    } else {
      row_ += '"';
      for (char c : value) {
        if (c == '"') row_ += '"';
        row_ += c;
      }
      row_ += '"';
    }
    return *this;
  }
  CsvWriter& field(std::uint64_t value) {
    if (fields_ > 0) row_ += ',';
    ++fields_;
    append_number(row_, value);
    return *this;
  }

  void end_row() {
    row_ += '\n';
    if (std::fwrite(row_.data(), 1, row_.size(), file_) != row_.size()) fail("cannot write");
    row_.clear();
    fields_ = 0;
  }

  void close() {
    const bool write_error = std::ferror(file_) != 0;
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (write_error || rc != 0) fail("cannot write");
  }

 private:
  [[noreturn]] void fail(const char* what) {
    const int err = errno;
    throw std::runtime_error(std::string(what) + " " + path_.string() + ": " +
                             (err != 0 ? std::strerror(err) : "I/O error"));
  }

  fs::path path_;
  std::FILE* file_ = nullptr;
  std::string row_;  // the row being built; reused to avoid allocations
  std::size_t fields_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The town

struct Village {
  std::string id;
  std::string name_zh;
  std::string name_en;
  std::size_t households = 0;
  std::uint64_t non_credit_ppm = 0;  // 2020Q3 rates after the village's own factor
  std::uint64_t breach_ppm = 0;
  std::int64_t campaign_start = kMarch1;  // first day of the commitment-signing campaign
  std::vector<std::string> basis;         // per quarter
  std::array<std::size_t, 2> clan_surnames{};  // the village's two most common surnames
};

// Splits `total` households over villages in proportion to `weights`, exactly (largest
// remainder; ties go to the lower index).
std::vector<std::size_t> apportion(std::size_t total, const std::vector<std::uint64_t>& weights) {
  std::uint64_t weight_sum = 0;
  for (auto w : weights) weight_sum += w;
  std::vector<std::size_t> shares(weights.size());
  std::vector<std::pair<std::uint64_t, std::size_t>> remainders;  // (remainder, index)
  std::size_t assigned = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const std::uint64_t product = static_cast<std::uint64_t>(total) * weights[i];
    shares[i] = static_cast<std::size_t>(product / weight_sum);
    assigned += shares[i];
    remainders.emplace_back(product % weight_sum, i);
  }
  std::sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (std::size_t k = 0; assigned < total; ++k, ++assigned) ++shares[remainders[k].second];
  return shares;
}

std::vector<Village> plan_villages(std::size_t households, std::size_t village_count, std::size_t quarters,
                                   std::uint64_t seed, Rng& rng) {
  std::vector<Village> villages(village_count);
  const std::size_t id_width = std::max<std::size_t>(2, decimal_digits(village_count));

  // Uneven sizes: weights 40..200 (a factor of five between the smallest and largest village).
  std::vector<std::uint64_t> weights(village_count);
  for (auto& w : weights) w = static_cast<std::uint64_t>(rng.uniform_int(40, 200));
  const auto sizes = apportion(households, weights);

  // Evaluation quality: most villages near the average, about one in seven "troubled"
  // (2-3x the town's non_credit and breach rates) and one model village.
  std::vector<std::uint64_t> factor(village_count);
  for (auto& f : factor) f = static_cast<std::uint64_t>(rng.uniform_int(60, 130));
  if (village_count >= 3) {
    const std::size_t troubled = std::max<std::size_t>(1, village_count / 7);
    for (std::size_t k = 0; k < troubled; ++k) {
      factor[rng.below(village_count)] = static_cast<std::uint64_t>(rng.uniform_int(240, 320));
    }
    factor[rng.below(village_count)] = static_cast<std::uint64_t>(rng.uniform_int(25, 40));
  }
  // Normalise so that the household-weighted mean factor is 1: the town-wide rates stay at the
  // base rates whatever the villages' sizes.
  std::uint64_t weighted_factor = 0;
  for (std::size_t i = 0; i < village_count; ++i) weighted_factor += sizes[i] * factor[i];

  for (std::size_t i = 0; i < village_count; ++i) {
    Village& v = villages[i];
    v.id = "V" + padded(i + 1, id_width);
    if (i < kVillageNames.size()) {
      v.name_zh = kVillageNames[i].zh;
      v.name_en = kVillageNames[i].en;
    } else {
      v.name_zh = "第" + std::to_string(i + 1) + "村";
      v.name_en = "Village " + std::to_string(i + 1);
    }
    v.households = sizes[i];
    // households * factor * base <= 10^8 * 320 * 50000: fits in 64 bits.
    v.non_credit_ppm = kNonCreditPpm * factor[i] * households / weighted_factor;
    v.breach_ppm = kBreachPpm * factor[i] * households / weighted_factor;
    v.campaign_start = rng.uniform_int(kMarch1, kJune30 - 42);
    const auto minutes = [&v](std::size_t q, std::uint64_t meeting_day) {
      return quarter_spec(q).meeting_month + "-" + padded(meeting_day, 2) + " " + v.name_zh + "评议小组会议纪要 / " +
             v.name_en + " evaluation group meeting minutes";
    };
    v.basis.resize(quarters);
    for (std::size_t q = 0; q < 2; ++q) v.basis[q] = minutes(q, static_cast<std::uint64_t>(rng.uniform_int(21, 29)));
    v.clan_surnames[0] = static_cast<std::size_t>(rng.below(20));
    v.clan_surnames[1] = static_cast<std::size_t>(rng.below(kSurnames.size()));
    Rng later(mix_seed(seed ^ kLaterQuartersSalt, i));
    for (std::size_t q = 2; q < quarters; ++q)
      v.basis[q] = minutes(q, static_cast<std::uint64_t>(later.uniform_int(21, 29)));
  }
  return villages;
}

std::string head_name(const Village& village, Rng& rng) {
  std::string name;
  const auto roll = rng.below(100);
  std::size_t surname;
  if (roll < 25) {
    surname = village.clan_surnames[0];  // villages are often dominated by a clan or two
  } else if (roll < 40) {
    surname = village.clan_surnames[1];
  } else {
    // min of two uniform draws favours the common surnames at the front of the list
    surname = static_cast<std::size_t>(std::min(rng.below(kSurnames.size()), rng.below(kSurnames.size())));
  }
  name = kSurnames[surname];
  if (rng.bernoulli(800000)) {
    name += kMaleGivenNames[rng.below(kMaleGivenNames.size())];
  } else {
    name += kFemaleGivenNames[rng.below(kFemaleGivenNames.size())];
  }
  return name;
}

Status q3_status(const Village& village, Rng& rng) {
  const auto x = rng.below(kMillion);
  if (x < village.breach_ppm) return Status::kBreach;
  if (x < village.breach_ppm + village.non_credit_ppm) return Status::kNonCredit;
  return Status::kCredit;
}

Status q4_status(Status q3, Rng& rng) {
  const auto x = rng.below(kMillion);
  switch (q3) {
    case Status::kCredit:
      if (x < kCreditToNonCreditPpm) return Status::kNonCredit;
      if (x < kCreditToNonCreditPpm + kCreditToBreachPpm) return Status::kBreach;
      return Status::kCredit;
    case Status::kNonCredit:
      if (x < kNonCreditToCreditPpm) return Status::kCredit;
      if (x < kNonCreditToCreditPpm + kNonCreditToBreachPpm) return Status::kBreach;
      return Status::kNonCredit;
    case Status::kBreach:
      if (x < kBreachToCreditPpm) return Status::kCredit;
      if (x < kBreachToCreditPpm + kBreachToNonCreditPpm) return Status::kNonCredit;
      return Status::kBreach;
  }
  return q3;
}

void make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create directory " + dir.string() + ": " + ec.message());
}

void copy_roster(const fs::path& from, const fs::path& plugin_data_dir, const char* department) {
  const fs::path dir = plugin_data_dir / department;
  make_dirs(dir);
  std::error_code ec;
  fs::copy_file(from, dir / "roster.csv", fs::copy_options::overwrite_existing, ec);
  if (ec) {
    throw std::runtime_error("cannot copy " + from.string() + " to " + (dir / "roster.csv").string() + ": " +
                             ec.message());
  }
}

nlohmann::ordered_json status_json(const StatusCounts& counts) {
  nlohmann::ordered_json j;
  for (std::size_t s = 0; s < kStatusCount; ++s) j[status_id(static_cast<Status>(s))] = counts.by_status[s];
  return j;
}

void write_summary(const TownSummary& summary, const fs::path& path) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["generator"] = "hub-towngen";
  j["seed"] = summary.seed;
  j["households"] = summary.households;
  j["villages"] = summary.villages.size();
  j["commitments"] = summary.commitments;

  ordered_json villages = ordered_json::array();
  for (const auto& v : summary.villages) {
    villages.push_back(
        {{"village", v.id}, {"name_zh", v.name_zh}, {"name_en", v.name_en}, {"households", v.households}});
  }
  j["village_list"] = std::move(villages);

  ordered_json quarters = ordered_json::object();
  for (const auto& q : summary.quarters) {
    ordered_json jq;
    jq["effective_date"] = q.effective_date;
    jq["households"] = q.statuses.total();
    jq["statuses"] = status_json(q.statuses);
    jq["assistance"] = q.assistance;
    ordered_json per_village = ordered_json::object();
    for (std::size_t i = 0; i < summary.villages.size(); ++i) {
      ordered_json jv = status_json(q.village_statuses[i]);
      jv["assistance"] = q.village_assistance[i];
      per_village[summary.villages[i].id] = std::move(jv);
    }
    jq["villages"] = std::move(per_village);
    quarters[q.quarter] = std::move(jq);
  }
  j["quarters"] = std::move(quarters);

  ordered_json changes;
  changes["from"] = summary.quarters[0].quarter;
  changes["to"] = summary.quarters[1].quarter;
  changes["changed"] = summary.changed;
  ordered_json pairs = ordered_json::object();
  ordered_json unchanged = ordered_json::object();
  for (std::size_t from = 0; from < kStatusCount; ++from) {
    for (std::size_t to = 0; to < kStatusCount; ++to) {
      const std::string from_id = status_id(static_cast<Status>(from));
      if (from == to) {
        unchanged[from_id] = summary.changes[from][to];
      } else {
        pairs[from_id + "->" + status_id(static_cast<Status>(to))] = summary.changes[from][to];
      }
    }
  }
  changes["pairs"] = std::move(pairs);
  changes["unchanged"] = std::move(unchanged);
  j["changes"] = std::move(changes);

  const auto& r = summary.rosters;
  j["rosters"] = {
      {"schools", {{"rows", r.school_households}, {"households", r.school_households}, {"children", r.school_children}}},
      {"land", {{"rows", r.land_applications}, {"households", r.land_households}}},
      {"finance",
       {{"rows", r.finance_only_child + r.finance_rural},
        {kOnlyChildPolicy, r.finance_only_child},
        {kRuralPolicy, r.finance_rural},
        {"amount_fen_per_quarter", r.finance_fen_per_quarter}}},
  };

  const std::string text = j.dump(2) + "\n";
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int write_errno = errno;
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(written ? errno : write_errno));
  }
}

}  // namespace

TownSummary generate_town(const TownOptions& options) {
  if (options.quarters < kDefaultQuarters || options.quarters > kMaxQuarters) {
    throw std::invalid_argument("quarters must be between " + std::to_string(kDefaultQuarters) + " and " +
                                std::to_string(kMaxQuarters));
  }
  if (options.households < 1 || options.households > kMaxHouseholds) {
    throw std::invalid_argument("households must be between 1 and " + std::to_string(kMaxHouseholds));
  }
  if (options.villages > kMaxVillages) {
    throw std::invalid_argument("villages must be between 1 and " + std::to_string(kMaxVillages));
  }
  if (options.out_dir.empty()) throw std::invalid_argument("out_dir must not be empty");

  const std::size_t village_count = resolve_village_count(options);
  Rng town_rng(options.seed);
  const std::vector<Village> villages =
      plan_villages(options.households, village_count, options.quarters, options.seed, town_rng);
  std::size_t largest = 0;
  for (const auto& v : villages) largest = std::max(largest, v.households);
  const std::size_t household_width = std::max<std::size_t>(5, decimal_digits(largest));

  const fs::path out(options.out_dir);
  make_dirs(out / "rosters");

  TownSummary summary;
  summary.seed = options.seed;
  summary.households = options.households;
  summary.out_dir = options.out_dir;
  std::vector<QuarterSpec> specs;
  summary.quarters.resize(options.quarters);
  for (std::size_t q = 0; q < options.quarters; ++q) {
    specs.push_back(quarter_spec(q));
    summary.quarters[q].quarter = specs[q].quarter;
    summary.quarters[q].effective_date = specs[q].effective_date;
    summary.quarters[q].village_statuses.resize(village_count);
    summary.quarters[q].village_assistance.resize(village_count);
  }

  CsvWriter villages_csv(out / "villages.csv", {"village", "name_zh", "name_en", "households"});
  CsvWriter households_csv(out / "households.csv", {"household_id", "village", "head", "members"});
  CsvWriter commitments_csv(out / "commitments.csv", {"household_id", "signed_on"});
  std::vector<std::unique_ptr<CsvWriter>> evaluations_csv;
  for (const QuarterSpec& spec : specs)
    evaluations_csv.push_back(std::make_unique<CsvWriter>(
        out / ("evaluations-" + spec.quarter + ".csv"),
        std::initializer_list<std::string_view>{"household_id", "status", "quarter", "effective_date", "designations",
                                                "basis"}));
  // The complaints about past quarters and their rulings, in towns of more than two quarters.
  std::unique_ptr<CsvWriter> complaints_csv;
  if (options.quarters > 2)
    complaints_csv = std::make_unique<CsvWriter>(
        out / "complaints.csv",
        std::initializer_list<std::string_view>{"household_id", "quarter", "channel", "received_on", "summary",
                                                "outcome", "ruled_on", "ruling", "corrected_status"});
  CsvWriter schools_csv(out / "rosters" / "schools.csv", {"household_id", "children"});
  CsvWriter land_csv(out / "rosters" / "land.csv", {"household_id", "application_id", "applied_on"});
  CsvWriter finance_csv(out / "rosters" / "finance.csv", {"household_id", "policy_id", "amount_fen_per_quarter"});

  std::size_t done = 0;
  std::uint64_t next_application = 1;
  std::string household_id;
  for (std::size_t vi = 0; vi < village_count; ++vi) {
    const Village& village = villages[vi];
    summary.villages.push_back({village.id, village.name_zh, village.name_en, village.households});
    villages_csv.field(village.id).field(village.name_zh).field(village.name_en).field(village.households);
    villages_csv.end_row();

    Rng rng(mix_seed(options.seed, vi));
    Rng later_rng(mix_seed(options.seed ^ kLaterQuartersSalt, village_count + vi));  // quarters 3 on
    Rng complaint_rng(mix_seed(options.seed ^ kComplaintsSalt, vi));
    std::vector<Status> status(options.quarters);
    std::vector<bool> assistance(options.quarters);
    for (std::size_t h = 1; h <= village.households; ++h) {
      household_id = village.id;
      household_id += '-';
      append_number(household_id, h, household_width);

      // Registration.
      const std::string head = head_name(village, rng);
      const std::size_t members = rng.weighted(kMemberWeights) + 1;
      households_csv.field(household_id).field(village.id).field(head).field(members);
      households_csv.end_row();

      // Commitment: most sign during their village's six-week campaign, the rest later or
      // earlier at the office, all between 2020-03-01 and 2020-06-30.
      const std::int64_t signed_on = rng.bernoulli(850000)
                                         ? village.campaign_start + rng.uniform_int(0, 41)
                                         : rng.uniform_int(kMarch1, kJune30);
      commitments_csv.field(household_id).field(date_2020(signed_on));
      commitments_csv.end_row();
      ++summary.commitments;

      // Evaluations.
      status[0] = q3_status(village, rng);
      assistance[0] = rng.bernoulli(kAssistancePpm);
      status[1] = q4_status(status[0], rng);
      assistance[1] = assistance[0] ? rng.bernoulli(kAssistanceKeptPpm) : rng.bernoulli(kAssistanceNewPpm);
      for (std::size_t q = 2; q < options.quarters; ++q) {  // each quarter as 2020Q4 followed 2020Q3
        status[q] = q4_status(status[q - 1], later_rng);
        assistance[q] =
            assistance[q - 1] ? later_rng.bernoulli(kAssistanceKeptPpm) : later_rng.bernoulli(kAssistanceNewPpm);
      }
      for (std::size_t q = 0; q < options.quarters; ++q) {
        evaluations_csv[q]
            ->field(household_id)
            .field(status_id(status[q]))
            .field(specs[q].quarter)
            .field(specs[q].effective_date)
            .field(assistance[q] ? "assistance" : "")
            .field(village.basis[q]);
        evaluations_csv[q]->end_row();
        QuarterSummary& qs = summary.quarters[q];
        ++qs.statuses[status[q]];
        ++qs.village_statuses[vi][status[q]];
        if (assistance[q]) {
          ++qs.assistance;
          ++qs.village_assistance[vi];
        }
      }
      // A complaint about one of the quarters before the last (the last may still be on notice).
      for (std::size_t q = 0; complaints_csv && q + 1 < options.quarters; ++q) {
        if (!complaint_rng.bernoulli(kComplaintPpm)) continue;
        const bool upheld = complaint_rng.bernoulli(kComplaintUpheldPpm);
        const char* channel = kChannels[complaint_rng.below(kChannels.size())];
        const std::string received = add_days(specs[q].effective_date, static_cast<int>(complaint_rng.uniform_int(3, 40)));
        const std::string ruled = add_days(received, static_cast<int>(complaint_rng.uniform_int(3, 14)));
        const Status corrected = status[q] == Status::kCredit ? Status::kNonCredit : Status::kCredit;
        complaints_csv->field(household_id)
            .field(specs[q].quarter)
            .field(channel)
            .field(received)
            .field(status[q] == Status::kCredit ? "举报该户评为诚信户与事实不符 / reports that the household's credit is wrong"
                                                : "对本户评议结果有异议 / objects to the household's evaluation")
            .field(upheld ? "upheld" : "dismissed")
            .field(ruled)
            .field(upheld ? "经村评议小组复核属实，予以更正 / upheld on review by the evaluation group"
                          : "经核查不属实，维持原评议 / not borne out; the evaluation stands")
            .field(upheld ? status_id(corrected) : "");
        complaints_csv->end_row();
        ++summary.complaints;
        if (upheld) ++summary.complaints_upheld;
        break;
      }
      ++summary.changes[static_cast<std::size_t>(status[0])][static_cast<std::size_t>(status[1])];
      if (status[0] != status[1]) ++summary.changed;

      // Schools: children enrolled at the central school (at least one parent stays home).
      if (rng.bernoulli(kSchoolPpm[members - 1])) {
        const std::size_t children = std::min(rng.weighted(kChildrenWeights) + 1, members - 1);
        schools_csv.field(household_id).field(children);
        schools_csv.end_row();
        ++summary.rosters.school_households;
        summary.rosters.school_children += children;
      }

      // Land: pending homestead applications filed during 2020 before the Q3 evaluation.
      if (rng.bernoulli(kLandPpm)) {
        const std::size_t applications = rng.bernoulli(kLandSecondPpm) ? 2 : 1;
        std::array<std::int64_t, 2> applied = {rng.uniform_int(6, 270), rng.uniform_int(6, 270)};
        if (applied[1] < applied[0]) std::swap(applied[0], applied[1]);
        for (std::size_t a = 0; a < applications; ++a) {
          std::string application_id = "ZJD-2020-";
          append_number(application_id, next_application++, 6);
          land_csv.field(household_id).field(application_id).field(date_2020(applied[a]));
          land_csv.end_row();
          ++summary.rosters.land_applications;
        }
        ++summary.rosters.land_households;
      }

      // Finance: one reward programme at most (young only-child parents, or elderly parents of
      // the rural reward scheme).
      const auto finance_roll = rng.below(kMillion);
      if (finance_roll < kOnlyChildPpm) {
        const std::uint64_t parents = members >= 3 && rng.bernoulli(kOnlyChildTwoParentsPpm) ? 2 : 1;
        const std::uint64_t amount = parents * kOnlyChildFenPerParent;
        finance_csv.field(household_id).field(kOnlyChildPolicy).field(amount);
        finance_csv.end_row();
        ++summary.rosters.finance_only_child;
        summary.rosters.finance_fen_per_quarter += amount;
      } else if (finance_roll < kOnlyChildPpm + kRuralRewardPpm) {
        const std::uint64_t persons = members >= 2 && rng.bernoulli(kRuralTwoPersonsPpm) ? 2 : 1;
        const std::uint64_t amount = persons * kRuralFenPerPerson;
        finance_csv.field(household_id).field(kRuralPolicy).field(amount);
        finance_csv.end_row();
        ++summary.rosters.finance_rural;
        summary.rosters.finance_fen_per_quarter += amount;
      }

      ++done;
      if (options.progress && options.progress_every > 0 && done % options.progress_every == 0) {
        options.progress(done, options.households);
      }
    }
  }

  villages_csv.close();
  households_csv.close();
  commitments_csv.close();
  for (auto& csv : evaluations_csv) csv->close();
  if (complaints_csv) complaints_csv->close();
  schools_csv.close();
  land_csv.close();
  finance_csv.close();

  write_summary(summary, out / "summary.json");

  if (!options.plugin_data_dir.empty()) {
    const fs::path data(options.plugin_data_dir);
    copy_roster(out / "rosters" / "schools.csv", data, "schools");
    copy_roster(out / "rosters" / "land.csv", data, "land");
    copy_roster(out / "rosters" / "finance.csv", data, "finance");
  }
  return summary;
}

}  // namespace hub::towngen
