#include "hub/sdk/reasons.h"

#include <gtest/gtest.h>

namespace hub::sdk {
namespace {

Catalogue catalogue() {
  std::string error;
  auto c = Catalogue::parse(R"({"department":"d","name_zh":"部门","name_en":"Dept","policies":[
      {"id":"d.all","name_zh":"甲","name_en":"A"},
      {"id":"d.help","name_zh":"乙","name_en":"B","scope":"designation:assistance"}]})",
                            &error);
  EXPECT_TRUE(c) << error;
  return *c;
}

Event event(HouseholdStatus previous, HouseholdStatus next, bool correction = false) {
  Event e;
  e.household_id = "V01-00001";
  e.previous_status = previous;
  e.new_status = next;
  e.quarter = "2020Q4";
  e.correction = correction;
  return e;
}

TEST(Reasons, StandardReasonNamesStatusActionAndQuarterInBothLanguages) {
  const Event e = event(HouseholdStatus::kCredit, HouseholdStatus::kNonCredit);
  EXPECT_EQ(standard_reason(e, ActionKind::kDefer), "不诚信户，暂缓兑现 / non_credit: deferred (2020Q4)");
  const ActionWording service{"优先办理", "暂缓优先办理", "不予优先办理", "恢复优先办理", "恢复优先办理"};
  EXPECT_EQ(standard_reason(e, ActionKind::kDefer, service), "不诚信户，暂缓优先办理 / non_credit: deferred (2020Q4)");
  EXPECT_EQ(standard_reason(event(HouseholdStatus::kBreach, HouseholdStatus::kCredit, true), ActionKind::kRestore),
            "诚信户，恢复兑现 / credit: restored (2020Q4) [更正 / correction]");
}

// A complaint's ruling on a past quarter: the standard rule decides that quarter again (a breach
// corrected to credit restores it), and every reason names the complaint and what the quarter was.
TEST(Reasons, APastQuartersRulingIsDecidedAgainAndNamesTheComplaint) {
  const Catalogue c = catalogue();
  Event e = event(HouseholdStatus::kBreach, HouseholdStatus::kCredit, true);
  e.past_quarter = true;
  e.quarter = "2020Q3";
  e.complaint_id = "TS-2026-000123";
  const PolicyAction all = standard_policy_action(*c.find("d.all"), e);
  EXPECT_EQ(all.action, ActionKind::kRestore);
  EXPECT_EQ(all.reason,
            "诚信户，恢复兑现 / credit: restored (2020Q3) [依投诉 TS-2026-000123 裁定更正往季 2020Q3，原为违约户 / past "
            "quarter 2020Q3 corrected by the ruling on complaint TS-2026-000123, was breach]");
  const PolicyAction help = standard_policy_action(*c.find("d.help"), e);
  EXPECT_EQ(help.action, ActionKind::kNotApplicable);
  EXPECT_NE(help.reason.find("TS-2026-000123"), std::string::npos) << help.reason;
  // A department that does not receive the correction's fields gets no complaint id: still readable.
  e.complaint_id.clear();
  EXPECT_EQ(correction_suffix(e),
            " [依投诉裁定更正往季 2020Q3，原为违约户 / past quarter 2020Q3 corrected by the ruling on complaint, was breach]");
  // A ruling on the quarter now names the complaint; a plain correction says only that.
  e.past_quarter = false;
  e.complaint_id = "TS-2026-000123";
  EXPECT_EQ(correction_suffix(e), " [依投诉 TS-2026-000123 裁定更正 / correction by the ruling on complaint TS-2026-000123]");
  e.complaint_id.clear();
  EXPECT_EQ(correction_suffix(e), " [更正 / correction]");
}

TEST(Reasons, StandardPolicyActionFollowsTheCatalogueAndDesignationScope) {
  const Catalogue c = catalogue();
  Event e = event(HouseholdStatus::kNonCredit, HouseholdStatus::kCredit);
  PolicyAction all = standard_policy_action(*c.find("d.all"), e);
  EXPECT_EQ(all.policy_id, "d.all");
  EXPECT_EQ(all.household_id, "V01-00001");
  EXPECT_EQ(all.action, ActionKind::kRelease);
  EXPECT_FALSE(all.amount_fen);
  PolicyAction help = standard_policy_action(*c.find("d.help"), e);
  EXPECT_EQ(help.action, ActionKind::kNotApplicable);
  EXPECT_EQ(help.reason, "非帮扶对象，不适用 / not designated 'assistance': not applicable");
  e.designations = {"assistance"};
  EXPECT_EQ(standard_policy_action(*c.find("d.help"), e).action, ActionKind::kRelease);
}

TEST(Reasons, FormatYuan) {
  EXPECT_EQ(format_yuan(0), "¥0.00");
  EXPECT_EQ(format_yuan(5), "¥0.05");
  EXPECT_EQ(format_yuan(123456), "¥1234.56");
  EXPECT_EQ(format_yuan(-250), "-¥2.50");
  EXPECT_EQ(missing_designation_reason("veteran"), "无“veteran”认定，不适用 / not designated 'veteran': not applicable");
}

}  // namespace
}  // namespace hub::sdk
