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
#include <optional>
#include <string>
#include <vector>

#include "complaints/complaint_register.h"
#include "complaints/complaint_store.h"
#include "domain/notice.h"

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

// 公示: a proposed evaluation of `household` (in `village`) for `quarter`, every field set.
inline Proposal proposal(const std::string& household, const std::string& village = "V03",
                         const std::string& quarter = "2026Q1") {
  Proposal p;
  p.household_id = household;
  p.village = village;
  p.quarter = quarter;
  p.status = "non_credit";
  p.designations = {"失信被执行人", "a;b", ""};
  p.effective_date = "2026-04-01";
  p.event_id = "ev-" + household + "-" + quarter;
  p.event = R"({"type":"status_changed","household_id":")" + household +
            R"(","note":"评议 \"quoted\" back\\slash","designations":["失信被执行人"]})";
  p.proposed_on = "2026-03-10";
  p.proposed_at_ms = 1000;
  p.updated_at_ms = 1000;
  return p;
}

inline void expect_same_proposal(const Proposal& found, const Proposal& want) {
  EXPECT_EQ(found.household_id, want.household_id);
  EXPECT_EQ(found.village, want.village);
  EXPECT_EQ(found.quarter, want.quarter);
  EXPECT_EQ(found.status, want.status);
  EXPECT_EQ(found.designations, want.designations);
  EXPECT_EQ(found.effective_date, want.effective_date);
  EXPECT_EQ(found.event_id, want.event_id);
  EXPECT_EQ(found.event, want.event);
  EXPECT_EQ(found.proposed_on, want.proposed_on);
  EXPECT_EQ(found.state, want.state);
  EXPECT_EQ(found.confirmed_on, want.confirmed_on);
  EXPECT_EQ(found.superseded_by, want.superseded_by);
  EXPECT_EQ(found.proposed_at_ms, want.proposed_at_ms);
  EXPECT_EQ(found.updated_at_ms, want.updated_at_ms);
}

TEST_P(ComplaintStoreContract, ProposalsRoundTripEveryField) {
  auto store = open_();
  EXPECT_FALSE(store->find_proposal("V03-00417", "2026Q1"));
  // Every optional field set, several designations (one with ';', one empty).
  Proposal full = proposal("V03-00417");
  full.state = ProposalState::kConfirmed;
  full.confirmed_on = "2026-03-18";
  full.superseded_by = "TS-2026-000001";
  // No optional field, no designation.
  Proposal bare = proposal("V03-00418");
  bare.status = "credit";
  bare.designations.clear();
  bare.effective_date.reset();
  bare.proposed_at_ms = 2000;
  bare.updated_at_ms = 2500;
  // One designation, Chinese village and status text.
  Proposal one = proposal("东村-001", "东村", "2025Q4");
  one.designations = {"重点关注"};
  store->save_proposals({full, bare, one});
  store->save_proposals({});  // nothing to write

  // Read back, from a store opened again (as after a restart).
  store.reset();
  store = open_();
  const auto found_full = store->find_proposal("V03-00417", "2026Q1");
  ASSERT_TRUE(found_full);
  expect_same_proposal(*found_full, full);
  const auto found_bare = store->find_proposal("V03-00418", "2026Q1");
  ASSERT_TRUE(found_bare);
  expect_same_proposal(*found_bare, bare);
  EXPECT_TRUE(found_bare->designations.empty());
  EXPECT_FALSE(found_bare->effective_date);
  EXPECT_FALSE(found_bare->confirmed_on);
  EXPECT_FALSE(found_bare->superseded_by);
  const auto found_one = store->find_proposal("东村-001", "2025Q4");
  ASSERT_TRUE(found_one);
  expect_same_proposal(*found_one, one);
  // Keyed by household and quarter: neither alone finds it.
  EXPECT_FALSE(store->find_proposal("V03-00417", "2025Q4"));
  EXPECT_FALSE(store->find_proposal("东村-001", "2026Q1"));
}

TEST_P(ComplaintStoreContract, SavingAProposalAgainReplacesItWhole) {
  auto store = open_();
  Proposal first = proposal("V03-00417");
  first.confirmed_on = "2026-03-18";
  store->save_proposals({first});
  Proposal again;  // every field different (household and quarter aside)
  again.household_id = "V03-00417";
  again.quarter = "2026Q1";
  again.village = "V05";
  again.status = "breach";
  again.designations = {"失信"};
  again.event_id = "ev-again";
  again.event = R"({"again":true})";
  again.proposed_on = "2026-03-12";
  again.state = ProposalState::kSuperseded;
  again.superseded_by = "TS-2026-000007";
  again.proposed_at_ms = 5000;
  again.updated_at_ms = 6000;
  store->save_proposals({again});
  const auto found = store->find_proposal("V03-00417", "2026Q1");
  ASSERT_TRUE(found);
  expect_same_proposal(*found, again);
  EXPECT_FALSE(found->effective_date);
  EXPECT_FALSE(found->confirmed_on);
  // One row, now listed under its new village only.
  EXPECT_TRUE(store->proposals("V03", "2026Q1").empty());
  ASSERT_EQ(store->proposals("V05", "2026Q1").size(), 1u);
}

TEST_P(ComplaintStoreContract, ProposalsListAVillagesQuarterByHousehold) {
  auto store = open_();
  // One batch, out of order, with other villages' and quarters' proposals in it.
  store->save_proposals({proposal("V03-00003"), proposal("V04-00001", "V04"), proposal("V03-00001"),
                         proposal("V03-00001", "V03", "2025Q4"), proposal("V03-00002")});
  const auto households = [](const std::vector<Proposal>& list) {
    std::vector<std::string> out;
    for (const auto& p : list) out.push_back(p.household_id);
    return out;
  };
  const auto v03 = store->proposals("V03", "2026Q1");
  EXPECT_EQ(households(v03), (std::vector<std::string>{"V03-00001", "V03-00002", "V03-00003"}));
  for (const auto& p : v03) EXPECT_EQ(p.quarter, "2026Q1");
  EXPECT_EQ(households(store->proposals("V04", "2026Q1")), (std::vector<std::string>{"V04-00001"}));
  EXPECT_EQ(households(store->proposals("V03", "2025Q4")), (std::vector<std::string>{"V03-00001"}));
  EXPECT_TRUE(store->proposals("V04", "2025Q4").empty());
  EXPECT_TRUE(store->proposals("V09", "2026Q1").empty());
  // A store opened again sees the whole batch.
  auto other = open_();
  EXPECT_EQ(households(other->proposals("V03", "2026Q1")),
            (std::vector<std::string>{"V03-00001", "V03-00002", "V03-00003"}));
  other.reset();

  // All or none: a batch that cannot be written (a designation that is not UTF-8 text) leaves
  // no new proposal and no replaced one behind.
  Proposal replaced = proposal("V03-00001");
  replaced.status = "breach";
  Proposal unwritable = proposal("V03-00005");
  unwritable.designations = {"\xff\xfe"};
  EXPECT_THROW(store->save_proposals({proposal("V03-00004"), replaced, unwritable, proposal("V03-00006")}),
               StorageError);
  EXPECT_EQ(households(store->proposals("V03", "2026Q1")),
            (std::vector<std::string>{"V03-00001", "V03-00002", "V03-00003"}));
  EXPECT_EQ(store->find_proposal("V03-00001", "2026Q1").value().status, "non_credit");
  // The store is usable after it.
  store->save_proposals({proposal("V03-00004")});
  EXPECT_EQ(store->proposals("V03", "2026Q1").size(), 4u);
}

TEST_P(ComplaintStoreContract, UpdateProposalOnlyFromTheExpectedState) {
  auto store = open_();
  const Proposal stored = proposal("V03-00417");
  store->save_proposals({stored});
  // Every field changed; only state, confirmed_on, superseded_by and updated_at_ms are written.
  Proposal changed = proposal("V03-00417");
  changed.village = "V09";
  changed.status = "credit";
  changed.designations = {};
  changed.effective_date.reset();
  changed.event_id = "ev-other";
  changed.event = "{}";
  changed.proposed_on = "2026-03-15";
  changed.proposed_at_ms = 9000;
  changed.state = ProposalState::kConfirmed;
  changed.confirmed_on = "2026-03-18";
  changed.updated_at_ms = 2000;
  // Wrong expected state: false, nothing written.
  EXPECT_FALSE(store->update_proposal(changed, ProposalState::kConfirmed));
  EXPECT_FALSE(store->update_proposal(changed, ProposalState::kSuperseded));
  expect_same_proposal(store->find_proposal("V03-00417", "2026Q1").value(), stored);
  // The right one.
  EXPECT_TRUE(store->update_proposal(changed, ProposalState::kProposed));
  Proposal want = stored;
  want.state = ProposalState::kConfirmed;
  want.confirmed_on = "2026-03-18";
  want.updated_at_ms = 2000;
  expect_same_proposal(store->find_proposal("V03-00417", "2026Q1").value(), want);
  // Stale now: it is no longer proposed.
  Proposal superseded = changed;
  superseded.state = ProposalState::kSuperseded;
  superseded.superseded_by = "TS-2026-000003";
  superseded.updated_at_ms = 3000;
  EXPECT_FALSE(store->update_proposal(superseded, ProposalState::kProposed));
  expect_same_proposal(store->find_proposal("V03-00417", "2026Q1").value(), want);
  // From confirmed: superseded_by set, confirmed_on cleared as given.
  superseded.confirmed_on.reset();
  EXPECT_TRUE(store->update_proposal(superseded, ProposalState::kConfirmed));
  want.state = ProposalState::kSuperseded;
  want.confirmed_on.reset();
  want.superseded_by = "TS-2026-000003";
  want.updated_at_ms = 3000;
  expect_same_proposal(store->find_proposal("V03-00417", "2026Q1").value(), want);
  // No such proposal (another household, another quarter).
  Proposal missing = changed;
  missing.household_id = "V03-99999";
  EXPECT_FALSE(store->update_proposal(missing, ProposalState::kProposed));
  missing = changed;
  missing.quarter = "2025Q4";
  EXPECT_FALSE(store->update_proposal(missing, ProposalState::kProposed));
  EXPECT_FALSE(store->find_proposal("V03-99999", "2026Q1"));
  EXPECT_FALSE(store->find_proposal("V03-00417", "2025Q4"));
}

TEST_P(ComplaintStoreContract, NoticesCountEachVillagesQuarter) {
  auto store = open_();
  EXPECT_TRUE(store->notices(std::nullopt).empty());
  const auto at = [](Proposal p, ProposalState state, const std::string& proposed_on) {
    p.state = state;
    p.proposed_on = proposed_on;
    return p;
  };
  store->save_proposals({
      at(proposal("V04-00001", "V04"), ProposalState::kProposed, "2026-03-10"),
      at(proposal("V04-00002", "V04"), ProposalState::kProposed, "2026-03-14"),
      at(proposal("V04-00003", "V04"), ProposalState::kConfirmed, "2026-03-02"),
      at(proposal("V03-00001", "V03"), ProposalState::kSuperseded, "2026-03-11"),
      at(proposal("V03-00002", "V03"), ProposalState::kConfirmed, "2026-03-09"),
      at(proposal("V03-00001", "V03", "2025Q4"), ProposalState::kConfirmed, "2025-12-20"),
      at(proposal("V05-00001", "V05", "2025Q4"), ProposalState::kProposed, "2025-12-28"),
  });
  const auto all = store->notices(std::nullopt);
  ASSERT_EQ(all.size(), 4u);
  // Latest quarter first, then by village.
  EXPECT_EQ(all[0].quarter, "2026Q1");
  EXPECT_EQ(all[0].village, "V03");
  EXPECT_EQ(all[0].proposed, 0);
  EXPECT_EQ(all[0].confirmed, 1);
  EXPECT_EQ(all[0].superseded, 1);
  EXPECT_EQ(all[0].last_proposed_on, "2026-03-11");
  EXPECT_EQ(all[1].quarter, "2026Q1");
  EXPECT_EQ(all[1].village, "V04");
  EXPECT_EQ(all[1].proposed, 2);
  EXPECT_EQ(all[1].confirmed, 1);
  EXPECT_EQ(all[1].superseded, 0);
  EXPECT_EQ(all[1].last_proposed_on, "2026-03-14");
  EXPECT_EQ(all[2].quarter, "2025Q4");
  EXPECT_EQ(all[2].village, "V03");
  EXPECT_EQ(all[2].confirmed, 1);
  EXPECT_EQ(all[2].proposed + all[2].superseded, 0);
  EXPECT_EQ(all[2].last_proposed_on, "2025-12-20");
  EXPECT_EQ(all[3].quarter, "2025Q4");
  EXPECT_EQ(all[3].village, "V05");
  EXPECT_EQ(all[3].proposed, 1);
  EXPECT_EQ(all[3].last_proposed_on, "2025-12-28");

  const auto q4 = store->notices(std::string("2025Q4"));
  ASSERT_EQ(q4.size(), 2u);
  EXPECT_EQ(q4[0].village, "V03");
  EXPECT_EQ(q4[1].village, "V05");
  EXPECT_TRUE(store->notices(std::string("2024Q1")).empty());

  // A confirmation moves the counts; a store opened again sees it.
  Proposal confirmed = at(proposal("V04-00001", "V04"), ProposalState::kConfirmed, "2026-03-10");
  confirmed.confirmed_on = "2026-03-20";
  ASSERT_TRUE(store->update_proposal(confirmed, ProposalState::kProposed));
  auto other = open_();
  const auto q1 = other->notices(std::string("2026Q1"));
  ASSERT_EQ(q1.size(), 2u);
  EXPECT_EQ(q1[1].village, "V04");
  EXPECT_EQ(q1[1].proposed, 1);
  EXPECT_EQ(q1[1].confirmed, 2);
  EXPECT_EQ(q1[1].last_proposed_on, "2026-03-14");
}

}  // namespace complaint_contract
}  // namespace hub::testing
