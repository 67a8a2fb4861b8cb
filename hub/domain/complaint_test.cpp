// The complaints register's rules (domain/complaint.h): each field's checks with the field named,
// the states a complaint may move between, ids, dates and the deadline.
#include "domain/complaint.h"

#include <gtest/gtest.h>

#include <string>

namespace hub {
namespace {

constexpr const char* kToday = "2026-03-20";

NewComplaint valid() {
  NewComplaint n;
  n.household_id = "V03-00417";
  n.quarter = "2026Q1";
  n.channel = ComplaintChannel::kPhone;
  n.received_on = "2026-03-02";
  n.summary = "评议结果与事实不符";
  return n;
}

void expect_refused(const NewComplaint& n, const std::string& field) {
  const Status s = validate_new_complaint(n, kToday);
  EXPECT_EQ(s.code, "invalid_field") << field;
  EXPECT_EQ(s.field, field) << s.message;
}

TEST(Complaint, NamesChannelsAndStatesBothWays) {
  for (const auto& name : complaint_channel_names()) EXPECT_EQ(to_string(*complaint_channel(name)), name);
  for (const auto& name : complaint_state_names()) EXPECT_EQ(to_string(*complaint_state(name)), name);
  EXPECT_EQ(chinese_name(ComplaintChannel::kTownBox), "镇投诉箱");
  EXPECT_EQ(chinese_name(ComplaintChannel::kVillageBox), "村投诉箱");
  EXPECT_EQ(chinese_name(ComplaintChannel::kOnline), "网上");
  EXPECT_FALSE(complaint_channel("email"));
  EXPECT_FALSE(complaint_state("closed"));
}

TEST(Complaint, IdsCarryTheYearAndTheNumber) {
  EXPECT_EQ(complaint_id("2026-03-02", 123), "TS-2026-000123");
  EXPECT_EQ(complaint_id("2026-03-02", 1234567), "TS-2026-1234567");
  EXPECT_EQ(complaint_number("TS-2026-000123"), 123);
  EXPECT_EQ(complaint_number("123"), 123);
  for (const char* bad : {"", "TS-2026-", "TS-20x6-000001", "0", "-1", "TS-2026-00001a", "abc"})
    EXPECT_FALSE(complaint_number(bad)) << bad;
}

TEST(Complaint, DatesAddAcrossMonthsAndYears) {
  EXPECT_EQ(add_days("2026-03-02", 15), "2026-03-17");
  EXPECT_EQ(add_days("2026-12-20", 15), "2027-01-04");
  EXPECT_EQ(add_days("2024-02-20", 15), "2024-03-06");  // leap year
  EXPECT_EQ(civil_from_days(days_from_civil("1999-12-31")), "1999-12-31");
  EXPECT_EQ(quarter_of("2026-05-04"), "2026Q2");
  EXPECT_EQ(quarter_of("2026-12-31"), "2026Q4");
}

TEST(Complaint, AValidComplaintPasses) {
  EXPECT_TRUE(validate_new_complaint(valid(), kToday).ok());
  NewComplaint n = valid();
  n.lodged_by = "张三";
  n.handler = "李四";
  n.quarter = "2025Q3";  // an earlier quarter may be challenged
  EXPECT_TRUE(validate_new_complaint(n, kToday).ok());
}

TEST(Complaint, EveryBadFieldIsRefusedByName) {
  NewComplaint n = valid();
  n.household_id = "";
  expect_refused(n, "household_id");
  n = valid();
  n.household_id = "V03 00417";
  expect_refused(n, "household_id");
  n = valid();
  n.quarter = "2026Q5";
  expect_refused(n, "quarter");
  n = valid();
  n.quarter = "2026Q2";  // after the quarter it was received in
  expect_refused(n, "quarter");
  n = valid();
  n.received_on = "2026-02-30";
  expect_refused(n, "received_on");
  n = valid();
  n.received_on = "2026-03-21";  // tomorrow
  expect_refused(n, "received_on");
  n = valid();
  n.summary = "";
  expect_refused(n, "summary");
  n.summary = " \n\t ";
  expect_refused(n, "summary");
  n.summary = std::string("\xff\xfe", 2);
  expect_refused(n, "summary");
  n.summary = std::string("a\0b", 3);
  expect_refused(n, "summary");
  n.summary = std::string(kComplaintSummaryMaxChars + 1, 'x');
  expect_refused(n, "summary");
  n = valid();
  std::string chinese;
  for (std::size_t i = 0; i < kComplaintSummaryMaxChars; ++i) chinese += "字";  // 3 bytes each: counted as characters
  n.summary = chinese;
  EXPECT_TRUE(validate_new_complaint(n, kToday).ok());
  n = valid();
  n.lodged_by = "";
  expect_refused(n, "lodged_by");
  n.lodged_by = std::string(kComplaintPersonMaxChars + 1, 'x');
  expect_refused(n, "lodged_by");
  n = valid();
  n.handler = std::string("\xc0\x80", 2);  // overlong
  expect_refused(n, "handler");
}

TEST(Complaint, TransitionsFollowTheStateMachine) {
  using S = ComplaintState;
  EXPECT_TRUE(check_transition(S::kReceived, S::kInvestigating).ok());
  EXPECT_TRUE(check_transition(S::kReceived, S::kUpheld).ok());
  EXPECT_TRUE(check_transition(S::kReceived, S::kDismissed).ok());
  EXPECT_TRUE(check_transition(S::kInvestigating, S::kUpheld).ok());
  EXPECT_TRUE(check_transition(S::kInvestigating, S::kDismissed).ok());
  EXPECT_EQ(check_transition(S::kInvestigating, S::kInvestigating).code, "invalid_transition");
  EXPECT_EQ(check_transition(S::kInvestigating, S::kReceived).code, "invalid_transition");
  for (S final_state : {S::kUpheld, S::kDismissed})
    for (S to : {S::kReceived, S::kInvestigating, S::kUpheld, S::kDismissed})
      EXPECT_EQ(check_transition(final_state, to).code, "complaint_final");
}

TEST(Complaint, ARulingNeedsTextAndADateInRange) {
  Complaint c;
  c.received_on = "2026-03-02";
  c.state = ComplaintState::kInvestigating;
  EXPECT_TRUE(validate_ruling(c, ComplaintState::kUpheld, "属实", "2026-03-02", kToday).ok());
  EXPECT_EQ(validate_ruling(c, ComplaintState::kInvestigating, "x", "2026-03-05", kToday).field, "outcome");
  EXPECT_EQ(validate_ruling(c, ComplaintState::kUpheld, "", "2026-03-05", kToday).field, "ruling");
  EXPECT_EQ(validate_ruling(c, ComplaintState::kUpheld, std::string(kComplaintRulingMaxChars + 1, 'x'), "2026-03-05",
                            kToday).field, "ruling");
  EXPECT_EQ(validate_ruling(c, ComplaintState::kUpheld, "属实", "2026/03/05", kToday).field, "ruled_on");
  EXPECT_EQ(validate_ruling(c, ComplaintState::kUpheld, "属实", "2026-03-01", kToday).field, "ruled_on");
  EXPECT_EQ(validate_ruling(c, ComplaintState::kUpheld, "属实", "2026-03-21", kToday).field, "ruled_on");
  c.state = ComplaintState::kDismissed;
  EXPECT_EQ(validate_ruling(c, ComplaintState::kUpheld, "属实", "2026-03-05", kToday).code, "complaint_final");
}

TEST(Complaint, OverdueIsNotRuledPastTheDeadline) {
  Complaint c;
  c.deadline = "2026-03-17";
  c.state = ComplaintState::kReceived;
  EXPECT_FALSE(is_overdue(c, "2026-03-17"));  // the deadline day itself is still in time
  EXPECT_TRUE(is_overdue(c, "2026-03-18"));
  c.state = ComplaintState::kInvestigating;
  EXPECT_TRUE(is_overdue(c, "2026-03-18"));
  c.state = ComplaintState::kUpheld;
  EXPECT_FALSE(is_overdue(c, "2026-03-18"));
  EXPECT_TRUE(valid_deadline_days(15));
  EXPECT_FALSE(valid_deadline_days(0));
  EXPECT_FALSE(valid_deadline_days(366));
}

}  // namespace
}  // namespace hub
