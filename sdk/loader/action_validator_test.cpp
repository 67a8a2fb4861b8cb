// Tests of the check applied to every action a plugin returns before it reaches the ledger:
// the policy must be in the catalogue, the household must be the event's, the action a known
// value, and money only (and always) where the policy carries money.
#include "hub/loader/action_validator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hub {
namespace {

using hub::sdk::ActionKind;
using hub::sdk::Catalogue;
using hub::sdk::PolicyAction;

constexpr const char* kCatalogue = R"({
  "department": "finance", "name_zh": "财政所", "name_en": "Finance office",
  "policies": [
    {"id": "finance.reward", "name_zh": "奖励费", "name_en": "Reward", "money": true, "scope": "roster"},
    {"id": "finance.priority", "name_zh": "优先", "name_en": "Priority", "money": false, "scope": "all"}
  ]})";

const std::string kHousehold = "V03-00417";

class ActionValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    auto parsed = Catalogue::parse(kCatalogue, &error);
    ASSERT_TRUE(parsed.has_value()) << error;
    catalogue_ = *parsed;
  }

  static PolicyAction money(ActionKind kind, std::optional<std::int64_t> amount) {
    return PolicyAction{"finance.reward", kHousehold, kind, amount, "quarterly reward"};
  }
  static PolicyAction plain(ActionKind kind) {
    return PolicyAction{"finance.priority", kHousehold, kind, std::nullopt, "priority"};
  }

  std::optional<std::string> validate(const std::vector<PolicyAction>& actions) const {
    return validate_actions(catalogue_, kHousehold, actions);
  }

  // Expects a rejection whose message starts with the given prefix and contains `fragment`.
  void expect_invalid(const std::vector<PolicyAction>& actions, const std::string& prefix,
                      const std::string& fragment) const {
    const auto error = validate(actions);
    ASSERT_TRUE(error.has_value()) << "expected " << prefix;
    EXPECT_EQ(error->rfind(prefix, 0), 0u) << *error;
    EXPECT_NE(error->find(fragment), std::string::npos) << *error;
  }

  Catalogue catalogue_;
};

TEST_F(ActionValidatorTest, ValidSetsPass) {
  EXPECT_EQ(validate({}), std::nullopt);
  EXPECT_EQ(validate({money(ActionKind::kApply, 12000), plain(ActionKind::kApply)}), std::nullopt);
  EXPECT_EQ(validate({money(ActionKind::kDefer, 12000), plain(ActionKind::kDefer)}), std::nullopt);
  EXPECT_EQ(validate({money(ActionKind::kWithhold, 0), plain(ActionKind::kWithhold)}), std::nullopt);
  EXPECT_EQ(validate({money(ActionKind::kRelease, 36000), plain(ActionKind::kRestore)}), std::nullopt);
  // Every action kind is acceptable on a policy without money.
  for (int k = 0; k <= static_cast<int>(ActionKind::kNotApplicable); ++k)
    EXPECT_EQ(validate({plain(static_cast<ActionKind>(k))}), std::nullopt) << k;
  // A policy may appear more than once (e.g. two amounts).
  EXPECT_EQ(validate({money(ActionKind::kApply, 1), money(ActionKind::kApply, 2)}), std::nullopt);
}

TEST_F(ActionValidatorTest, NotApplicableMoneyPolicyNeedsNoAmount) {
  EXPECT_EQ(validate({money(ActionKind::kNotApplicable, std::nullopt)}), std::nullopt);
  EXPECT_EQ(validate({money(ActionKind::kNotApplicable, 0)}), std::nullopt);
}

TEST_F(ActionValidatorTest, UnknownPolicyIsNamed) {
  PolicyAction a = plain(ActionKind::kApply);
  a.policy_id = "schools.fee_reduction";
  expect_invalid({plain(ActionKind::kApply), a}, "invalid_action: actions[1].policy_id", "schools.fee_reduction");
  expect_invalid({a}, "invalid_action: actions[0].policy_id", "finance catalogue");
  a.policy_id = "";
  expect_invalid({a}, "invalid_action: actions[0].policy_id", "not in the finance catalogue");
}

TEST_F(ActionValidatorTest, WrongHouseholdIsNamed) {
  PolicyAction a = plain(ActionKind::kApply);
  a.household_id = "V03-00418";
  expect_invalid({a}, "invalid_action: actions[0].household_id", "V03-00418");
  a.household_id = "";
  expect_invalid({money(ActionKind::kApply, 5), a}, "invalid_action: actions[1].household_id", kHousehold);
}

TEST_F(ActionValidatorTest, ActionOutOfRange) {
  PolicyAction a = plain(ActionKind::kApply);
  a.action = static_cast<ActionKind>(42);
  expect_invalid({a}, "invalid_action: actions[0].action", "42");
  a.action = static_cast<ActionKind>(static_cast<int>(ActionKind::kNotApplicable) + 1);
  expect_invalid({a}, "invalid_action: actions[0].action", "6");
  a.action = static_cast<ActionKind>(255);
  expect_invalid({a}, "invalid_action: actions[0].action", "255");
}

TEST_F(ActionValidatorTest, NegativeAmount) {
  expect_invalid({money(ActionKind::kApply, -1)}, "invalid_action: actions[0].amount_fen", "negative amount -1");
  expect_invalid({money(ActionKind::kRelease, INT64_MIN)}, "invalid_action: actions[0].amount_fen", "negative");
}

TEST_F(ActionValidatorTest, AmountOnAPolicyWithoutMoney) {
  PolicyAction a = plain(ActionKind::kApply);
  a.amount_fen = 100;
  expect_invalid({a}, "invalid_action: actions[0].amount_fen", "carries no money");
  a.amount_fen = 0;
  expect_invalid({a}, "invalid_action: actions[0].amount_fen", "finance.priority");
}

TEST_F(ActionValidatorTest, MissingAmountOnAMoneyPolicy) {
  for (ActionKind k : {ActionKind::kApply, ActionKind::kDefer, ActionKind::kWithhold, ActionKind::kRelease,
                       ActionKind::kRestore}) {
    expect_invalid({money(k, std::nullopt)}, "invalid_action: actions[0].amount_fen", "amount is missing");
  }
}

TEST_F(ActionValidatorTest, OverlongReason) {
  PolicyAction a = plain(ActionKind::kApply);
  a.reason = std::string(1000, 'r');
  EXPECT_EQ(validate({a}), std::nullopt);
  a.reason.push_back('r');
  expect_invalid({a}, "invalid_action: actions[0].reason", "1000");
}

TEST_F(ActionValidatorTest, TheFirstInvalidActionIsReported) {
  PolicyAction bad_household = plain(ActionKind::kApply);
  bad_household.household_id = "V01-00001";
  expect_invalid({plain(ActionKind::kApply), money(ActionKind::kApply, -5), bad_household},
                 "invalid_action: actions[1].amount_fen", "negative");
}

}  // namespace
}  // namespace hub
