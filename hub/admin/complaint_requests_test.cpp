// The admin endpoint's complaints requests (admin/complaint_requests.h) on a real register over
// SQLite: every field of every action refused with its code and field when it is wrong, and
// nothing stored; the replies' shape; paging and filters as the wire gives them.
#include "admin/complaint_requests.h"

#include <gtest/gtest.h>

#include <string>

#include "store/sqlite/sqlite_complaint_store.h"
#include "testing/temp_dir.h"

namespace hub::admin {
namespace {

using nlohmann::json;

constexpr const char* kToday = "2026-03-20";

class ComplaintRequests : public ::testing::Test {
 protected:
  ComplaintRequests() : reg_(store::sqlite_complaint_store_opener(dir_.file("complaints.db")), 15) {}

  // What an upheld ruling publishes goes to ingest in hubd; here it is kept, and answered with
  // `ingest_reply_` (the real path, through ingest, is tests/integration/complaints_test.cpp).
  json ask(const json& request) {
    const PublishCorrection publish = [this](const json& event, const std::string& publisher) {
      published_.push_back({event, publisher});
      return ingest_reply_;
    };
    return answer_complaint_request(reg_, request, village_of_, kToday, 1'700'000'000'000, publish);
  }
  std::vector<std::pair<json, std::string>> published_;
  json ingest_reply_{{"ok", true}, {"seq", 42}, {"duplicate", false}};
  static json lodge_request() {
    return json{{"cmd", "complaints"}, {"action", "lodge"}, {"household_id", "V03-00417"}, {"quarter", "2026Q1"},
                {"channel", "village_box"}, {"received_on", "2026-03-02"}, {"summary", "评议结果与事实不符"},
                {"by", "clerk"}};
  }
  // A refused request: its code and field, and the register still empty.
  void expect_refused(const json& request, const std::string& code, const std::string& field) {
    const json reply = ask(request);
    SCOPED_TRACE(request.dump());
    ASSERT_FALSE(reply.value("ok", true)) << reply.dump();
    EXPECT_EQ(reply["error"]["code"], code) << reply.dump();
    EXPECT_EQ(reply["error"].value("field", ""), field) << reply.dump();
    EXPECT_EQ(reg_.counts(kToday).received + reg_.counts(kToday).investigating + reg_.counts(kToday).upheld +
                  reg_.counts(kToday).dismissed,
              stored_) << "something was stored";
  }

  hub::testing::TempDir dir_;
  complaints::ComplaintRegister reg_;
  // V03's households, evaluated for 2026Q1.
  HouseholdLookup village_of_ = [](const std::string& id) -> std::optional<KnownHousehold> {
    if (id.rfind("V03-", 0) == 0) return KnownHousehold{"V03", {"2026Q1"}};
    return std::nullopt;
  };
  std::int64_t stored_ = 0;
};

TEST_F(ComplaintRequests, LodgeShowInvestigateRuleList) {
  json lodged = ask(lodge_request());
  ASSERT_TRUE(lodged["ok"]) << lodged.dump();
  const json& c = lodged["complaint"];
  EXPECT_EQ(c["id"], "TS-2026-000001");
  EXPECT_EQ(c["village"], "V03");
  EXPECT_EQ(c["channel_zh"], "村投诉箱");
  EXPECT_EQ(c["deadline"], "2026-03-17");
  EXPECT_EQ(c["state"], "received");
  EXPECT_TRUE(c["lodged_by"].is_null());  // anonymous
  EXPECT_TRUE(c["overdue"]);              // 2026-03-17 < today

  json shown = ask({{"cmd", "complaints"}, {"action", "show"}, {"id", "TS-2026-000001"}});
  EXPECT_EQ(shown["complaint"], c);
  EXPECT_EQ(ask({{"cmd", "complaints"}, {"action", "show"}, {"id", 1}})["complaint"], c);

  json investigating = ask({{"cmd", "complaints"}, {"action", "investigate"}, {"id", "1"}, {"handler", "李四"}});
  ASSERT_TRUE(investigating["ok"]) << investigating.dump();
  EXPECT_EQ(investigating["complaint"]["state"], "investigating");
  EXPECT_EQ(investigating["complaint"]["handler"], "李四");

  json overdue = ask({{"cmd", "complaints"}, {"action", "list"}, {"overdue", true}});
  ASSERT_EQ(overdue["complaints"].size(), 1u);

  json ruled = ask({{"cmd", "complaints"}, {"action", "rule"}, {"id", "TS-2026-000001"}, {"outcome", "upheld"},
                    {"ruling", "经核查属实"}, {"ruled_on", "2026-03-19"},
                    {"correction", {{"status", "credit"}, {"designations", {"assistance"}}}}});
  ASSERT_TRUE(ruled["ok"]) << ruled.dump();
  // The correction went out first, as the ruling's own publisher, naming the complaint.
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(published_[0].second, "complaint:TS-2026-000001");
  EXPECT_EQ(published_[0].first,
            (json{{"type", "status_change"}, {"event_id", "ruling-TS-2026-000001"}, {"household_id", "V03-00417"},
                  {"quarter", "2026Q1"}, {"status", "credit"}, {"designations", {"assistance"}},
                  {"complaint_id", "TS-2026-000001"},
                  {"basis", "投诉 TS-2026-000001 裁定属实 / complaint TS-2026-000001 upheld"}}));
  EXPECT_EQ(ruled["correction"],
            (json{{"event_id", "ruling-TS-2026-000001"}, {"seq", 42}, {"duplicate", false},
                  {"household_id", "V03-00417"}, {"quarter", "2026Q1"}, {"status", "credit"}}));
  EXPECT_EQ(ruled["complaint"]["state_zh"], "属实");
  EXPECT_FALSE(ruled["complaint"]["overdue"]);
  EXPECT_TRUE(ask({{"cmd", "complaints"}, {"action", "list"}, {"overdue", true}})["complaints"].empty());

  json summary = ask({{"cmd", "complaints"}, {"action", "summary"}});
  EXPECT_EQ(summary["upheld"], 1);
  EXPECT_EQ(summary["open"], 0);
  EXPECT_EQ(summary["deadline_days"], 15);

  // Final: a second ruling is refused.
  json again = ask({{"cmd", "complaints"}, {"action", "rule"}, {"id", 1}, {"outcome", "dismissed"},
                    {"ruling", "改判"}, {"ruled_on", "2026-03-19"}});
  EXPECT_EQ(again["error"]["code"], "complaint_final");
}

TEST_F(ComplaintRequests, BadLodgeFieldsAreRefusedAndNothingIsStored) {
  const auto with = [](const char* key, const json& value) {
    json r = lodge_request();
    r[key] = value;
    return r;
  };
  const auto without = [](const char* key) {
    json r = lodge_request();
    r.erase(key);
    return r;
  };
  expect_refused(without("household_id"), "missing_field", "household_id");
  expect_refused(with("household_id", 417), "invalid_field", "household_id");
  expect_refused(with("household_id", "V03 00417"), "invalid_field", "household_id");
  expect_refused(with("household_id", "V09-00001"), "unknown_household", "household_id");
  expect_refused(without("quarter"), "missing_field", "quarter");
  expect_refused(with("quarter", "2026-1"), "invalid_field", "quarter");
  expect_refused(with("quarter", "2026Q2"), "invalid_field", "quarter");  // after the quarter received
  expect_refused(with("quarter", "2025Q4"), "not_evaluated", "quarter");  // no evaluation of it, nor a proposal
  expect_refused(without("channel"), "missing_field", "channel");
  expect_refused(with("channel", "email"), "invalid_field", "channel");
  expect_refused(with("channel", json::array()), "invalid_field", "channel");
  expect_refused(with("received_on", "2026-13-01"), "invalid_field", "received_on");
  expect_refused(with("received_on", "2026-03-21"), "invalid_field", "received_on");
  expect_refused(with("received_on", 20260302), "invalid_field", "received_on");
  expect_refused(without("summary"), "missing_field", "summary");
  expect_refused(with("summary", ""), "invalid_field", "summary");
  expect_refused(with("summary", std::string(1001, 'x')), "invalid_field", "summary");
  expect_refused(with("summary", std::string("bad \x01 control")), "invalid_field", "summary");
  expect_refused(with("lodged_by", ""), "invalid_field", "lodged_by");
  expect_refused(with("lodged_by", std::string(65, 'x')), "invalid_field", "lodged_by");
  expect_refused(with("lodged_by", true), "invalid_field", "lodged_by");
  expect_refused(with("handler", "  "), "invalid_field", "handler");
  expect_refused(with("color", "red"), "unknown_field", "color");
  expect_refused(with("action", "close"), "invalid_field", "action");
  // Received today by default.
  json today = ask(without("received_on"));
  ASSERT_TRUE(today["ok"]) << today.dump();
  EXPECT_EQ(today["complaint"]["received_on"], kToday);
}

TEST_F(ComplaintRequests, BadChangesAreRefusedAndChangeNothing) {
  ASSERT_TRUE(ask(lodge_request())["ok"]);
  stored_ = 1;
  const json investigate{{"cmd", "complaints"}, {"action", "investigate"}, {"id", 1}, {"handler", "李四"}};
  const json rule{{"cmd", "complaints"},  {"action", "rule"},        {"id", 1},
                  {"outcome", "upheld"},  {"ruling", "经核查属实"}, {"ruled_on", "2026-03-10"},
                  {"correction", {{"status", "credit"}}}};
  const auto change = [](json r, const char* key, const json& value) {
    if (value.is_null()) r.erase(key);
    else r[key] = value;
    return r;
  };
  expect_refused(change(investigate, "id", nullptr), "missing_field", "id");
  expect_refused(change(investigate, "id", "TS-2026-abc"), "invalid_field", "id");
  expect_refused(change(investigate, "id", -3), "invalid_field", "id");
  expect_refused(change(investigate, "id", 7), "unknown_complaint", "id");
  expect_refused(change(investigate, "handler", nullptr), "missing_field", "handler");
  expect_refused(change(investigate, "handler", std::string(65, 'h')), "invalid_field", "handler");
  expect_refused(change(rule, "outcome", nullptr), "missing_field", "outcome");
  expect_refused(change(rule, "outcome", "investigating"), "invalid_field", "outcome");
  expect_refused(change(rule, "ruling", nullptr), "missing_field", "ruling");
  expect_refused(change(rule, "ruling", ""), "invalid_field", "ruling");
  expect_refused(change(rule, "ruling", std::string(2001, 'r')), "invalid_field", "ruling");
  expect_refused(change(rule, "ruled_on", nullptr), "missing_field", "ruled_on");
  expect_refused(change(rule, "ruled_on", "2026-03-01"), "invalid_field", "ruled_on");  // before received
  expect_refused(change(rule, "ruled_on", "2026-03-21"), "invalid_field", "ruled_on");  // after today
  expect_refused(change(rule, "handler", "x"), "unknown_field", "handler");
  // An upheld ruling needs its correction, checked as the wire checks a status change.
  expect_refused(change(rule, "correction", nullptr), "missing_field", "correction");
  expect_refused(change(rule, "correction", "credit"), "invalid_field", "correction");
  expect_refused(change(rule, "correction", json::object()), "missing_field", "correction.status");
  expect_refused(change(rule, "correction", {{"status", "good"}}), "invalid_status", "correction.status");
  expect_refused(change(rule, "correction", {{"status", "credit"}, {"quarter", "2020Q1"}}), "unknown_field",
                 "correction.quarter");
  expect_refused(change(rule, "correction", {{"status", "credit"}, {"designations", {"vip"}}}),
                 "invalid_designation", "correction.designations");
  expect_refused(change(rule, "correction", {{"status", "credit"}, {"effective_date", "2026-02-30"}}),
                 "invalid_date", "correction.effective_date");
  expect_refused(change(change(rule, "outcome", "dismissed"), "correction", {{"status", "credit"}}), "invalid_field",
                 "correction");
  EXPECT_TRUE(published_.empty()) << "nothing refused reached ingest";
  // Ingest refuses the correction (its disk is full): nothing is ruled, and the error says so.
  ingest_reply_ = {{"ok", false}, {"error", {{"code", "storage_unavailable"}, {"message", "disk full"}}}};
  const json not_stored = ask(rule);
  EXPECT_EQ(not_stored["error"]["code"], "storage_unavailable") << not_stored.dump();
  EXPECT_NE(not_stored["error"]["message"].get<std::string>().find("not ruled"), std::string::npos);
  EXPECT_EQ(published_.size(), 1u);
  // Still as lodged.
  const json shown = ask({{"cmd", "complaints"}, {"action", "show"}, {"id", 1}});
  EXPECT_EQ(shown["complaint"]["state"], "received");
  EXPECT_TRUE(shown["complaint"]["handler"].is_null());
  EXPECT_EQ(shown["complaint"]["updated_at_ms"], shown["complaint"]["lodged_at_ms"]);
}

TEST_F(ComplaintRequests, ListFiltersAreChecked) {
  const json list{{"cmd", "complaints"}, {"action", "list"}};
  const auto with = [&list](const char* key, const json& value) {
    json r = list;
    r[key] = value;
    return r;
  };
  expect_refused(with("state", "closed"), "invalid_field", "state");
  expect_refused(with("household_id", "a b"), "invalid_field", "household_id");
  expect_refused(with("village", 3), "invalid_field", "village");
  expect_refused(with("overdue", "yes"), "invalid_field", "overdue");
  expect_refused(with("after", -1), "invalid_field", "after");
  expect_refused(with("limit", 0), "invalid_field", "limit");
  expect_refused(with("limit", 1001), "invalid_field", "limit");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ask(lodge_request())["ok"]);
  json page = ask(with("limit", 2));
  EXPECT_EQ(page["complaints"].size(), 2u);
  EXPECT_TRUE(page["more"]);
  EXPECT_EQ(page["next_after"], 2);
  json rest = ask({{"cmd", "complaints"}, {"action", "list"}, {"after", 2}, {"limit", 2}});
  EXPECT_EQ(rest["complaints"].size(), 1u);
  EXPECT_FALSE(rest["more"]);
  EXPECT_TRUE(rest["next_after"].is_null());
}

}  // namespace
}  // namespace hub::admin
