// The complaints register's store contract (complaints/complaint_store.h) as tests that every
// backend must pass: the same bodies run on SqliteComplaintStore (hub_unit_tests,
// store/sqlite/sqlite_complaint_store_test.cpp) and PgComplaintStore (hub_postgresql_tests,
// store/postgresql/pg_complaint_store_test.cpp), through the register
// (complaints/complaint_register.h) where a rule is involved. A test binary includes this header
// in ONE file and instantiates the suite with its backend:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, ComplaintStoreContract,
//                            ::testing::Values(ComplaintBackendParam{"sqlite", factory}),
//                            hub::testing::complaint_backend_name);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "complaints/complaint_register.h"
#include "complaints/complaint_store.h"

namespace hub::testing {

struct ComplaintBackendParam {
  std::string name;
  // A fresh, empty store each call of the factory; the opener it returns opens it (again).
  std::function<complaints::ComplaintStoreOpener()> make;
};

inline std::string complaint_backend_name(const ::testing::TestParamInfo<ComplaintBackendParam>& info) {
  return info.param.name;
}

class ComplaintStoreContract : public ::testing::TestWithParam<ComplaintBackendParam> {
 protected:
  void SetUp() override { open_ = GetParam().make(); }
  complaints::ComplaintStoreOpener open_;
};

namespace complaint_contract {

constexpr const char* kToday = "2026-03-20";

inline NewComplaint complaint(const std::string& household, const std::string& received = "2026-03-02") {
  NewComplaint n;
  n.household_id = household;
  n.quarter = "2026Q1";
  n.channel = ComplaintChannel::kVillageBox;
  n.received_on = received;
  n.summary = "评议结果与事实不符：户主已按时签订承诺书 \"quoted\", back\\slash";
  return n;
}

TEST_P(ComplaintStoreContract, AddNumbersAndKeepsEveryField) {
  auto store = open_();
  NewComplaint n = complaint("V03-00417");
  n.lodged_by = "张三";
  n.handler = "李四";
  n.channel = ComplaintChannel::kOnline;
  const Complaint first = store->add(n, "V03", "2026-03-17", 1000);
  EXPECT_EQ(first.number, 1);
  EXPECT_EQ(first.id, "TS-2026-000001");
  const Complaint second = store->add(complaint("V04-00001", "2025-12-30"), "V04", "2026-01-14", 2000);
  EXPECT_EQ(second.number, 2);
  EXPECT_EQ(second.id, "TS-2025-000002");

  // Read back, from a store opened again (as after a restart).
  store.reset();
  store = open_();
  const auto found = store->find(1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->household_id, "V03-00417");
  EXPECT_EQ(found->village, "V03");
  EXPECT_EQ(found->quarter, "2026Q1");
  EXPECT_EQ(found->channel, ComplaintChannel::kOnline);
  EXPECT_EQ(found->received_on, "2026-03-02");
  EXPECT_EQ(found->summary, n.summary);
  EXPECT_EQ(found->lodged_by, std::optional<std::string>("张三"));
  EXPECT_EQ(found->handler, std::optional<std::string>("李四"));
  EXPECT_EQ(found->deadline, "2026-03-17");
  EXPECT_EQ(found->state, ComplaintState::kReceived);
  EXPECT_FALSE(found->ruling);
  EXPECT_FALSE(found->ruled_on);
  EXPECT_EQ(found->lodged_at_ms, 1000);
  EXPECT_EQ(found->updated_at_ms, 1000);
  const auto anonymous = store->find(2);
  ASSERT_TRUE(anonymous);
  EXPECT_FALSE(anonymous->lodged_by);
  EXPECT_FALSE(anonymous->handler);
  EXPECT_FALSE(store->find(3));
  // Numbering continues after a reopen.
  EXPECT_EQ(store->add(complaint("V03-00417"), "V03", "2026-03-17", 3000).number, 3);
}

TEST_P(ComplaintStoreContract, UpdateOnlyFromTheExpectedState) {
  auto store = open_();
  Complaint c = store->add(complaint("V03-00417"), "V03", "2026-03-17", 1000);
  c.state = ComplaintState::kInvestigating;
  c.handler = "李四";
  c.updated_at_ms = 2000;
  EXPECT_TRUE(store->update(c, ComplaintState::kReceived));
  // Stale: it is no longer received.
  Complaint stale = c;
  stale.state = ComplaintState::kDismissed;
  EXPECT_FALSE(store->update(stale, ComplaintState::kReceived));
  c.state = ComplaintState::kUpheld;
  c.ruling = "经核查属实";
  c.ruled_on = "2026-03-10";
  c.updated_at_ms = 3000;
  EXPECT_TRUE(store->update(c, ComplaintState::kInvestigating));
  const auto found = store->find(c.number);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->state, ComplaintState::kUpheld);
  EXPECT_EQ(found->handler, std::optional<std::string>("李四"));
  EXPECT_EQ(found->ruling, std::optional<std::string>("经核查属实"));
  EXPECT_EQ(found->ruled_on, std::optional<std::string>("2026-03-10"));
  EXPECT_EQ(found->updated_at_ms, 3000);
  EXPECT_EQ(found->lodged_at_ms, 1000);
  Complaint missing = c;
  missing.number = 99;
  EXPECT_FALSE(store->update(missing, ComplaintState::kUpheld));
}

TEST_P(ComplaintStoreContract, ListFiltersAndPages) {
  auto store = open_();
  // 1: V03, overdue on kToday; 2: V03, not yet due; 3: V04, ruled (never overdue); 4: V04, overdue.
  store->add(complaint("V03-00001", "2026-03-01"), "V03", "2026-03-16", 1);
  store->add(complaint("V03-00002", "2026-03-15"), "V03", "2026-03-30", 2);
  Complaint ruled = store->add(complaint("V04-00001", "2026-02-01"), "V04", "2026-02-16", 3);
  ruled.state = ComplaintState::kDismissed;
  ruled.ruling = "不属实";
  ruled.ruled_on = "2026-02-10";
  ASSERT_TRUE(store->update(ruled, ComplaintState::kReceived));
  Complaint investigating = store->add(complaint("V04-00002", "2026-02-20"), "V04", "2026-03-07", 4);
  investigating.state = ComplaintState::kInvestigating;
  investigating.handler = "王五";
  ASSERT_TRUE(store->update(investigating, ComplaintState::kReceived));

  const auto numbers = [](const complaints::ComplaintPage& page) {
    std::vector<std::int64_t> out;
    for (const auto& c : page.complaints) out.push_back(c.number);
    return out;
  };
  complaints::ComplaintQuery all;
  EXPECT_EQ(numbers(store->list(all)), (std::vector<std::int64_t>{1, 2, 3, 4}));
  complaints::ComplaintQuery overdue;
  overdue.overdue_on = kToday;
  EXPECT_EQ(numbers(store->list(overdue)), (std::vector<std::int64_t>{1, 4}));
  complaints::ComplaintQuery village;
  village.village = "V04";
  EXPECT_EQ(numbers(store->list(village)), (std::vector<std::int64_t>{3, 4}));
  complaints::ComplaintQuery state;
  state.state = ComplaintState::kInvestigating;
  EXPECT_EQ(numbers(store->list(state)), (std::vector<std::int64_t>{4}));
  complaints::ComplaintQuery household;
  household.household_id = "V03-00002";
  EXPECT_EQ(numbers(store->list(household)), (std::vector<std::int64_t>{2}));

  complaints::ComplaintQuery page;
  page.limit = 3;
  auto first = store->list(page);
  EXPECT_EQ(numbers(first), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_TRUE(first.more);
  page.after_number = 3;
  auto second = store->list(page);
  EXPECT_EQ(numbers(second), (std::vector<std::int64_t>{4}));
  EXPECT_FALSE(second.more);

  const auto counts = store->counts(kToday, std::nullopt);
  EXPECT_EQ(counts.received, 2);
  EXPECT_EQ(counts.investigating, 1);
  EXPECT_EQ(counts.dismissed, 1);
  EXPECT_EQ(counts.upheld, 0);
  EXPECT_EQ(counts.open, 3);
  EXPECT_EQ(counts.overdue, 2);
  const auto v03 = store->counts(kToday, std::string("V03"));
  EXPECT_EQ(v03.open, 2);
  EXPECT_EQ(v03.overdue, 1);
  // The deadline day itself is not overdue yet.
  EXPECT_EQ(store->counts("2026-03-16", std::nullopt).overdue, 1);
}

TEST_P(ComplaintStoreContract, TheRegisterRefusesBadTransitionsAndStoresNothing) {
  complaints::ComplaintRegister reg(open_, 15);
  auto lodged = reg.lodge(complaint("V03-00417"), "V03", kToday, 1000);
  ASSERT_TRUE(lodged.ok()) << lodged.status().message;
  EXPECT_EQ(lodged.value().deadline, "2026-03-17");
  const std::int64_t n = lodged.value().number;
  // No handler anywhere: investigate refused, nothing changed.
  auto no_handler = reg.investigate(n, std::nullopt, 2000);
  ASSERT_FALSE(no_handler.ok());
  EXPECT_EQ(no_handler.status().code, "missing_field");
  EXPECT_EQ(no_handler.status().field, "handler");
  EXPECT_EQ(reg.find(n).value().state, ComplaintState::kReceived);
  // A ruling dated before the complaint was received.
  auto early = reg.rule(n, ComplaintState::kUpheld, "属实", "2026-03-01", kToday, 2000);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().field, "ruled_on");
  EXPECT_EQ(reg.find(n).value().state, ComplaintState::kReceived);
  ASSERT_TRUE(reg.investigate(n, std::string("李四"), 2000).ok());
  auto again = reg.investigate(n, std::string("李四"), 2500);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code, "invalid_transition");
  auto ruled = reg.rule(n, ComplaintState::kDismissed, "经核查不属实", "2026-03-12", kToday, 3000);
  ASSERT_TRUE(ruled.ok()) << ruled.status().message;
  // Final: nothing moves it.
  auto after = reg.rule(n, ComplaintState::kUpheld, "改判", "2026-03-13", kToday, 4000);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code, "complaint_final");
  const Complaint stored = reg.find(n).value();
  EXPECT_EQ(stored.state, ComplaintState::kDismissed);
  EXPECT_EQ(stored.ruling, std::optional<std::string>("经核查不属实"));
  EXPECT_EQ(stored.updated_at_ms, 3000);
  EXPECT_EQ(reg.find(42).status().code, "unknown_complaint");
  // A refused lodge stores nothing: the next number is still 2.
  NewComplaint bad = complaint("V03-00417");
  bad.summary = "   ";
  EXPECT_EQ(reg.lodge(bad, "V03", kToday, 5000).status().field, "summary");
  EXPECT_EQ(reg.lodge(complaint("V03-00417"), "V03", kToday, 6000).value().number, 2);
}

}  // namespace complaint_contract
}  // namespace hub::testing
