#include "domain/complaint.h"

#include <array>
#include <cstdio>

#include "domain/wire_event.h"

namespace hub {
namespace {

struct Named {
  std::string_view wire;
  std::string_view chinese;
};

constexpr std::array<Named, 5> kChannels{{{"town_box", "镇投诉箱"},
                                          {"village_box", "村投诉箱"},
                                          {"phone", "电话"},
                                          {"visit", "来访"},
                                          {"online", "网上"}}};
constexpr std::array<Named, 4> kStates{{{"received", "已受理"},
                                        {"investigating", "调查中"},
                                        {"upheld", "属实"},
                                        {"dismissed", "不属实"}}};

// Characters (code points) of valid UTF-8: every byte that does not continue a sequence.
std::size_t code_points(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

Status invalid(std::string_view field, std::string message) {
  return Status::error("invalid_field", std::move(message), std::string(field));
}

}  // namespace

std::string_view to_string(ComplaintChannel channel) noexcept { return kChannels[static_cast<int>(channel)].wire; }
std::string_view chinese_name(ComplaintChannel channel) noexcept {
  return kChannels[static_cast<int>(channel)].chinese;
}
std::optional<ComplaintChannel> complaint_channel(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kChannels.size(); ++i)
    if (kChannels[i].wire == name) return static_cast<ComplaintChannel>(i);
  return std::nullopt;
}
std::string_view to_string(ComplaintState state) noexcept { return kStates[static_cast<int>(state)].wire; }
std::string_view chinese_name(ComplaintState state) noexcept { return kStates[static_cast<int>(state)].chinese; }
std::optional<ComplaintState> complaint_state(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kStates.size(); ++i)
    if (kStates[i].wire == name) return static_cast<ComplaintState>(i);
  return std::nullopt;
}
const std::vector<std::string>& complaint_channel_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& c : kChannels) out.emplace_back(c.wire);
    return out;
  }();
  return names;
}
const std::vector<std::string>& complaint_state_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& s : kStates) out.emplace_back(s.wire);
    return out;
  }();
  return names;
}

std::string complaint_id(std::string_view received_on, std::int64_t number) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "TS-%.4s-%06lld", std::string(received_on.substr(0, 4)).c_str(),
                static_cast<long long>(number));
  return buf;
}

Complaint lodged_complaint(const NewComplaint& n, std::int64_t number, const std::string& village,
                           const std::string& deadline, std::int64_t at_ms) {
  Complaint c;
  c.number = number;
  c.id = complaint_id(n.received_on, number);
  c.household_id = n.household_id;
  c.village = village;
  c.quarter = n.quarter;
  c.channel = n.channel;
  c.received_on = n.received_on;
  c.summary = n.summary;
  c.lodged_by = n.lodged_by;
  c.handler = n.handler;
  c.deadline = deadline;
  c.state = ComplaintState::kReceived;
  c.lodged_at_ms = at_ms;
  c.updated_at_ms = at_ms;
  return c;
}

std::string ruling_publisher(std::string_view complaint_id) { return "complaint:" + std::string(complaint_id); }
std::string ruling_event_id(std::string_view complaint_id) { return "ruling-" + std::string(complaint_id); }

bool is_complaint_id(std::string_view id) noexcept {
  if (id.substr(0, 3) != "TS-") return false;
  const auto number = complaint_number(id);
  return number && complaint_id(id.substr(3, 4), *number) == id;
}

std::optional<std::int64_t> complaint_number(std::string_view id) noexcept {
  std::string_view digits = id;
  if (id.size() > 8 && id.substr(0, 3) == "TS-" && id[7] == '-') {
    for (std::size_t i = 3; i < 7; ++i)
      if (id[i] < '0' || id[i] > '9') return std::nullopt;
    digits = id.substr(8);
  }
  if (digits.empty() || digits.size() > 15) return std::nullopt;
  std::int64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n <= 0) return std::nullopt;
  return n;
}

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t days_from_civil(std::string_view date) {
  int y = std::stoi(std::string(date.substr(0, 4)));
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(date.substr(5, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(date.substr(8, 2))));
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::string civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string add_days(std::string_view date, std::int64_t days) { return civil_from_days(days_from_civil(date) + days); }

std::string quarter_of(std::string_view date) {
  const int month = std::stoi(std::string(date.substr(5, 2)));
  return std::string(date.substr(0, 4)) + "Q" + std::to_string((month - 1) / 3 + 1);
}

Status check_text(std::string_view field, std::string_view text, std::size_t max_chars) {
  const std::string f(field);
  if (!is_valid_utf8(text)) return invalid(field, "'" + f + "' is not valid UTF-8 / 不是有效的 UTF-8 文本");
  bool blank = true;
  for (unsigned char c : text) {
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
      return invalid(field, "'" + f + "' holds a control character / 含有控制字符");
    if (c == 0x7F) return invalid(field, "'" + f + "' holds a control character / 含有控制字符");
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r') blank = false;
  }
  if (blank) return invalid(field, "'" + f + "' must not be empty / 不能为空");
  if (code_points(text) > max_chars)
    return invalid(field, "'" + f + "' is longer than " + std::to_string(max_chars) + " characters / 超过 " +
                              std::to_string(max_chars) + " 个字");
  return Status::success();
}

Status validate_new_complaint(const NewComplaint& c, std::string_view today) {
  if (!is_valid_id(c.household_id))
    return invalid("household_id", "'household_id' must be a household id such as V03-00417 / 户编号格式不对");
  if (!quarter_index(c.quarter))
    return invalid("quarter", "'quarter' must look like 2020Q3 / 季度格式应为 2020Q3");
  if (!is_valid_date(c.received_on))
    return invalid("received_on", "'received_on' must be a date YYYY-MM-DD / 受理日期格式应为 YYYY-MM-DD");
  if (is_valid_date(today) && c.received_on > today)
    return invalid("received_on", "'received_on' " + c.received_on + " is after today (" + std::string(today) +
                                      ") / 受理日期不能晚于今天");
  if (*quarter_index(c.quarter) > *quarter_index(quarter_of(c.received_on)))
    return invalid("quarter", "'quarter' " + c.quarter + " is after the quarter the complaint was received in (" +
                                  quarter_of(c.received_on) + ") / 被投诉的季度不能晚于受理日期所在季度");
  if (Status s = check_text("summary", c.summary, kComplaintSummaryMaxChars); !s.ok()) return s;
  if (c.lodged_by)
    if (Status s = check_text("lodged_by", *c.lodged_by, kComplaintPersonMaxChars); !s.ok()) return s;
  if (c.handler)
    if (Status s = check_text("handler", *c.handler, kComplaintPersonMaxChars); !s.ok()) return s;
  return Status::success();
}

bool valid_deadline_days(std::int64_t days) noexcept { return days >= 1 && days <= kComplaintDeadlineDaysMax; }

Status check_transition(ComplaintState from, ComplaintState to) {
  if (is_final(from))
    return Status::error("complaint_final",
                         "the complaint was ruled " + std::string(to_string(from)) +
                             " and is final: nothing changes it / 已裁定，不能再变更",
                         "state");
  const bool allowed = (from == ComplaintState::kReceived && to == ComplaintState::kInvestigating) || is_final(to);
  if (!allowed)
    return Status::error("invalid_transition",
                         "a complaint that is " + std::string(to_string(from)) + " cannot become " +
                             std::string(to_string(to)) + " / 状态不能这样变更",
                         "state");
  return Status::success();
}

Status validate_ruling(const Complaint& c, ComplaintState outcome, std::string_view ruling, std::string_view ruled_on,
                       std::string_view today) {
  if (!is_final(outcome))
    return invalid("outcome", "'outcome' must be upheld or dismissed / 裁定结果应为 upheld（属实）或 dismissed（不属实）");
  if (Status s = check_transition(c.state, outcome); !s.ok()) return s;
  if (Status s = check_text("ruling", ruling, kComplaintRulingMaxChars); !s.ok()) return s;
  if (!is_valid_date(ruled_on))
    return invalid("ruled_on", "'ruled_on' must be a date YYYY-MM-DD / 裁定日期格式应为 YYYY-MM-DD");
  if (ruled_on < std::string_view(c.received_on))
    return invalid("ruled_on", "'ruled_on' " + std::string(ruled_on) + " is before the complaint was received (" +
                                   c.received_on + ") / 裁定日期不能早于受理日期");
  if (is_valid_date(today) && ruled_on > today)
    return invalid("ruled_on", "'ruled_on' " + std::string(ruled_on) + " is after today (" + std::string(today) +
                                   ") / 裁定日期不能晚于今天");
  return Status::success();
}

bool is_overdue(const Complaint& c, std::string_view today) {
  return !is_final(c.state) && std::string_view(c.deadline) < today;
}

}  // namespace hub
