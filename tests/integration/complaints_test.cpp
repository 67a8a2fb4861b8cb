// The complaints register (投诉举报) end to end: a real hubd with CURVE on, driven by
// `hubctl complaints …` as a clerk would: lodge, investigate, rule; bad input refused with the
// field named and nothing stored; list --overdue (a complaint received long enough ago to be
// past its deadline); the report, /metrics and GET /api/complaints showing the overdue ones; and
// audit.db holding every change with the operator's key name and --by. Then a ruling upheld on a past
// quarter: its correction published and delivered, finance's exact remedy, what hubctl shows.
#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "integration/hub_process.h"
#include "integration/ruling_scenario.h"

namespace hub::test {
namespace {

using nlohmann::json;

std::string quarter_of(const std::string& date) {
  return date.substr(0, 4) + "Q" + std::to_string((std::stoi(date.substr(5, 2)) - 1) / 3 + 1);
}

std::string http_get(HubProcess& hub, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", hub.http_port());
  auto result = client.Get(path.c_str());
  if (!result) throw std::runtime_error("GET " + path + ": " + httplib::to_string(result.error()));
  if (status != nullptr) *status = result->status;
  return result->body;
}

class ComplaintsTest : public ::testing::Test {
 protected:
  static HubOptions options() {
    HubOptions o;
    o.curve = true;  // so that the audit names the operator's key
    o.departments = {"police"};
    return o;
  }
  ComplaintsTest() : hub(options()) {}
  void SetUp() override {
    hub.start();
    ASSERT_EQ(hub.ingest({{"type", "batch"}, {"events", household_registry(3)}})["ok"], true);
    // The evaluations the complaints challenge (a complaint is about one).
    ASSERT_EQ(hub.ingest(status_event("V02-00001", "credit", quarter_of(local_date(40))))["ok"], true);
    ASSERT_EQ(hub.ingest(status_event("V03-00002", "credit", quarter_of(local_date(0))))["ok"], true);
  }
  CommandResult hubctl(const std::string& args) {
    return run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " " + args);
  }
  json hubctl_json(const std::string& args, int expected_exit = 0) {
    const CommandResult r = hubctl(args + " --json");
    EXPECT_EQ(r.exit_code, expected_exit) << args << "\n" << r.output;
    const auto line_end = r.output.find('\n');
    return json::parse(r.output.substr(0, line_end), nullptr, false);
  }
  // A refused command: exit 1, the code and the field in its output, nothing more stored.
  void expect_refused(const std::string& args, const std::string& code, const std::string& field) {
    const CommandResult r = hubctl(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(code + ":"), std::string::npos) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("[field " + field + "]"), std::string::npos) << args << "\n" << r.output;
  }

  HubProcess hub;
};

TEST_F(ComplaintsTest, LodgeInvestigateRuleAndOverdueWithHubctl) {
  // V02-00001 … V04-00003: household_registry(3).
  const std::string long_ago = local_date(40), today = local_date(0);
  const std::string add = "complaints add --by clerk-wang --channel village_box --household V02-00001 --quarter " +
                          quarter_of(long_ago) + " ";

  // 1. Lodged 40 days ago: past its 15-day deadline.
  json first = hubctl_json(add + "--received " + long_ago + " --summary '评议结果与事实不符' --lodged-by 张三");
  ASSERT_TRUE(first.value("ok", false)) << first.dump();
  const std::string id = first["complaint"]["id"];
  EXPECT_EQ(id, "TS-" + long_ago.substr(0, 4) + "-000001");
  EXPECT_EQ(first["complaint"]["village"], "V02");
  EXPECT_EQ(first["complaint"]["lodged_by"], "张三");
  EXPECT_TRUE(first["complaint"]["overdue"]);
  // 2. Received today, anonymous: in time.
  json second = hubctl_json("complaints add --channel phone --household V03-00002 --quarter " + quarter_of(today) +
                            " --summary '匿名电话举报'");
  ASSERT_TRUE(second.value("ok", false)) << second.dump();
  EXPECT_TRUE(second["complaint"]["lodged_by"].is_null());
  EXPECT_FALSE(second["complaint"]["overdue"]);

  // 3. Bad input: refused by field, nothing stored.
  const std::string ok_rest = " --quarter " + quarter_of(today) + " --summary x";
  expect_refused("complaints add --channel email --household V02-00001" + ok_rest, "invalid_field", "channel");
  expect_refused("complaints add --channel phone --household V09-09999" + ok_rest, "unknown_household", "household_id");
  expect_refused("complaints add --channel phone --household V04-00003" + ok_rest, "not_evaluated", "quarter");
  expect_refused("complaints add --channel phone --household 'V02 1'" + ok_rest, "invalid_field", "household_id");
  expect_refused("complaints add --channel phone --household V02-00001 --quarter 2026Q9 --summary x", "invalid_field",
                 "quarter");
  expect_refused("complaints add --channel phone --household V02-00001 --received " + local_date(-2) + ok_rest,
                 "invalid_field", "received_on");
  expect_refused("complaints add --channel phone --household V02-00001 --quarter " + quarter_of(today) +
                     " --summary '   '",
                 "invalid_field", "summary");
  expect_refused("complaints add --channel phone --household V02-00001 --summary x", "missing_field", "quarter");
  expect_refused("complaints add --channel phone --household V02-00001" + ok_rest + " --lodged-by " +
                     std::string(65, 'n'),
                 "invalid_field", "lodged_by");
  EXPECT_EQ(hubctl_json("complaints list")["complaints"].size(), 2u);

  // 4. Investigate: a handler is needed.
  expect_refused("complaints investigate " + id, "missing_field", "handler");
  json investigating = hubctl_json("complaints investigate " + id + " --handler 李四 --by clerk-wang");
  EXPECT_EQ(investigating["complaint"]["state"], "investigating");

  // 5. Overdue: only the first, in JSON and in the table.
  json overdue = hubctl_json("complaints list --overdue");
  ASSERT_EQ(overdue["complaints"].size(), 1u);
  EXPECT_EQ(overdue["complaints"][0]["id"], id);
  const CommandResult table = hubctl("complaints list --overdue");
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find(id), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("逾期"), std::string::npos) << table.output;

  // 6. The report, /metrics and the API show it.
  json report = hubctl_json("report --quarter " + quarter_of(today));
  EXPECT_EQ(report["complaints"]["overdue"], 1) << report.dump();
  EXPECT_EQ(report["complaints"]["open"], 2);
  EXPECT_EQ(report["complaints"]["overdue_ids"], json::array({id}));
  const CommandResult report_text = hubctl("report --quarter " + quarter_of(today));
  EXPECT_NE(report_text.output.find("投诉举报 / complaints"), std::string::npos) << report_text.output;
  const std::string metrics = http_get(hub, "/metrics");
  EXPECT_NE(metrics.find("\nhub_complaints_open 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nhub_complaints_overdue 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("hub_complaints{state=\"investigating\"} 1\n"), std::string::npos) << metrics;
  int status = 0;
  const json api_report = json::parse(http_get(hub, "/api/report?quarter=" + quarter_of(today), &status));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(api_report["complaints"]["overdue"], 1) << api_report.dump();
  json api = json::parse(http_get(hub, "/api/complaints?overdue=1", &status));
  EXPECT_EQ(status, 200);
  ASSERT_EQ(api["complaints"].size(), 1u) << api.dump();
  EXPECT_EQ(api["complaints"][0]["id"], id);
  http_get(hub, "/api/complaints/TS-2026-000099", &status);
  EXPECT_EQ(status, 404);
  http_get(hub, "/api/complaints?state=closed", &status);
  EXPECT_EQ(status, 400);

  // 7. Ruled: no longer overdue, and final.
  expect_refused("complaints rule " + id + " --outcome upheld --ruling 属实 --ruled-on " + local_date(41),
                 "invalid_field", "ruled_on");  // before it was received
  expect_refused("complaints rule " + id + " --outcome maybe --ruling 属实 --ruled-on " + today, "invalid_field",
                 "outcome");
  json ruled = hubctl_json("complaints rule " + id + " --outcome upheld --ruling '经核查属实，更正评议' --ruled-on " +
                           today + " --by clerk-wang --status credit");
  EXPECT_EQ(ruled["complaint"]["state"], "upheld");
  EXPECT_EQ(ruled["correction"]["event_id"], "ruling-" + id) << ruled.dump();
  EXPECT_EQ(ruled["complaint"]["ruling"], "经核查属实，更正评议");
  expect_refused("complaints rule " + id + " --outcome dismissed --ruling 改判 --ruled-on " + today, "complaint_final",
                 "state");
  EXPECT_TRUE(hubctl_json("complaints list --overdue")["complaints"].empty());
  const CommandResult shown = hubctl("complaints show " + id);
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("属实 upheld"), std::string::npos) << shown.output;
  const std::string after = http_get(hub, "/metrics");
  EXPECT_NE(after.find("\nhub_complaints_overdue 0\n"), std::string::npos) << after;
  EXPECT_NE(after.find("\nhub_complaints_open 1\n"), std::string::npos) << after;

  // 8. Usage errors stay in hubctl.
  EXPECT_EQ(hubctl("complaints show").exit_code, 2);
  EXPECT_EQ(hubctl("complaints list --limit x").exit_code, 2);
  EXPECT_EQ(hubctl("complaints").exit_code, 2);

  hub.stop();
  // Stored: the two complaints, the first as ruled.
  EXPECT_EQ(hub.query_int("complaints.db", "SELECT COUNT(*) FROM complaint"), 2);
  EXPECT_EQ(hub.query_rows("complaints.db", "SELECT id, state, handler, ruled_on FROM complaint WHERE number = 1"),
            (std::vector<std::vector<std::string>>{{id, "upheld", "李四", today}}));
  // Audited: each change, by the key's name and the operator's --by (else $USER), with its outcome.
  EXPECT_EQ(hub.query_rows("audit.db",
                           "SELECT kind, actor, subject FROM audit WHERE kind LIKE 'admin_complaints_%' AND "
                           "kind NOT LIKE '%_result' AND actor LIKE '%clerk-wang%' ORDER BY seq"),
            (std::vector<std::vector<std::string>>{{"admin_complaints_lodge", "admin (by clerk-wang)", "V02-00001"},
                                                   {"admin_complaints_investigate", "admin (by clerk-wang)", id},
                                                   {"admin_complaints_rule", "admin (by clerk-wang)", id}}));
  EXPECT_EQ(hub.query_int("audit.db", "SELECT COUNT(*) FROM audit WHERE kind = 'admin_complaints_rule_result' AND "
                                      "detail LIKE '%\"state\":\"upheld\"%' AND detail LIKE '%" + id + "%'"),
            1);
  // The refused attempts are audited as refused, and none of them as stored.
  EXPECT_EQ(hub.query_int("audit.db", "SELECT COUNT(*) FROM audit WHERE kind = 'admin_complaints_lodge_result' AND "
                                      "detail LIKE '%\"ok\":true%'"),
            2);
  EXPECT_GE(hub.query_int("audit.db", "SELECT COUNT(*) FROM audit WHERE kind = 'admin_complaints_lodge_result' AND "
                                      "detail LIKE '%invalid_field%'"),
            5);
}

// An upheld complaint about a past quarter (issue 17): the ruling publishes the correction of
// that quarter, the departments decide their remedy — finance pays exactly what the wrong
// breach withheld, the police restore the quarter — each reason naming the complaint; the
// household's evaluation now, reconcile and the chains are as they were; bad rulings store
// nothing; and no publisher can name a complaint itself.
TEST(ComplaintRuling, AnUpheldComplaintPutsAPastQuarterRightAndFinancePaysExactlyTheRemedy) {
  HubOptions o;
  o.curve = true;  // so that the audit names the operator's key
  o.departments = {"finance", "police"};
  HubProcess hub(o);
  hub.start();
  const auto hubctl = [&](const std::string& args) {
    return run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub.data_dir() + " " + args);
  };
  const std::string h = kRuledHousehold;
  publish_the_ruled_households_quarters(hub);
  const std::string paid_sql =
      "SELECT COALESCE(SUM(amount_fen), 0) FROM action WHERE department = 'finance' AND household_id = '" + h +
      "' AND action IN ('apply', 'restore', 'release')";
  // 2020Q1, Q3 released at Q4, Q4 and 2021Q1: 4 × 60 yuan; 2020Q2's breach withheld its 60.
  ASSERT_EQ(hub.query_int("ledger.db", paid_sql), 24000);

  const std::string id = lodge_the_complaint(hub);
  const std::string rule = "complaints rule " + id + " --ruling '经核查属实，2020Q2 应为诚信户' --ruled-on " + local_date(0);

  // Refused rulings store nothing: no correction, the complaint still open.
  const auto refused = [&](const std::string& args, const std::string& code, const std::string& field) {
    const CommandResult r = hubctl(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(code + ":"), std::string::npos) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("[field " + field + "]"), std::string::npos) << args << "\n" << r.output;
  };
  refused(rule + " --outcome upheld", "missing_field", "correction");
  refused(rule + " --outcome upheld --status good", "invalid_status", "correction.status");
  refused(rule + " --outcome upheld --status credit --designation vip", "invalid_designation", "correction.designations");
  refused(rule + " --outcome upheld --status credit --effective-date 2020-13-01", "invalid_date",
          "correction.effective_date");
  refused(rule + " --outcome dismissed --status credit", "invalid_field", "correction");
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event WHERE household_id = '" + h + "'"), 6);
  EXPECT_EQ(hubctl_json_of(hub, "complaints show " + id)["complaint"]["state"], "received");

  // A publisher cannot name a complaint: only the ruling does.
  json forged = status_event(h, "credit", "2020Q2", "forged");
  forged["complaint_id"] = id;
  const json forged_reply = hub.ingest(forged);
  EXPECT_EQ(forged_reply["error"]["code"], "complaint_correction_reserved") << forged_reply.dump();
  EXPECT_EQ(forged_reply["error"]["field"], "complaint_id");

  // Upheld: the correction of 2020Q2 is stored and delivered.
  json ruled = hubctl_json_of(hub, rule + " --outcome upheld --status credit --by clerk-wang");
  ASSERT_TRUE(ruled.value("ok", false)) << ruled.dump();
  EXPECT_EQ(ruled["complaint"]["state"], "upheld");
  EXPECT_EQ(ruled["correction"]["event_id"], "ruling-" + id);
  EXPECT_EQ(ruled["correction"]["quarter"], "2020Q2");
  EXPECT_EQ(ruled["correction"]["duplicate"], false);
  const std::int64_t seq = ruled["correction"]["seq"];
  EXPECT_EQ(seq, 7);
  hub.wait_for_delivery();

  // Finance pays what the wrong breach withheld: 2020Q2's 60 yuan, once, naming the complaint.
  EXPECT_EQ(hub.query_int("ledger.db", paid_sql), 30000);
  expect_the_ruling_seen(hub, id, seq);
  const CommandResult shown = hubctl("household " + h);
  EXPECT_NE(shown.output.find("往季更正 past quarter, 投诉 complaint " + id), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("remedies for past quarters"), std::string::npos) << shown.output;
  const CommandResult verified = hubctl("audit verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  // Ruled is final; the same ruling again is refused and stores nothing more.
  refused(rule + " --outcome upheld --status credit", "complaint_final", "state");
  hub.stop();
  EXPECT_EQ(hub.query_rows("events.db", "SELECT publisher, correction, previous_status FROM event WHERE seq = " +
                                            std::to_string(seq)),
            (std::vector<std::vector<std::string>>{{"complaint:" + id, "2", "breach"}}));
  EXPECT_EQ(hub.query_int("events.db", "SELECT COUNT(*) FROM event"), 7);
  EXPECT_EQ(hub.query_int("audit.db", "SELECT COUNT(*) FROM audit WHERE kind = 'admin_complaints_rule_result' AND "
                                      "detail LIKE '%\"correction\"%' AND detail LIKE '%ruling-" + id + "%'"),
            1);
}

}  // namespace
}  // namespace hub::test
