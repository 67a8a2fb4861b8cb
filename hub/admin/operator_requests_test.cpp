#include "admin/operator_requests.h"

#include <gtest/gtest.h>

#include <string>

namespace hub::admin {
namespace {

using nlohmann::json;

HubConfig two_departments() {
  HubConfig config;
  PluginConfig schools;
  schools.id = "schools";
  PluginConfig land;
  land.id = "land";
  land.placement = Placement::kHost;
  PluginConfig off;
  off.id = "off";
  off.enabled = false;
  config.plugins = {schools, land, off};
  return config;
}

// The error code and field of a refused request, "" when it was accepted. Numbers are written
// unsigned, as the parser reads them from a request's text.
std::string refusal(const json& request, delivery::OperatorCommand* out = nullptr) {
  delivery::OperatorCommand command;
  const json error = parse_operator_request(two_departments(), request, command);
  if (out != nullptr) *out = command;
  if (error.is_null()) return "";
  return error["error"]["code"].get<std::string>() + "/" + error["error"].value("field", "");
}

TEST(OperatorRequests, ParkedListIsTheDefaultAndKeepsItsFilters) {
  delivery::OperatorCommand command;
  EXPECT_EQ(refusal({{"cmd", "parked"}, {"department", "land"}, {"household_id", "V03-00417"}, {"seq", 7u},
                     {"all", true}, {"limit", 5u}},
                    &command),
            "");
  const auto& list = std::get<delivery::ParkedList>(command);
  EXPECT_EQ(list.department, "land");
  EXPECT_EQ(list.household_id, "V03-00417");
  EXPECT_EQ(list.seq, 7u);
  EXPECT_TRUE(list.all);
  EXPECT_EQ(list.limit, 5u);
}

TEST(OperatorRequests, ParkedFieldsAreCheckedInTheProtocolsOrder) {
  EXPECT_EQ(refusal({{"cmd", "parked"}, {"action", "drop"}}), "unknown_action/action");
  EXPECT_EQ(refusal({{"cmd", "parked"}, {"department", "nowhere"}, {"household_id", "-x"}}),
            "unknown_department/department");
  EXPECT_EQ(refusal({{"cmd", "parked"}, {"household_id", "-x"}, {"seq", 0}}), "invalid_field/household_id");
  EXPECT_EQ(refusal({{"cmd", "parked"}, {"seq", -1}}), "invalid_field/seq");
  EXPECT_EQ(refusal({{"cmd", "parked"}, {"limit", 100001u}}), "invalid_field/limit");
  EXPECT_EQ(refusal({{"cmd", "parked"}, {"action", "retry"}}), "missing_field/by");
  EXPECT_EQ(refusal({{"cmd", "parked"}, {"action", "skip"}, {"by", std::string(65, 'a')}}), "invalid_field/by");
  delivery::OperatorCommand command;
  EXPECT_EQ(refusal({{"cmd", "parked"}, {"action", "skip"}, {"by", "ops"}, {"limit", "ignored"}}, &command), "");
  EXPECT_EQ(std::get<delivery::ParkedSkip>(command).by, "ops");
}

TEST(OperatorRequests, PluginCommandsNeedAConfiguredEnabledDepartment) {
  EXPECT_EQ(refusal({{"cmd", "plugins"}, {"action", "enable"}, {"by", "ops"}}), "missing_field/department");
  EXPECT_EQ(refusal({{"cmd", "plugins"}, {"action", "enable"}, {"department", "x"}}), "unknown_department/department");
  EXPECT_EQ(refusal({{"cmd", "plugins"}, {"action", "enable"}, {"department", "off"}}), "missing_field/by");
  EXPECT_EQ(refusal({{"cmd", "plugins"}, {"action", "enable"}, {"department", "off"}, {"by", "ops"}}), "not_loaded/");
  EXPECT_EQ(refusal({{"cmd", "plugins"}, {"action", "enable"}, {"department", "schools"}, {"by", "ops"},
                     {"reason", "x"}}),
            "invalid_field/reason");
  EXPECT_EQ(refusal({{"cmd", "plugins"}, {"action", "reload"}, {"department", "land"}, {"by", "ops"},
                     {"library", "/x.so"}}),
            "not_supported/library");
  EXPECT_EQ(refusal({{"cmd", "plugins"}, {"action", "reload"}, {"department", "schools"}, {"by", "ops"},
                     {"library", "x.so"}}),
            "invalid_field/library");
  delivery::OperatorCommand command;
  EXPECT_EQ(refusal({{"cmd", "plugins"}, {"action", "disable"}, {"department", "schools"}, {"by", "ops"},
                     {"reason", "maintenance"}},
                    &command),
            "");
  EXPECT_EQ(std::get<delivery::PluginDisable>(command).reason, "maintenance");
}

TEST(OperatorRequests, EveryCommandCrossesTheStatusSocketUnchanged) {
  const delivery::OperatorCommand commands[] = {
      delivery::ParkedList{"land", "V03-00417", 9, true, 20},
      delivery::ParkedRetry{"schools", "", 4, "ops"},
      delivery::ParkedSkip{"", "V01-00001", 0, "ops"},
      delivery::PluginsList{},
      delivery::PluginReload{"schools", "/opt/schools.so", "ops"},
      delivery::PluginDisable{"schools", "maintenance", "ops"},
      delivery::PluginEnable{"land", "ops"},
  };
  for (const auto& command : commands) {
    const std::string frame = delivery::encode_command(command);
    EXPECT_EQ(delivery::encode_command(delivery::decode_command(frame)), frame);
    EXPECT_EQ(delivery::decode_command(frame).index(), command.index());
  }
  EXPECT_THROW(delivery::decode_command("status?"), std::runtime_error);
  EXPECT_THROW(delivery::decode_command(R"({"kind":99})"), std::runtime_error);
}

}  // namespace
}  // namespace hub::admin
