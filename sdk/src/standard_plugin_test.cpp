// Tests of StandardPlugin's start-up checks with a minimal host: a catalogue the plugin cannot
// serve is refused with the policy and the file to fix.
#include "hub/sdk/standard_plugin.h"

#include <gtest/gtest.h>

#include <string>

namespace hub::sdk {
namespace {

class MinimalHost final : public Host {
 public:
  explicit MinimalHost(std::string config) : config_(std::move(config)) {}
  void log(LogLevel, std::string_view message) noexcept override { last_log_ = std::string(message); }
  std::string_view config_json() const noexcept override { return config_; }
  std::string_view data_dir() const noexcept override { return "/nonexistent"; }
  std::int64_t now_unix_ms() const noexcept override { return 0; }
  std::string last_log_;

 private:
  std::string config_;
};

std::string config_with(const std::string& department, const std::string& policy_extra) {
  return R"({"id":")" + department + R"(","settings":{},"catalogue":{"department":")" + department +
         R"(","name_zh":"部门","name_en":"Dept","policies":[{"id":")" + department + R"(.p","name_zh":"甲","name_en":"A")" +
         policy_extra + "}]}}";
}

class Probe final : public StandardPlugin {
 public:
  explicit Probe(bool prices_money = false) : StandardPlugin({.department = "probe", .prices_money = prices_money}) {}
  HandleResult start(Host& host) { return on_start(host); }
  HandleResult event(const Event& e, std::vector<PolicyAction>& a) { return on_event(e, a); }
};

TEST(StandardPlugin, StartsWithASuitableCatalogueAndDecidesEachPolicy) {
  MinimalHost host(config_with("probe", ""));
  Probe probe;
  ASSERT_TRUE(probe.start(host).is_ok());
  EXPECT_EQ(host.last_log_, "probe: started with 1 policies");
  Event e;
  e.household_id = "V01-00001";
  e.new_status = HouseholdStatus::kNonCredit;
  std::vector<PolicyAction> actions;
  ASSERT_TRUE(probe.event(e, actions).is_ok());
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].action, ActionKind::kDefer);
}

TEST(StandardPlugin, RefusesWhatItCannotServe) {
  const std::vector<std::tuple<std::string, bool, std::string>> cases = {
      {config_with("probe", R"(,"scope":"roster")"), false, "has scope \"roster\", but this plugin keeps no roster"},
      {config_with("probe", R"(,"money":true)"), false, "decides no amounts; fix config/departments/probe.json"},
      {config_with("other", ""), false, "the catalogue is for department 'other', not 'probe'"},
      {R"({"id":"probe"})", false, "probe: cannot read the policy catalogue"},
  };
  for (const auto& [config, prices_money, fragment] : cases) {
    SCOPED_TRACE(config);
    MinimalHost host(config);
    Probe probe(prices_money);
    const HandleResult result = probe.start(host);
    EXPECT_EQ(result.code(), HandleResult::Code::kError);
    EXPECT_NE(result.message().find(fragment), std::string::npos) << result.message();
    std::vector<PolicyAction> actions;
    EXPECT_EQ(probe.event(Event{}, actions).code(), HandleResult::Code::kError);
  }
  MinimalHost money(config_with("probe", R"(,"money":true)"));
  Probe pricing(true);
  EXPECT_TRUE(pricing.start(money).is_ok());
}

}  // namespace
}  // namespace hub::sdk
