// The admin endpoint's notice requests (公示, admin/notice_requests.h) on a real board over
// SQLite (complaints.db, with the complaints register beside it): proposing, the notice list's
// standings, confirmation before and after the notice period, a complaint holding a proposal and
// its ruling freeing or superseding it, a publish that fails leaving the proposal proposed; and
// every bad field refused with its code and field, nothing stored. The path through a real hubd
// (ingest, delivery, audit) is tests/integration/notice_test.cpp.
#include "admin/notice_requests.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "complaints/complaint_register.h"
#include "store/sqlite/sqlite_complaint_store.h"
#include "testing/temp_dir.h"

namespace hub::admin {
namespace {

using nlohmann::json;

constexpr const char* kProposedOn = "2026-01-05";  // the notice period (7 days) ends on 2026-01-12

json evaluation(const std::string& household, const std::string& status, const std::string& quarter = "2025Q4") {
  return json{{"type", "status_change"}, {"event_id", "ev-" + quarter + "-" + household + "-" + status},
              {"household_id", household}, {"status", status}, {"quarter", quarter}};
}

class NoticeRequests : public ::testing::Test {
 protected:
  NoticeRequests()
      : board_(store::sqlite_complaint_store_opener(dir_.file("complaints.db")), 7),
        complaints_(store::sqlite_complaint_store_opener(dir_.file("complaints.db")), 15) {}

  // What a confirmation publishes goes to ingest in hubd; here it is kept and answered with
  // `ingest_reply_` (the real path is tests/integration/notice_test.cpp).
  json ask(const json& request, const std::string& today = kProposedOn) {
    const PublishFinal publish = [this](const json& request, const std::string& publisher) {
      if (request.value("type", "") != "batch") {
        published_.push_back({request, publisher});
        return ingest_reply_;
      }
      // A batch: all stored, or (as ingest does with one bad event) none.
      if (!ingest_reply_.value("ok", false)) return json{{"ok", false}, {"error", {{"code", "invalid_batch"}}}};
      json results = json::array();
      for (const json& event : request["events"]) {
        published_.push_back({event, publisher});
        results.push_back({{"seq", ingest_reply_["seq"]}, {"duplicate", ingest_reply_["duplicate"]}});
      }
      ++batches_;
      return json{{"ok", true}, {"results", results}};
    };
    return answer_notice_request(board_, request, household_of_, today, 1'700'000'000'000, publish);
  }
  json propose(const std::vector<json>& events, const std::string& today = kProposedOn) {
    return ask({{"cmd", "notice"}, {"action", "propose"}, {"events", events}, {"by", "clerk"}}, today);
  }
  json show(const std::string& today, const std::string& village = "V03") {
    return ask({{"cmd", "notice"}, {"action", "show"}, {"village", village}, {"quarter", "2025Q4"}}, today);
  }
  json confirm(const std::string& today, const std::optional<std::string>& reason = std::nullopt) {
    json request{{"cmd", "notice"}, {"action", "confirm"}, {"village", "V03"}, {"quarter", "2025Q4"}};
    if (reason) request["reason"] = *reason;
    return ask(request, today);
  }
  // standing of each household on the list, in household order
  std::vector<std::string> standings(const std::string& today) {
    std::vector<std::string> out;
    const json reply = show(today);
    EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
    for (const json& h : reply["notice"]["households"]) out.push_back(h["standing"]);
    return out;
  }
  void expect_refused(const json& request, const std::string& code, const std::string& field) {
    SCOPED_TRACE(request.dump());
    const std::size_t before = board_.notices(std::nullopt).size();
    const json reply = ask(request);
    ASSERT_FALSE(reply.value("ok", true)) << reply.dump();
    EXPECT_EQ(reply["error"]["code"], code) << reply.dump();
    EXPECT_EQ(reply["error"].value("field", ""), field) << reply.dump();
    EXPECT_EQ(board_.notices(std::nullopt).size(), before) << "something was stored";
    EXPECT_TRUE(published_.empty());
  }

  hub::testing::TempDir dir_;
  complaints::NoticeBoard board_;
  complaints::ComplaintRegister complaints_;
  NoticeHouseholdOf household_of_ = [](const std::string& id) -> std::optional<NoticeHousehold> {
    if (id.rfind("V03-", 0) == 0) return NoticeHousehold{"V03", "户主" + id.substr(4)};
    if (id.rfind("V04-", 0) == 0) return NoticeHousehold{"V04", std::nullopt};
    return std::nullopt;
  };
  std::vector<std::pair<json, std::string>> published_;
  int batches_ = 0;
  json ingest_reply_{{"ok", true}, {"seq", 42}, {"duplicate", false}};
};

TEST_F(NoticeRequests, ProposedEvaluationsAreListedPerVillageAndNotPublished) {
  const json reply = propose({evaluation("V03-00001", "credit"), evaluation("V03-00002", "breach"),
                              evaluation("V04-00001", "non_credit")});
  ASSERT_TRUE(reply["ok"]) << reply.dump();
  EXPECT_EQ(reply["added"], 3);
  EXPECT_EQ(reply["notices"].size(), 2u);
  EXPECT_EQ(reply["notices"][0]["ends_on"], "2026-01-12");
  EXPECT_TRUE(published_.empty());

  const json n = show(kProposedOn)["notice"];
  EXPECT_EQ(n["ends_on"], "2026-01-12");
  EXPECT_EQ(n["period_over"], false);
  ASSERT_EQ(n["households"].size(), 2u);
  EXPECT_EQ(n["households"][0]["household_id"], "V03-00001");
  EXPECT_EQ(n["households"][0]["head"], "户主00001");
  EXPECT_EQ(n["households"][0]["status_zh"], "诚信户");
  EXPECT_EQ(n["households"][1]["status_zh"], "违约户");
  EXPECT_EQ(n["households"][1]["standing_zh"], "公示中");
  EXPECT_EQ(n["counts"]["proposed"], 2);

  const json all = ask({{"cmd", "notice"}, {"action", "list"}});
  ASSERT_EQ(all["notices"].size(), 2u);
  EXPECT_EQ(all["notices"][0]["village"], "V03");
  EXPECT_EQ(all["notices"][0]["proposed"], 2);
}

TEST_F(NoticeRequests, ProposingAgainReplacesAChangedProposalAndKeepsAnUnchangedOne) {
  ASSERT_TRUE(propose({evaluation("V03-00001", "credit"), evaluation("V03-00002", "breach")})["ok"]);
  const json again = propose({evaluation("V03-00001", "credit"), evaluation("V03-00002", "non_credit")}, "2026-01-08");
  ASSERT_TRUE(again["ok"]) << again.dump();
  EXPECT_EQ(again["unchanged"], 1);
  EXPECT_EQ(again["replaced"], 1);
  // The notice period runs again from the latest proposal.
  const json n = show("2026-01-08")["notice"];
  EXPECT_EQ(n["ends_on"], "2026-01-15");
  EXPECT_EQ(n["households"][1]["status"], "non_credit");
}

TEST_F(NoticeRequests, ConfirmingBeforeTheNoticePeriodIsOverNeedsAReason) {
  ASSERT_TRUE(propose({evaluation("V03-00001", "credit")})["ok"]);
  const json early = confirm("2026-01-11");
  ASSERT_FALSE(early["ok"]);
  EXPECT_EQ(early["error"]["code"], "notice_period_running");
  EXPECT_EQ(early["error"]["field"], "reason");
  EXPECT_TRUE(published_.empty());
  EXPECT_EQ(standings("2026-01-11"), std::vector<std::string>{"proposed"});

  const json with_reason = confirm("2026-01-11", "村民代表会议已无异议");
  ASSERT_TRUE(with_reason["ok"]) << with_reason.dump();
  EXPECT_EQ(with_reason["early"], true);
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(batches_, 1);
  EXPECT_EQ(published_[0].second, "notice:V03");
  EXPECT_EQ(published_[0].first, evaluation("V03-00001", "credit"));
  // Without an effective date of its own, it takes effect on the first day after its quarter.
  EXPECT_EQ(standings("2026-01-11"), std::vector<std::string>{"in_effect"});
  EXPECT_EQ(show("2026-01-11")["notice"]["households"][0]["effective_date"], "2026-01-01");
}

TEST_F(NoticeRequests, AComplaintHoldsItsProposalUntilTheRulingAndAnUpheldOneSupersedesIt) {
  json takes_effect_later = evaluation("V03-00001", "credit");
  takes_effect_later["effective_date"] = "2026-01-13";
  ASSERT_TRUE(propose({takes_effect_later, evaluation("V03-00002", "breach"), evaluation("V03-00003", "breach")})["ok"]);
  NewComplaint about_2{"V03-00002", "2025Q4", ComplaintChannel::kVillageBox, "2026-01-06", "并未违约", {}, {}};
  NewComplaint about_3 = about_2;
  about_3.household_id = "V03-00003";
  const Complaint c2 = complaints_.lodge(about_2, "V03", "2026-01-06", 1).value();
  const Complaint c3 = complaints_.lodge(about_3, "V03", "2026-01-06", 1).value();
  EXPECT_EQ(standings("2026-01-12"), (std::vector<std::string>{"proposed", "disputed", "disputed"}));
  EXPECT_EQ(show("2026-01-12")["notice"]["households"][1]["complaints"], json::array({c2.id}));

  // The period is over: the undisputed one is confirmed, the disputed two are held.
  const json first = confirm("2026-01-12");
  ASSERT_TRUE(first["ok"]) << first.dump();
  EXPECT_EQ(first["early"], false);
  ASSERT_EQ(first["confirmed"].size(), 1u);
  EXPECT_EQ(first["confirmed"][0]["household_id"], "V03-00001");
  EXPECT_EQ(first["held"].size(), 2u);
  ASSERT_EQ(published_.size(), 1u);
  // Final, and in effect from its effective date.
  EXPECT_EQ(standings("2026-01-12"), (std::vector<std::string>{"final", "disputed", "disputed"}));
  EXPECT_EQ(show("2026-01-12")["notice"]["households"][0]["confirmed_on"], "2026-01-12");

  // Dismissed: freed for the next confirmation. Upheld: the ruling's correction is the quarter's
  // evaluation, so the proposal is never published.
  ASSERT_TRUE(complaints_.rule(c2.number, ComplaintState::kDismissed, "经核查不属实", "2026-01-14", "2026-01-14", 2).ok());
  ASSERT_TRUE(complaints_.rule(c3.number, ComplaintState::kUpheld, "经核查属实", "2026-01-14", "2026-01-14", 2).ok());
  EXPECT_EQ(standings("2026-01-14"), (std::vector<std::string>{"in_effect", "proposed", "superseded"}));
  EXPECT_EQ(show("2026-01-14")["notice"]["households"][2]["superseded_by"], c3.id);
  const json second = confirm("2026-01-14");
  ASSERT_TRUE(second["ok"]) << second.dump();
  ASSERT_EQ(second["confirmed"].size(), 1u);
  EXPECT_EQ(second["confirmed"][0]["household_id"], "V03-00002");
  EXPECT_EQ(second["already_final"], 2);
  ASSERT_EQ(published_.size(), 2u);
  EXPECT_EQ(published_[1].first["household_id"], "V03-00002");

  const json third = confirm("2026-01-15");
  EXPECT_EQ(third["error"]["code"], "nothing_to_confirm") << third.dump();
  // A confirmed household's quarter is changed only by a complaint's ruling now.
  const json changed = propose({evaluation("V03-00001", "non_credit")}, "2026-01-15");
  EXPECT_EQ(changed["error"]["code"], "proposal_final") << changed.dump();
  EXPECT_EQ(changed["error"]["field"], "events[0]");
  EXPECT_EQ(show("2026-01-15")["notice"]["households"][0]["status"], "credit");
}

TEST_F(NoticeRequests, AProposalWhoseEventWasNotStoredStaysProposedForTheNextConfirmation) {
  ASSERT_TRUE(propose({evaluation("V03-00001", "credit"), evaluation("V03-00002", "credit")})["ok"]);
  ingest_reply_ = json{{"ok", false}, {"error", {{"code", "stale_quarter"}, {"message", "newer quarter stored"}}}};
  const json failed = confirm("2026-01-12");
  EXPECT_FALSE(failed["ok"]);
  EXPECT_EQ(failed["error"]["code"], "not_all_stored");
  EXPECT_EQ(failed["not_stored"].size(), 2u);
  EXPECT_EQ(failed["not_stored"][0]["error"]["code"], "stale_quarter");
  EXPECT_EQ(standings("2026-01-12"), (std::vector<std::string>{"proposed", "proposed"}));

  ingest_reply_ = json{{"ok", true}, {"seq", 7}, {"duplicate", true}};  // stored after all, by the first try
  const json again = confirm("2026-01-12");
  ASSERT_TRUE(again["ok"]) << again.dump();
  EXPECT_EQ(again["confirmed"].size(), 2u);
  EXPECT_EQ(again["confirmed"][0]["duplicate"], true);
}

TEST_F(NoticeRequests, BadInputIsRefusedWithItsFieldAndNothingStored) {
  const auto request = [](json events) {
    return json{{"cmd", "notice"}, {"action", "propose"}, {"events", std::move(events)}};
  };
  expect_refused({{"cmd", "notice"}, {"action", "post"}}, "invalid_field", "action");
  expect_refused({{"cmd", "notice"}, {"action", "propose"}, {"extra", 1}}, "unknown_field", "extra");
  expect_refused({{"cmd", "notice"}, {"action", "propose"}}, "missing_field", "events");
  expect_refused(request(json::array()), "invalid_field", "events");
  expect_refused(request(json::array({evaluation("V03-00001", "credit"), evaluation("V03-00002", "great")})),
                 "invalid_status", "events[1].status");
  json with_lines = request(json::array({evaluation("V03-00001", "credit"), evaluation("V09-00001", "credit")}));
  with_lines["lines"] = {2, 3};
  expect_refused(with_lines, "unknown_household", "line 3.household_id");
  with_lines["lines"] = {2};
  expect_refused(with_lines, "invalid_field", "lines");
  expect_refused(request(json::array({evaluation("V03-00001", "credit"), evaluation("V03-00001", "breach")})),
                 "duplicate_row", "events[1]");
  json household = {{"type", "household"}, {"event_id", "reg-1"}, {"household_id", "V03-00001"}, {"village", "V03"}};
  expect_refused(request(json::array({household})), "invalid_field", "events[0].type");
  json ruling = evaluation("V03-00001", "credit");
  ruling["complaint_id"] = "TS-2026-000001";
  expect_refused(request(json::array({ruling})), "complaint_correction_reserved", "events[0].complaint_id");

  expect_refused({{"cmd", "notice"}, {"action", "show"}, {"quarter", "2025Q4"}}, "missing_field", "village");
  expect_refused({{"cmd", "notice"}, {"action", "show"}, {"village", "V03"}, {"quarter", "2025Q5"}}, "invalid_field",
                 "quarter");
  expect_refused({{"cmd", "notice"}, {"action", "show"}, {"village", "V03"}, {"quarter", "2025Q4"}}, "unknown_notice",
                 "village");
  expect_refused({{"cmd", "notice"}, {"action", "confirm"}, {"village", "V03"}, {"quarter", "2025Q4"}, {"reason", ""}},
                 "invalid_field", "reason");
  expect_refused({{"cmd", "notice"}, {"action", "confirm"}, {"village", "V03"}, {"quarter", "2025Q4"}},
                 "unknown_notice", "village");
  expect_refused({{"cmd", "notice"}, {"action", "list"}, {"quarter", 4}}, "invalid_field", "quarter");
}

}  // namespace
}  // namespace hub::admin
