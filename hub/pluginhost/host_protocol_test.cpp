// Tests of the hub <-> plugin-host wire codec: values survive a round trip, and the hub turns
// every kind of bad report from a host (out of range, out of order, not a status change,
// actions the catalogue refuses, malformed JSON) into a failure instead of ledger rows.
#include "pluginhost/host_protocol.h"

#include <gtest/gtest.h>

#include <variant>

#include "config/embedded_config.h"
#include "runtime/plugin_worker.h"
#include "runtime/subscription.h"

namespace hub::pluginhost {
namespace {

using nlohmann::json;
using hub::sdk::ActionKind;
using hub::sdk::HouseholdStatus;

LoggedEvent status_change(std::uint64_t seq, const std::string& household) {
  LoggedEvent e;
  e.seq = seq;
  e.type = EventType::kStatusChange;
  e.event_id = "ev-" + std::to_string(seq);
  e.household_id = household;
  e.village = household.substr(0, 3);
  e.status = HouseholdStatus::kNonCredit;
  e.previous_status = HouseholdStatus::kCredit;
  e.quarter = "2020Q4";
  e.previous_quarter = "2020Q3";
  e.effective_date = "2021-01-01";
  e.designations = {"assistance"};
  return e;
}

class HostProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_.id = "police";
    plugin_.catalogue_json = embedded_catalogues().at("police");
    plugin_.settings_json = R"({"desk":"A"})";
    plugin_.villages = {"V01"};
    std::string error;
    plugin_.catalogue = *hub::sdk::Catalogue::parse(plugin_.catalogue_json, &error);
    auto chunk = std::make_shared<EventChunk>();
    chunk->first_seq = 10;
    chunk->events = {status_change(10, "V01-00001"), status_change(11, "V01-00002"), status_change(12, "V01-00003")};
    chunk->events[0].type = EventType::kHousehold;
    request_.chunk = chunk;
    request_.begin = 0;
    request_.end = 3;
    request_.generation = 7;
  }

  static json actions_for(const std::string& household) {
    return json::array({{{"policy_id", "police.hukou_priority"}, {"household_id", household}, {"action", "defer"},
                         {"reason", "non_credit"}}});
  }

  runtime::Report decode(const json& message) { return decode_report(message, request_, plugin_); }

  void expect_rejected(const json& message, const std::string& fragment) {
    SCOPED_TRACE(message.dump());
    const auto r = decode(message);
    EXPECT_TRUE(r.failed);
    EXPECT_EQ(r.failed_seq, 10u);
    EXPECT_EQ(r.done_upto, 9u);
    EXPECT_TRUE(r.delivered.empty());
    EXPECT_EQ(r.generation, 7u);
    EXPECT_NE(r.failure.find("invalid report"), std::string::npos) << r.failure;
    EXPECT_NE(r.failure.find(fragment), std::string::npos) << r.failure;
  }

  PluginConfig plugin_;
  runtime::Request request_;
};

TEST_F(HostProtocolTest, EventsSurviveTheRoundTrip) {
  const LoggedEvent e = status_change(42, "V03-00417");
  const LoggedEvent back = decode_event(json::parse(encode_event(e).dump()), "events[0].");
  EXPECT_EQ(back.seq, 42u);
  EXPECT_EQ(back.type, EventType::kStatusChange);
  EXPECT_EQ(back.event_id, e.event_id);
  EXPECT_EQ(back.household_id, e.household_id);
  EXPECT_EQ(back.village, "V03");
  EXPECT_EQ(back.status, HouseholdStatus::kNonCredit);
  EXPECT_EQ(back.previous_status, HouseholdStatus::kCredit);
  EXPECT_EQ(back.quarter, "2020Q4");
  EXPECT_EQ(back.previous_quarter, "2020Q3");
  EXPECT_EQ(back.effective_date, "2021-01-01");
  EXPECT_EQ(back.designations, std::vector<std::string>{"assistance"});
}

// A complaint's ruling on a past quarter reaches a plugin host as it reaches an in-process
// plugin: past_quarter always (without it the host's plugin would read a past quarter as the
// status now), the complaint with the correction field.
TEST_F(HostProtocolTest, APastQuartersRulingCrossesWithItsComplaint) {
  LoggedEvent e = status_change(42, "V01-00417");
  e.correction = true;
  e.past_quarter = true;
  e.complaint_id = "TS-2026-000123";
  const LoggedEvent back = decode_event(json::parse(encode_event(e).dump()), "events[0].");
  EXPECT_TRUE(back.correction);
  EXPECT_TRUE(back.past_quarter);
  EXPECT_EQ(back.complaint_id, "TS-2026-000123");
  plugin_.fields = kFieldQuarter | kFieldVillage;  // no "correction": no complaint, but past_quarter
  const json limited = encode_event(e, &plugin_);
  EXPECT_EQ(limited.value("past_quarter", false), true) << limited.dump();
  EXPECT_FALSE(limited.contains("complaint_id")) << limited.dump();
  const hub::sdk::Event seen = runtime::to_sdk_event(plugin_, decode_event(limited, "events[0]."));
  EXPECT_TRUE(seen.past_quarter);
  EXPECT_EQ(seen.complaint_id, "");
  for (const json& bad : {json("yes"), json(1)}) {
    json j = encode_event(e);
    j["past_quarter"] = bad;
    EXPECT_THROW(decode_event(j, "events[0]."), ProtocolError) << bad.dump();
  }
}

TEST_F(HostProtocolTest, AHostGetsOnlyWhatItsDepartmentMayReceive) {
  plugin_.fields = kFieldQuarter | kFieldCorrection;  // villages {"V01"} subscribes by village: it is in the test's
  plugin_.fields |= kFieldVillage;                    // configuration for that reason
  const LoggedEvent e = status_change(42, "V01-00417");
  const json j = encode_event(e, &plugin_);
  EXPECT_EQ(j, json({{"seq", 42}, {"type", "status_change"}, {"household_id", "V01-00417"}, {"status", "non_credit"},
                     {"village", "V01"}, {"quarter", "2020Q4"}, {"correction", false}}));
  const LoggedEvent back = decode_event(json::parse(j.dump()), "events[0].");
  EXPECT_EQ(back.quarter, "2020Q4");
  EXPECT_TRUE(back.designations.empty());
  EXPECT_EQ(back.event_id, "");
  // Another village's event, and a registration: only their place in the sequence.
  EXPECT_EQ(encode_event(status_change(43, "V02-00001"), &plugin_), json({{"seq", 43}, {"withheld", true}}));
  LoggedEvent registration = status_change(44, "V01-00001");
  registration.type = EventType::kHousehold;
  const json withheld = encode_event(registration, &plugin_);
  EXPECT_EQ(withheld, json({{"seq", 44}, {"withheld", true}}));
  const LoggedEvent placeholder = decode_event(withheld, "events[2].");
  EXPECT_TRUE(placeholder.withheld);
  EXPECT_FALSE(runtime::subscribed(plugin_, placeholder));
}

TEST_F(HostProtocolTest, BadEventsNameTheField) {
  json j = encode_event(status_change(1, "V01-00001"));
  j["status"] = "excellent";
  try {
    decode_event(j, "events[3].");
    FAIL() << "accepted a bad status";
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.field, "events[3].status");
  }
  j = encode_event(status_change(1, "V01-00001"));
  j.erase("seq");
  EXPECT_THROW(decode_event(j, "events[0]."), ProtocolError);
  EXPECT_THROW(parse_message("[1,2]"), ProtocolError);
  EXPECT_THROW(parse_message(R"({"no_type":1})"), ProtocolError);
  // "withheld" must be a boolean: anything else is refused naming it, never taken as true.
  for (const json& bad : {json("yes"), json(1), json::array()}) {
    try {
      decode_event(json{{"seq", 5}, {"withheld", bad}}, "events[1].");
      FAIL() << "accepted withheld " << bad.dump();
    } catch (const ProtocolError& e) {
      EXPECT_EQ(e.field, "events[1].withheld");
    }
  }
}

TEST_F(HostProtocolTest, DepartmentCarriesCatalogueSettingsAndSubscription) {
  const PluginConfig back = decode_department(encode_department(plugin_), "departments[0].", "/opt/p.so");
  EXPECT_EQ(back.id, "police");
  EXPECT_EQ(back.library, "/opt/p.so");
  EXPECT_EQ(back.catalogue.department(), "police");
  EXPECT_EQ(json::parse(back.settings_json), json::parse(plugin_.settings_json));
  EXPECT_EQ(back.villages, std::vector<std::string>{"V01"});
}

TEST_F(HostProtocolTest, TheHubsCallTimeoutReachesTheHost) {
  plugin_.call_timeout_ms = 1234;
  EXPECT_EQ(decode_department(encode_department(plugin_), "d.", "/p.so").call_timeout_ms, 1234);
  json j = encode_department(plugin_);
  j.erase("call_timeout_ms");  // a hub from before the field: the default
  EXPECT_EQ(decode_department(j, "d.", "/p.so").call_timeout_ms, PluginConfig{}.call_timeout_ms);
  for (const json& bad : {json(0), json(-5), json("30s"), json(86'400'001)}) {
    j["call_timeout_ms"] = bad;
    try {
      decode_department(j, "departments[0].", "/p.so");
      FAIL() << "accepted call_timeout_ms " << bad.dump();
    } catch (const ProtocolError& e) {
      EXPECT_EQ(e.field, "departments[0].call_timeout_ms");
    }
  }
}

TEST_F(HostProtocolTest, ARestartSurvivesTheRoundTripAndBadOnesNameTheField) {
  Restart r;
  r.count = 3;
  r.exit = "signal 6 (SIGABRT)";
  r.department = "police";
  r.phase = "handling";
  r.seq = 11;
  r.replaces_session = "abc123";
  r.start_delay_ms = 2000;
  const Restart back = decode_restart(json::parse(encode_restart(r).dump()));
  EXPECT_EQ(back.count, 3);
  EXPECT_EQ(back.exit, r.exit);
  EXPECT_EQ(back.department, "police");
  EXPECT_EQ(back.phase, "handling");
  EXPECT_EQ(back.seq, 11u);
  EXPECT_EQ(back.replaces_session, "abc123");
  EXPECT_EQ(back.start_delay_ms, 2000);
  EXPECT_EQ(back.describe("srv-1"),
            "plugin host 'srv-1' died (signal 6 (SIGABRT)) while plugin police was handling seq 11; restarted by its "
            "supervisor (crash 3 in a row, plugins start in 2.0 s)");
  const std::vector<std::pair<std::string, json>> bad = {
      {"restart.count", 0}, {"restart.phase", "dancing"}, {"restart.seq", -1},
      {"restart.exit", std::string(300, 'x')}, {"restart.start_delay_ms", 3'600'001}};
  for (const auto& [field, value] : bad) {
    json j = encode_restart(r);
    j[field.substr(8)] = value;
    try {
      decode_restart(j);
      FAIL() << "accepted " << field << " = " << value.dump();
    } catch (const ProtocolError& e) {
      EXPECT_EQ(e.field, field);
    }
  }
  EXPECT_THROW(decode_restart(json::array()), ProtocolError);
}

TEST(Supervisor, RestartBackoffDoublesFromHalfASecondUpToThirtySeconds) {
  EXPECT_EQ(restart_delay_ms(1), 500);
  EXPECT_EQ(restart_delay_ms(2), 1000);
  EXPECT_EQ(restart_delay_ms(3), 2000);
  EXPECT_EQ(restart_delay_ms(7), 30'000);
  EXPECT_EQ(restart_delay_ms(1000), 30'000);
}

TEST_F(HostProtocolTest, AGoodReportBecomesTheSameReport) {
  runtime::Report report;
  report.generation = 7;
  report.done_upto = 12;
  for (std::uint64_t seq : {11u, 12u}) {
    const std::string household = request_.chunk->events[seq - 10].household_id;
    runtime::DeliveredEvent delivered;
    delivered.seq = seq;
    delivered.household_id = household;
    delivered.actions = {{"police.hukou_priority", household, ActionKind::kDefer, {}, "x"}};
    report.delivered.push_back(std::move(delivered));
  }
  const auto r = decode(json::parse(encode_report(report).dump()));
  EXPECT_FALSE(r.failed) << r.failure;
  EXPECT_EQ(r.generation, 7u);
  EXPECT_EQ(r.done_upto, 12u);
  ASSERT_EQ(r.delivered.size(), 2u);
  EXPECT_EQ(r.delivered[1].seq, 12u);
  EXPECT_EQ(r.delivered[1].household_id, "V01-00003");  // from the hub's own event, not the host
  EXPECT_EQ(r.delivered[1].event_id, "ev-12");
  EXPECT_EQ(r.delivered[1].actions[0].action, ActionKind::kDefer);
}

TEST_F(HostProtocolTest, FailuresAndSkipsPassThrough) {
  const auto failed = decode({{"done_upto", 10}, {"delivered", json::array()}, {"failed", {{"seq", 11}, {"reason", "boom"}}}});
  EXPECT_TRUE(failed.failed);
  EXPECT_EQ(failed.failed_seq, 11u);
  EXPECT_EQ(failed.culprit_seq, 11u);
  EXPECT_EQ(failed.failure, "boom");
  // A timed-out call blames the event it hung on, which may come after the first uncommitted one.
  runtime::Report timed_out;
  timed_out.generation = 7;
  timed_out.done_upto = 10;
  timed_out.failed = true;
  timed_out.failed_seq = 11;
  timed_out.culprit_seq = 12;
  timed_out.failure = "timeout";
  EXPECT_EQ(decode(json::parse(encode_report(timed_out).dump())).culprit_seq, 12u);
  const auto skipped = decode({{"skipped", true}});
  EXPECT_TRUE(skipped.skipped);
  EXPECT_FALSE(skipped.failed);
}

TEST_F(HostProtocolTest, InvalidReportsBecomeFailures) {
  expect_rejected({{"done_upto", 13}, {"delivered", json::array()}}, "outside");
  expect_rejected({{"done_upto", 12}}, "delivered");
  expect_rejected({{"done_upto", 12}, {"delivered", {{{"seq", 12}, {"actions", actions_for("V01-00003")}},
                                                     {{"seq", 11}, {"actions", actions_for("V01-00002")}}}}},
                  "out of order");
  expect_rejected({{"done_upto", 12}, {"delivered", {{{"seq", 10}, {"actions", actions_for("V01-00001")}}}}},
                  "not a status change");
  expect_rejected({{"done_upto", 12}, {"delivered", {{{"seq", 11}, {"actions", actions_for("V09-99999")}}}}},
                  "household");
  json unknown_policy = actions_for("V01-00002");
  unknown_policy[0]["policy_id"] = "police.free_money";
  expect_rejected({{"done_upto", 12}, {"delivered", {{{"seq", 11}, {"actions", unknown_policy}}}}}, "free_money");
  json bad_kind = actions_for("V01-00002");
  bad_kind[0]["action"] = "confiscate";
  expect_rejected({{"done_upto", 12}, {"delivered", {{{"seq", 11}, {"actions", bad_kind}}}}}, "unknown action");
  expect_rejected({{"done_upto", 10}, {"delivered", json::array()}, {"failed", {{"seq", 12}, {"reason", "x"}}}},
                  "failed.seq");
  expect_rejected({{"done_upto", 10}, {"delivered", json::array()}, {"failed", {{"seq", 11}, {"reason", "x"}, {"culprit_seq", 13}}}},
                  "failed.culprit_seq");
}

// Found while writing fuzz_host_protocol: hubd read "started" with nlohmann's value(), which
// throws type_error (not ProtocolError) on {"ok": "yes"} or a numeric error code, and nothing
// caught it on the plugin-host thread: one malformed message from a host ended hubd.
TEST(HostProtocolStarted, ValuesSurviveTheRoundTripAndBadTypesAreProtocolErrors) {
  runtime::Started ok;
  ok.ok = true;
  ok.reload = true;
  ok.library = "/opt/p.so";
  ok.info.version = "1.2.0";
  ok.info.abi_version = 3;
  const runtime::Started back = decode_started(json::parse(encode_started(ok).dump()));
  EXPECT_TRUE(back.ok && back.reload && !back.keeps_running);
  EXPECT_EQ(back.library, "/opt/p.so");
  EXPECT_EQ(back.info.version, "1.2.0");
  EXPECT_EQ(back.info.abi_version, 3u);

  const runtime::Started failed = decode_started({{"ok", false}, {"error", {{"code", 7}, {"message", "boom"}}}});
  EXPECT_EQ(failed.error_code, "start_failed");
  EXPECT_EQ(failed.error, "boom");
  EXPECT_EQ(decode_started({{"ok", false}, {"error", "no"}}).error_code, "start_failed");

  auto field_of = [](const json& message) {
    try {
      (void)decode_started(message);
    } catch (const ProtocolError& e) {
      return e.field;
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(field_of({{"ok", "yes"}}), "ok");
  EXPECT_EQ(field_of({{"ok", false}, {"reload", 1}}), "reload");
  EXPECT_EQ(field_of({{"ok", true}, {"plugin_version", "1"}, {"abi_version", 4294967299ull}}), "abi_version");
}

TEST(HostProtocolError, AnyErrorObjectIsReadWithoutThrowing) {
  EXPECT_EQ(decode_error(json::object(), "unspecified").code, "unspecified");
  EXPECT_EQ(decode_error({{"error", 5}}, "unspecified").code, "unspecified");
  const WireError e = decode_error({{"error", {{"code", "department_taken"}, {"message", std::string(5000, 'x')}}}}, "x");
  EXPECT_EQ(e.code, "department_taken");
  EXPECT_EQ(e.message.size(), 2000u);
}

}  // namespace
}  // namespace hub::pluginhost
