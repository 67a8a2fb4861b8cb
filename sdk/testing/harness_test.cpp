// Tests of the plugin authors' harness itself (hub::sdk_testing): the event builder, the fake
// host, loading through hubd's loader with its errors, and the verdicts on a plugin's answers,
// using a plugin that misbehaves on purpose (test_plugins/misbehaving_plugin.cpp).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "hub/sdk/testing/harness.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::HandleResult;
using hub::sdk::HouseholdStatus;
using hub::sdk_testing::EventBuilder;
using hub::sdk_testing::PluginOptions;
using hub::sdk_testing::PluginUnderTest;
using hub::sdk_testing::TempDir;
using hub::sdk_testing::this_plugin;

// --- EventBuilder ---------------------------------------------------------------------------

TEST(EventBuilder, DerivesWhatTheHubDerives) {
  const auto e = EventBuilder()
                     .household("V03-00417")
                     .from("credit")
                     .to("non_credit")
                     .quarter("2026Q4")
                     .designation("assistance")
                     .department("finance")
                     .sequence(12)
                     .build();
  EXPECT_EQ(e.household_id, "V03-00417");
  EXPECT_EQ(e.village, "V03");
  EXPECT_EQ(e.previous_status, HouseholdStatus::kCredit);
  EXPECT_EQ(e.new_status, HouseholdStatus::kNonCredit);
  EXPECT_EQ(e.quarter, "2026Q4");
  EXPECT_EQ(e.effective_date, "2027-01-01");
  EXPECT_EQ(e.event_id, "ev-2026Q4-V03-00417");
  EXPECT_EQ(e.idempotency_key, "finance:12");
  EXPECT_EQ(e.sequence, 12u);
  EXPECT_TRUE(e.has_designation("assistance"));
  EXPECT_FALSE(e.correction);
  EXPECT_EQ(e.previous_quarter, "");
}

TEST(EventBuilder, DefaultsAreAFirstCreditEvaluation) {
  const auto e = EventBuilder().build();
  EXPECT_EQ(e.household_id, "V01-00001");
  EXPECT_EQ(e.village, "V01");
  EXPECT_EQ(e.previous_status, HouseholdStatus::kUnevaluated);
  EXPECT_EQ(e.new_status, HouseholdStatus::kCredit);
  EXPECT_EQ(e.quarter, "2026Q3");
  EXPECT_EQ(e.effective_date, "2026-10-01");
  EXPECT_EQ(e.idempotency_key, "test:1");
}

TEST(EventBuilder, CorrectionRepeatsTheQuarter) {
  const auto e = EventBuilder().from(HouseholdStatus::kNonCredit).to(HouseholdStatus::kCredit).correction().build();
  EXPECT_TRUE(e.correction);
  EXPECT_EQ(e.previous_quarter, e.quarter);
  EXPECT_EQ(EventBuilder().correction().previous_quarter("2026Q2").build().previous_quarter, "2026Q2");
}

TEST(EventBuilder, RejectsUnknownStatusesAndQuartersNamingTheMethod) {
  try {
    EventBuilder().to("trustworthy");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("EventBuilder::to: unknown status 'trustworthy'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(EventBuilder().from("good"), std::invalid_argument);
  EXPECT_THROW(EventBuilder().quarter("2026-Q3"), std::invalid_argument);
  EXPECT_THROW(EventBuilder().quarter("2026Q5"), std::invalid_argument);
  EXPECT_THROW(EventBuilder().previous_quarter("Q1"), std::invalid_argument);
  EXPECT_EQ(hub::sdk_testing::first_day_after("2026Q1"), "2026-04-01");
}

// --- loading, as hubd loads -----------------------------------------------------------------

void expect_start_error(PluginUnderTest& plugin, const std::string& code, const std::string& fragment) {
  const HandleResult result = plugin.start();
  ASSERT_EQ(result.code(), HandleResult::Code::kError);
  EXPECT_EQ(result.message().rfind(code + ": ", 0), 0u) << result.message();
  EXPECT_NE(result.message().find(fragment), std::string::npos) << result.message();
}

TEST(PluginLoading, RefusesAPluginBuiltForAnotherAbiNamingBothVersions) {
  PluginUnderTest plugin(this_plugin().with_library(HUB_BAD_ABI_PLUGIN));
  expect_start_error(plugin, "abi_mismatch",
                     "built for plugin ABI version 999, this hub uses ABI version " +
                         std::to_string(HUB_SDK_ABI_VERSION));
  EXPECT_THROW(plugin.info(), std::logic_error);
}

TEST(PluginLoading, ReportsAMissingLibrary) {
  PluginUnderTest plugin(this_plugin().with_library("/nonexistent/libhub_plugin_misbehaving.so"));
  expect_start_error(plugin, "plugin_not_found", "/nonexistent/libhub_plugin_misbehaving.so");
}

TEST(PluginLoading, RefusesAPluginThatReportsAnotherDepartment) {
  PluginUnderTest plugin(this_plugin().with_library(HUB_TEMPLATE_PLUGIN));
  expect_start_error(plugin, "plugin_id_mismatch", "'my_department', the configuration expects 'misbehaving'");
}

TEST(PluginLoading, CatalogueMustBeValidAndForTheSameDepartment) {
  TempDir dir("harness");
  dir.write("other.json", R"({"department":"other","name_zh":"其他","name_en":"Other","policies":[]})");
  dir.write("broken.json", R"({"department":"misbehaving","policies":[{"id":"x","scope":"village"}]})");
  PluginOptions options = this_plugin();
  options.catalogue_file = (dir.path() / "other.json").string();
  EXPECT_THROW(PluginUnderTest{options}, std::runtime_error);
  options.catalogue_file = (dir.path() / "broken.json").string();
  try {
    PluginUnderTest plugin(options);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("broken.json: invalid catalogue"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PluginUnderTest{this_plugin("[1, 2]")}, std::runtime_error);
}

// --- the plugin's answers and hubd's verdicts ------------------------------------------------

class HarnessTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_STARTED(plugin_.start()); }

  // hubd's failure reason for the misbehaving household `h`, or "" when hubd records it.
  std::string failure_for(const char* h) {
    const auto decision = plugin_.handle(EventBuilder().household(h));
    return decision.failure.value_or("");
  }

  PluginUnderTest plugin_{this_plugin()};
};

TEST_F(HarnessTest, HostGivesTheConfigurationDataDirectoryAndClock) {
  EXPECT_EQ(plugin_.info().id, "misbehaving");
  EXPECT_EQ(plugin_.info().version, "0.0.1");
  EXPECT_TRUE(std::filesystem::is_directory(plugin_.data_dir()));
  EXPECT_TRUE(plugin_.host().logged("warn: misbehaving: data dir " + plugin_.data_dir().string()));
  EXPECT_NE(plugin_.host().config_json().find(R"("id":"misbehaving")"), std::string::npos);
  EXPECT_NE(plugin_.host().config_json().find(R"("settings":{})"), std::string::npos);

  plugin_.host().set_now_unix_ms(1000);
  plugin_.host().advance_ms(234);
  const auto actions = plugin_.decide(EventBuilder());
  ASSERT_FALSE(actions.empty());
  EXPECT_EQ(actions[0].reason, "priority @1234");
}

TEST_F(HarnessTest, GoodAnswerIsRecordedAndCheckable) {
  const auto decision = plugin_.handle(EventBuilder().household("V09-00100"));
  EXPECT_TRUE(decision.result.is_ok());
  EXPECT_TRUE(decision.recorded()) << *decision.failure;
  EXPECT_ACTION(decision.actions, "misbehaving.priority", ActionKind::kApply);
  EXPECT_ACTION(decision.actions, "misbehaving.reward", ActionKind::kApply, 100);
  EXPECT_FALSE(hub::sdk_testing::has_action(decision.actions, "misbehaving.reward", ActionKind::kApply, 99));
  EXPECT_FALSE(hub::sdk_testing::has_action(decision.actions, "misbehaving.priority", ActionKind::kDefer));
  EXPECT_FALSE(hub::sdk_testing::has_action(decision.actions, "misbehaving.unknown", ActionKind::kApply));
}

TEST_F(HarnessTest, FailuresAreReportedWithHubdsReasons) {
  EXPECT_EQ(failure_for("V09-00001"), "plugin error: plugin threw in on_event: department database offline");
  EXPECT_EQ(failure_for("V09-00002"), "plugin asked to retry: department system busy");
  EXPECT_NE(failure_for("V09-00003").find("invalid_action: actions[0].policy_id: 'misbehaving.unknown'"),
            std::string::npos);
  EXPECT_NE(failure_for("V09-00004").find("invalid_action: actions[0].household_id: 'V09-99999'"),
            std::string::npos);
  EXPECT_NE(failure_for("V09-00005").find("invalid_action: actions[1].amount_fen: negative amount -100"),
            std::string::npos);
  // Recorded by hubd, but against the SDK's contract (see decide()).
  EXPECT_EQ(failure_for("V09-00006"), "");
  EXPECT_EQ(failure_for("V09-00007"), "");
}

TEST_F(HarnessTest, DecideFailsTheTestOnEveryKindOfBadAnswer) {
  EXPECT_NONFATAL_FAILURE(plugin_.decide(EventBuilder().household("V09-00001")), "department database offline");
  EXPECT_NONFATAL_FAILURE(plugin_.decide(EventBuilder().household("V09-00002")), "asked to retry");
  EXPECT_NONFATAL_FAILURE(plugin_.decide(EventBuilder().household("V09-00005")), "negative amount");
  EXPECT_NONFATAL_FAILURE(plugin_.decide(EventBuilder().household("V09-00006")),
                          "no action for policy misbehaving.reward");
  EXPECT_NONFATAL_FAILURE(plugin_.decide(EventBuilder().household("V09-00007")), "actions[0].reason: empty");
}

TEST_F(HarnessTest, EXPECT_ACTIONPrintsWhatThePluginAnswered) {
  const auto actions = plugin_.decide(EventBuilder().household("V09-00100"));
  EXPECT_NONFATAL_FAILURE(EXPECT_ACTION(actions, "misbehaving.priority", ActionKind::kWithhold),
                          "misbehaving.priority V09-00100 apply - priority");
}

TEST_F(HarnessTest, BuildersGetThisDepartmentAndTheNextSequence) {
  plugin_.decide(EventBuilder().household("V09-00100"));
  plugin_.decide(EventBuilder().household("V09-00100").sequence(10));
  const auto next = plugin_.event_for(EventBuilder());
  EXPECT_EQ(next.sequence, 11u);
  EXPECT_EQ(next.idempotency_key, "misbehaving:11");
  EXPECT_EQ(plugin_.event_for(EventBuilder().department("x").sequence(3)).idempotency_key, "x:3");
}

TEST_F(HarnessTest, RestartKeepsTheDataDirectoryAndUnloadIsIdempotent) {
  plugin_.write_data_file("state/marker.txt", "kept");
  ASSERT_STARTED(plugin_.restart());
  EXPECT_TRUE(std::filesystem::exists(plugin_.data_dir() / "state/marker.txt"));
  plugin_.unload();
  plugin_.unload();
  EXPECT_THROW(plugin_.handle(EventBuilder()), std::logic_error);
}

TEST(PluginData, AGivenDataDirectoryIsUsedAndKept) {
  TempDir dir("harness-data");
  PluginOptions options = this_plugin();
  options.data_dir = dir.path() / "plugins" / "misbehaving";
  {
    PluginUnderTest plugin(options);
    ASSERT_STARTED(plugin.start());
    EXPECT_TRUE(plugin.host().logged(options.data_dir.string()));
  }
  EXPECT_TRUE(std::filesystem::is_directory(options.data_dir));
}

}  // namespace
