// Tests of the department catalogue reader and of the standard status → action rule (§2):
// every parse error names its key, defaults are the documented ones, and the transition
// refinements (release after non_credit, restore after breach) hold.
#include "hub/sdk/catalogue.h"

#include <gtest/gtest.h>

#include <string>

namespace hub::sdk {
namespace {

// Three policies; tests replace one fragment to produce each error.
std::string catalogue_with(const std::string& third_policy) {
  return R"({"department":"finance","name_zh":"财政所","name_en":"Finance office","policies":[
    {"id":"finance.reward","name_zh":"奖励费","name_en":"Reward","money":true,"scope":"roster",
     "effects":{"credit":"apply","non_credit":"defer","breach":"withhold"}},
    {"id":"finance.priority","name_zh":"优先","name_en":"Priority"},
    )" + third_policy + "]}";
}

const std::string kThird =
    R"({"id":"finance.assist","name_zh":"帮扶","name_en":"Assistance","scope":"designation:assistance",
        "effects":{"non_credit":"not_applicable"}})";

Catalogue parse_ok(const std::string& text) {
  std::string error;
  auto c = Catalogue::parse(text, &error);
  if (!c) {
    ADD_FAILURE() << "unexpected error: " << error;
    return {};
  }
  EXPECT_TRUE(error.empty()) << error;
  return *c;
}

std::string parse_error(const std::string& text) {
  std::string error;
  auto c = Catalogue::parse(text, &error);
  EXPECT_FALSE(c.has_value()) << "expected an error for " << text;
  EXPECT_FALSE(error.empty());
  return error;
}

// Expects the error to start with "<key>: " and contain `fragment`.
void expect_error(const std::string& text, const std::string& key, const std::string& fragment = "") {
  const std::string error = parse_error(text);
  EXPECT_EQ(error.rfind(key + ": ", 0), 0u) << "error: " << error;
  EXPECT_NE(error.find(fragment), std::string::npos) << "error: " << error;
}

Event transition(HouseholdStatus from, HouseholdStatus to) {
  Event e;
  e.previous_status = from;
  e.new_status = to;
  return e;
}

// --- parsing --------------------------------------------------------------------------------

TEST(CatalogueParse, ReadsEveryFieldAndAppliesDefaults) {
  const Catalogue c = parse_ok(catalogue_with(kThird));
  EXPECT_EQ(c.department(), "finance");
  EXPECT_EQ(c.name_zh(), "财政所");
  EXPECT_EQ(c.name_en(), "Finance office");
  ASSERT_EQ(c.policies().size(), 3u);

  const PolicyDefinition& reward = c.policies()[0];
  EXPECT_EQ(reward.id, "finance.reward");
  EXPECT_EQ(reward.name_zh, "奖励费");
  EXPECT_EQ(reward.name_en, "Reward");
  EXPECT_TRUE(reward.money);
  EXPECT_EQ(reward.scope, PolicyDefinition::Scope::kRoster);

  const PolicyDefinition& priority = c.policies()[1];
  EXPECT_FALSE(priority.money);
  EXPECT_EQ(priority.scope, PolicyDefinition::Scope::kAll);
  EXPECT_EQ(priority.on_credit, ActionKind::kApply);
  EXPECT_EQ(priority.on_non_credit, ActionKind::kDefer);
  EXPECT_EQ(priority.on_breach, ActionKind::kWithhold);

  const PolicyDefinition& assist = c.policies()[2];
  EXPECT_EQ(assist.scope, PolicyDefinition::Scope::kDesignation);
  EXPECT_EQ(assist.designation, "assistance");
  EXPECT_EQ(assist.on_non_credit, ActionKind::kNotApplicable);
  EXPECT_EQ(assist.on_credit, ActionKind::kApply) << "unlisted effects keep their default";

  EXPECT_EQ(c.find("finance.priority"), &c.policies()[1]);
  EXPECT_EQ(c.find("finance.nothing"), nullptr);
  EXPECT_EQ(c.find(""), nullptr);
}

TEST(CatalogueParse, NullErrorPointerIsAllowed) {
  EXPECT_TRUE(Catalogue::parse(catalogue_with(kThird), nullptr).has_value());
  EXPECT_FALSE(Catalogue::parse("{", nullptr).has_value());
}

TEST(CatalogueParse, NotAnObject) {
  for (const char* text : {"", "{", "[]", "\"finance\"", "42", "{\"department\":}"})
    expect_error(text, "catalogue", "not a JSON object");
}

TEST(CatalogueParse, RequiredTopLevelStrings) {
  const std::string policies = R"("policies":[{"id":"a","name_zh":"甲","name_en":"A"}])";
  expect_error("{\"name_zh\":\"z\",\"name_en\":\"e\"," + policies + "}", "department", "non-empty string");
  expect_error("{\"department\":\"\",\"name_zh\":\"z\",\"name_en\":\"e\"," + policies + "}", "department");
  expect_error("{\"department\":7,\"name_zh\":\"z\",\"name_en\":\"e\"," + policies + "}", "department");
  expect_error("{\"department\":\"d\",\"name_en\":\"e\"," + policies + "}", "name_zh");
  expect_error("{\"department\":\"d\",\"name_zh\":\"z\"," + policies + "}", "name_en");
}

TEST(CatalogueParse, PoliciesMustBeANonEmptyArray) {
  const std::string head = R"({"department":"d","name_zh":"z","name_en":"e")";
  expect_error(head + "}", "policies", "non-empty array");
  expect_error(head + R"(,"policies":[]})", "policies", "non-empty array");
  expect_error(head + R"(,"policies":{"id":"a"}})", "policies", "non-empty array");
}

TEST(CatalogueParse, PolicyErrorsNameTheIndexAndKey) {
  expect_error(catalogue_with("\"finance.x\""), "policies[2]", "must be an object");
  expect_error(catalogue_with(R"({"name_zh":"甲","name_en":"A"})"), "policies[2].id", "required");
  expect_error(catalogue_with(R"({"id":"finance.x","name_en":"A"})"), "policies[2].name_zh", "required");
  expect_error(catalogue_with(R"({"id":"finance.x","name_zh":"甲","name_en":""})"), "policies[2].name_en");
  expect_error(catalogue_with(R"({"id":"finance.reward","name_zh":"甲","name_en":"A"})"), "policies[2].id",
               "duplicate policy id 'finance.reward'");
  expect_error(catalogue_with(R"({"id":"finance.x","name_zh":"甲","name_en":"A","money":"yes"})"),
               "policies[2].money", "true or false");
}

TEST(CatalogueParse, ScopeErrors) {
  for (const char* scope : {R"("some")", R"("designation:")", R"("designation")", "5", R"("ALL")"})
    expect_error(catalogue_with(std::string(R"({"id":"finance.x","name_zh":"甲","name_en":"A","scope":)") + scope + "}"),
                 "policies[2].scope", "designation:<name>");
}

TEST(CatalogueParse, EffectErrorsNameTheStatus) {
  const std::string base = R"({"id":"finance.x","name_zh":"甲","name_en":"A","effects":)";
  expect_error(catalogue_with(base + R"({"breach":"skip"}})"), "policies[2].effects.breach", "'skip'");
  // release and restore are transitions, not effects a catalogue can give a status.
  expect_error(catalogue_with(base + R"({"credit":"release"}})"), "policies[2].effects.credit", "'release'");
  expect_error(catalogue_with(base + R"({"credit":"restore"}})"), "policies[2].effects.credit", "'restore'");
  expect_error(catalogue_with(base + R"({"non_credit":3}})"), "policies[2].effects.non_credit", "must be a string");
  expect_error(catalogue_with(base + R"({"unevaluated":"apply"}})"), "policies[2].effects.unevaluated",
               "unknown status");
  expect_error(catalogue_with(base + R"(["apply"]})"), "policies[2].effects", "must be an object");
}

TEST(CatalogueParse, AllEffectValuesAccepted) {
  const Catalogue c = parse_ok(catalogue_with(
      R"({"id":"finance.x","name_zh":"甲","name_en":"A",
          "effects":{"credit":"not_applicable","non_credit":"withhold","breach":"defer"}})"));
  const PolicyDefinition* p = c.find("finance.x");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->on_credit, ActionKind::kNotApplicable);
  EXPECT_EQ(p->on_non_credit, ActionKind::kWithhold);
  EXPECT_EQ(p->on_breach, ActionKind::kDefer);
}

TEST(CatalogueParse, FromPluginConfig) {
  std::string error;
  auto c = Catalogue::from_plugin_config(R"({"settings":{},"catalogue":)" + catalogue_with(kThird) + "}", &error);
  ASSERT_TRUE(c.has_value()) << error;
  EXPECT_EQ(c->policies().size(), 3u);

  for (const char* bad : {"{}", "[]", "not json", R"({"settings":{}})"}) {
    error.clear();
    EXPECT_FALSE(Catalogue::from_plugin_config(bad, &error).has_value()) << bad;
    EXPECT_NE(error.find("catalogue"), std::string::npos) << error;
  }
  // Errors inside the catalogue keep their key.
  error.clear();
  EXPECT_FALSE(Catalogue::from_plugin_config(R"({"catalogue":{"department":"d"}})", &error).has_value());
  EXPECT_EQ(error.rfind("name_zh: ", 0), 0u) << error;
}

// --- the standard rule ------------------------------------------------------------------------

class StandardAction : public ::testing::Test {
 protected:
  PolicyDefinition policy_;  // defaults: credit apply, non_credit defer, breach withhold
};

TEST_F(StandardAction, ReturningToCredit) {
  EXPECT_EQ(standard_action(policy_, transition(HouseholdStatus::kNonCredit, HouseholdStatus::kCredit)),
            ActionKind::kRelease);
  EXPECT_EQ(standard_action(policy_, transition(HouseholdStatus::kBreach, HouseholdStatus::kCredit)),
            ActionKind::kRestore);
  EXPECT_EQ(standard_action(policy_, transition(HouseholdStatus::kCredit, HouseholdStatus::kCredit)),
            ActionKind::kApply);
  EXPECT_EQ(standard_action(policy_, transition(HouseholdStatus::kUnevaluated, HouseholdStatus::kCredit)),
            ActionKind::kApply);
}

TEST_F(StandardAction, LeavingCreditDependsOnlyOnTheNewStatus) {
  for (HouseholdStatus from : {HouseholdStatus::kUnevaluated, HouseholdStatus::kCredit, HouseholdStatus::kNonCredit,
                               HouseholdStatus::kBreach}) {
    SCOPED_TRACE(std::string(to_string(from)));
    EXPECT_EQ(standard_action(policy_, transition(from, HouseholdStatus::kNonCredit)), ActionKind::kDefer);
    EXPECT_EQ(standard_action(policy_, transition(from, HouseholdStatus::kBreach)), ActionKind::kWithhold);
    EXPECT_EQ(standard_action(policy_, transition(from, HouseholdStatus::kUnevaluated)), ActionKind::kNotApplicable);
  }
}

TEST_F(StandardAction, RefinementFollowsTheCatalogueEffectsNotTheStatusNames) {
  // A policy that still applies to non_credit households has nothing to release.
  policy_.on_non_credit = ActionKind::kApply;
  EXPECT_EQ(standard_action(policy_, transition(HouseholdStatus::kNonCredit, HouseholdStatus::kCredit)),
            ActionKind::kApply);
  // A policy deferred (not withheld) on breach releases on the way back.
  policy_.on_breach = ActionKind::kDefer;
  EXPECT_EQ(standard_action(policy_, transition(HouseholdStatus::kBreach, HouseholdStatus::kCredit)),
            ActionKind::kRelease);
  // A policy that does not concern credit households never applies.
  policy_.on_credit = ActionKind::kNotApplicable;
  EXPECT_EQ(standard_action(policy_, transition(HouseholdStatus::kBreach, HouseholdStatus::kCredit)),
            ActionKind::kNotApplicable);
}

TEST_F(StandardAction, EffectForStatus) {
  EXPECT_EQ(effect_for_status(policy_, HouseholdStatus::kCredit), ActionKind::kApply);
  EXPECT_EQ(effect_for_status(policy_, HouseholdStatus::kNonCredit), ActionKind::kDefer);
  EXPECT_EQ(effect_for_status(policy_, HouseholdStatus::kBreach), ActionKind::kWithhold);
  EXPECT_EQ(effect_for_status(policy_, HouseholdStatus::kUnevaluated), ActionKind::kNotApplicable);
}

// --- names --------------------------------------------------------------------------------------

TEST(TypeNames, RoundTrip) {
  for (HouseholdStatus s : {HouseholdStatus::kUnevaluated, HouseholdStatus::kCredit, HouseholdStatus::kNonCredit,
                            HouseholdStatus::kBreach})
    EXPECT_EQ(parse_household_status(to_string(s)), s);
  for (int k = 0; k <= static_cast<int>(ActionKind::kNotApplicable); ++k) {
    const auto kind = static_cast<ActionKind>(k);
    EXPECT_EQ(parse_action_kind(to_string(kind)), kind);
  }
  EXPECT_EQ(to_string(HouseholdStatus::kNonCredit), "non_credit");
  EXPECT_EQ(to_string(ActionKind::kNotApplicable), "not_applicable");
  EXPECT_EQ(to_string(static_cast<ActionKind>(42)), "invalid");
  EXPECT_FALSE(parse_household_status("Credit").has_value());
  EXPECT_FALSE(parse_action_kind("").has_value());
}

}  // namespace
}  // namespace hub::sdk
