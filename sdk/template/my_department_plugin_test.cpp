// Unit tests of the my_department plugin: the built library is loaded exactly as hubd loads
// it (hub::sdk_testing), with the department's catalogue, and fed status changes.
// 单元测试：按 hubd 的方式加载插件，输入评议结果，检查各项政策的处理。
#include <gtest/gtest.h>

#include "hub/sdk/testing/harness.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::this_plugin;

constexpr const char* kPriority = "my_department.service_priority";
constexpr const char* kAssistance = "my_department.assistance_programme";

class MyDepartmentTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  PluginUnderTest plugin_{this_plugin()};
};

TEST_F(MyDepartmentTest, ReportsItsIdentity) {
  EXPECT_EQ(plugin_.info().id, "my_department");
  EXPECT_EQ(plugin_.info().abi_version, HUB_SDK_ABI_VERSION);
  EXPECT_TRUE(plugin_.host().logged("started with 2 policies"));
}

TEST_F(MyDepartmentTest, CreditHouseholdGetsPriority) {
  const auto actions = plugin_.decide(EventBuilder().household("V01-00001").from("unevaluated").to("credit"));
  EXPECT_ACTION(actions, kPriority, ActionKind::kApply);
  EXPECT_ACTION(actions, kAssistance, ActionKind::kNotApplicable);  // not designated
}

TEST_F(MyDepartmentTest, NonCreditIsDeferredAndReleasedOnReturnToCredit) {
  auto deferred = plugin_.decide(EventBuilder().household("V01-00002").from("credit").to("non_credit").quarter("2026Q2"));
  EXPECT_ACTION(deferred, kPriority, ActionKind::kDefer);
  auto released = plugin_.decide(EventBuilder().household("V01-00002").from("non_credit").to("credit").quarter("2026Q3"));
  EXPECT_ACTION(released, kPriority, ActionKind::kRelease);
}

TEST_F(MyDepartmentTest, BreachIsWithheldAndAssistanceFollowsTheDesignation) {
  const auto actions =
      plugin_.decide(EventBuilder().household("V02-00007").from("credit").to("breach").designation("assistance"));
  EXPECT_ACTION(actions, kPriority, ActionKind::kWithhold);
  EXPECT_ACTION(actions, kAssistance, ActionKind::kWithhold);
}

TEST_F(MyDepartmentTest, SameEventGetsTheSameAnswerAfterARestart) {
  const auto event = EventBuilder().household("V03-00003").from("breach").to("credit").sequence(42);
  const auto first = plugin_.decide(event);
  ASSERT_STARTED(plugin_.restart());
  EXPECT_EQ(hub::sdk_testing::describe(plugin_.decide(event)), hub::sdk_testing::describe(first));
}

}  // namespace
