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
