#include "admin/notice_requests.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <variant>

#include "domain/complaint.h"
#include "domain/status_json.h"
#include "domain/wire_event.h"

namespace hub::admin {
namespace {

using nlohmann::json;

json or_null(const std::optional<std::string>& value) { return value ? json(*value) : json(nullptr); }

const std::set<std::string>& allowed_fields(const std::string& action) {
  static const std::set<std::string> propose{"cmd", "action", "by", "events", "lines"};
  static const std::set<std::string> list{"cmd", "action", "quarter"};
  static const std::set<std::string> show{"cmd", "action", "village", "quarter"};
  static const std::set<std::string> confirm{"cmd", "action", "by", "village", "quarter", "reason"};
  if (action == "propose") return propose;
  if (action == "show") return show;
  if (action == "confirm") return confirm;
  return list;
}

std::optional<json> check_fields(const json& request, const std::string& action) {
  for (const auto& [key, value] : request.items())
    if (!allowed_fields(action).count(key))
      return error_reply("unknown_field", "'" + key.substr(0, 40) + "' is not a field of notice " + action + " / 不认识的字段",
                         key.substr(0, 40));
  return std::nullopt;
}

// A required or optional text field; the error reply when it is missing or not text.
std::variant<std::optional<std::string>, json> text(const json& request, const char* key, bool required,
                                                    const char* example) {
  const auto it = request.find(key);
  if (it == request.end() || it->is_null()) {
    if (required)
      return error_reply("missing_field", std::string("'") + key + "' is required, e.g. " + example + " / 缺少此项", key);
    return std::optional<std::string>();
  }
  if (!it->is_string())
    return error_reply("invalid_field", std::string("'") + key + "' must be a string, e.g. " + example + " / 应为文本", key);
  return std::optional<std::string>(it->get<std::string>());
}

std::string_view status_chinese(std::string_view status) {
  if (status == "credit") return "诚信户";
  if (status == "non_credit") return "不诚信户";
  if (status == "breach") return "违约户";
  return status;
}

// "village" (an id such as V03) and "quarter" (2026Q4): both required.
std::variant<std::pair<std::string, std::string>, json> village_quarter(const json& request) {
  auto village = text(request, "village", true, "V03");
  if (auto* e = std::get_if<json>(&village)) return *e;
  const std::string v = *std::get<std::optional<std::string>>(village);
  if (!is_valid_id(v)) return error_reply("invalid_field", "'village' must be a village id such as V03 / 村编号格式不对", "village");
  auto quarter = text(request, "quarter", true, "2026Q4");
  if (auto* e = std::get_if<json>(&quarter)) return *e;
  const std::string q = *std::get<std::optional<std::string>>(quarter);
  if (!quarter_index(q)) return error_reply("invalid_field", "'quarter' must be a quarter such as 2026Q4 / 季度格式不对", "quarter");
  return std::pair{v, q};
}

// Where a proposal came from, for an error: the file's line when the request gives lines.
std::string where(const json& request, std::size_t index) {
  const auto lines = request.find("lines");
  if (lines != request.end() && lines->is_array() && index < lines->size() && (*lines)[index].is_number_integer() &&
      (*lines)[index].get<std::int64_t>() > 0)
    return "line " + std::to_string((*lines)[index].get<std::int64_t>());
  return "events[" + std::to_string(index) + "]";
}

json propose(complaints::NoticeBoard& board, const json& request, const NoticeHouseholdOf& household_of,
             const std::string& today, std::int64_t now_ms) {
  const auto events = request.find("events");
  if (events == request.end() || events->is_null())
    return error_reply("missing_field", "'events' is required: the quarter's status changes / 缺少评议结果", "events");
  if (!events->is_array() || events->empty())
    return error_reply("invalid_field", "'events' must be a non-empty array of status changes / 评议结果应为非空数组", "events");
  if (events->size() > kMaxProposalsPerRequest)
    return error_reply("too_large", "at most " + std::to_string(kMaxProposalsPerRequest) +
                                        " proposals per request; split the file by village / 一次最多提交 " +
                                        std::to_string(kMaxProposalsPerRequest) + " 户",
                       "events");
  if (const auto lines = request.find("lines");
      lines != request.end() && (!lines->is_array() || lines->size() != events->size()))
    return error_reply("invalid_field", "'lines' must give one line number per event / 行号应与评议结果一一对应", "lines");

  std::vector<Proposal> proposals;
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t i = 0; i < events->size(); ++i) {
    const std::string at = where(request, i);
    const Result<WireEvent> parsed = parse_event((*events)[i]);
    if (!parsed.ok())
      return error_reply(parsed.status().code, at + ": " + parsed.status().message, at + "." + parsed.status().field);
    const WireEvent& e = parsed.value();
    if (e.type != EventType::kStatusChange)
      return error_reply("invalid_field",
                         at + ": only evaluations (status_change) are proposed; register households and commitments "
                              "as usual / 公示只含评议结果",
                         at + ".type");
    if (!e.complaint_id.empty())
      return error_reply("complaint_correction_reserved",
                         at + ": a complaint's correction is published by its ruling, not proposed / 投诉更正不经公示",
                         at + ".complaint_id");
    if (!seen.emplace(e.household_id, e.quarter).second)
      return error_reply("duplicate_row", at + ": " + e.household_id + " " + e.quarter + " is proposed twice / 同一户同一季度重复",
                         at);
    const std::optional<NoticeHousehold> household = household_of(e.household_id);
    if (!household)
      return error_reply("unknown_household",
                         at + ": the hub does not know household " + e.household_id +
                             "; register it first / 该户未登记",
                         at + ".household_id");
    Proposal p;
    p.household_id = e.household_id;
    p.village = household->village;
    p.quarter = e.quarter;
    p.status = std::string(hub::sdk::to_string(e.status));
    p.designations = e.designations;
    p.effective_date = e.effective_date;
    p.event_id = e.event_id;
    p.event = (*events)[i].dump();
    proposals.push_back(std::move(p));
  }

  std::map<std::pair<std::string, std::string>, std::size_t> per_notice;  // (village, quarter) → proposals
  for (const Proposal& p : proposals) ++per_notice[{p.village, p.quarter}];
  Result<complaints::ProposeOutcome> outcome = board.propose(proposals, today, now_ms);
  if (!outcome.ok()) {
    Status s = outcome.status();
    // The board names the proposal by its index: say the file's line instead.
    if (s.field.rfind("proposals[", 0) == 0) {
      const std::size_t index = std::stoul(s.field.substr(10));
      s.field = where(request, index);
      s.message = s.field + ": " + s.message;
    }
    return error_reply(s);
  }
  json notices = json::array();
  for (const auto& [key, count] : per_notice)
    notices.push_back({{"village", key.first},
                       {"quarter", key.second},
                       {"proposals", count},
                       {"ends_on", notice_ends_on(today, board.period_days())}});
  return json{{"ok", true},
              {"added", outcome.value().added},
              {"replaced", outcome.value().replaced},
              {"unchanged", outcome.value().unchanged},
              {"notices", std::move(notices)},
              {"period_days", board.period_days()}};
}

json line_json(const complaints::NoticeLine& line, const NoticeHouseholdOf& household_of) {
  const Proposal& p = line.proposal;
  const std::optional<NoticeHousehold> household = household_of(p.household_id);
  return json{{"household_id", p.household_id},
              {"head", household ? or_null(household->head) : json(nullptr)},
              {"status", p.status},
              {"status_zh", status_chinese(p.status)},
              {"designations", p.designations},
              {"effective_date", or_null(p.effective_date)},
              {"standing", to_string(line.standing)},
              {"standing_zh", chinese_name(line.standing)},
              {"complaints", line.open_complaints},
              {"proposed_on", p.proposed_on},
              {"confirmed_on", or_null(p.confirmed_on)},
              {"superseded_by", or_null(p.superseded_by)},
              {"event_id", p.event_id}};
}

json show(complaints::NoticeBoard& board, const json& request, const NoticeHouseholdOf& household_of,
          const std::string& today) {
  auto vq = village_quarter(request);
  if (auto* e = std::get_if<json>(&vq)) return *e;
  // (named variables, not a structured binding: the lambdas below capture them, which clang 14 refuses)
  const std::string village = std::get<std::pair<std::string, std::string>>(vq).first;
  const std::string quarter = std::get<std::pair<std::string, std::string>>(vq).second;
  const Result<complaints::NoticeList> list = board.notice(village, quarter, today);
  if (!list.ok()) return error_reply(list.status());
  const complaints::NoticeList& n = list.value();
  json counts{{"proposed", 0}, {"disputed", 0}, {"final", 0}, {"in_effect", 0}, {"superseded", 0}};
  json households = json::array();
  for (const complaints::NoticeLine& line : n.lines) {
    counts[std::string(to_string(line.standing))] = counts[std::string(to_string(line.standing))].get<int>() + 1;
    households.push_back(line_json(line, household_of));
  }
  return json{{"ok", true},
              {"notice",
               {{"village", n.village},
                {"quarter", n.quarter},
                {"last_proposed_on", n.last_proposed_on},
                {"ends_on", n.ends_on},
                {"period_days", board.period_days()},
                {"period_over", today >= n.ends_on},
                {"counts", std::move(counts)},
                {"households", std::move(households)}}},
              {"today", today}};
}

json list(complaints::NoticeBoard& board, const json& request, const std::string& today) {
  auto quarter = text(request, "quarter", false, "2026Q4");
  if (auto* e = std::get_if<json>(&quarter)) return *e;
  const std::optional<std::string> q = std::get<std::optional<std::string>>(quarter);
  if (q && !quarter_index(*q))
    return error_reply("invalid_field", "'quarter' must be a quarter such as 2026Q4 / 季度格式不对", "quarter");
  json notices = json::array();
  for (const complaints::NoticeCounts& c : board.notices(q)) {
    const std::string ends_on = notice_ends_on(c.last_proposed_on, board.period_days());
    notices.push_back({{"village", c.village},
                       {"quarter", c.quarter},
                       {"proposed", c.proposed},
                       {"confirmed", c.confirmed},
                       {"superseded", c.superseded},
                       {"last_proposed_on", c.last_proposed_on},
                       {"ends_on", ends_on},
                       {"period_over", today >= ends_on}});
  }
  return json{{"ok", true}, {"notices", std::move(notices)}, {"period_days", board.period_days()}, {"today", today}};
}

json confirm(complaints::NoticeBoard& board, const json& request, const NoticeHouseholdOf& household_of,
             const std::string& today, std::int64_t now_ms, const PublishFinal& publish) {
  auto vq = village_quarter(request);
  if (auto* e = std::get_if<json>(&vq)) return *e;
  // (named variables, not a structured binding: the lambdas below capture them, which clang 14 refuses)
  const std::string village = std::get<std::pair<std::string, std::string>>(vq).first;
  const std::string quarter = std::get<std::pair<std::string, std::string>>(vq).second;
  auto reason = text(request, "reason", false, "\"村民代表会议已无异议\"");
  if (auto* e = std::get_if<json>(&reason)) return *e;
  const std::optional<std::string> why = std::get<std::optional<std::string>>(reason);
  if (why)
    if (Status s = check_text("reason", *why, kComplaintRulingMaxChars); !s.ok()) return error_reply(s);
  if (!publish) return error_reply("not_supported", "this hub cannot publish a confirmed notice / 本枢纽无法发布公示结果");

  const Result<complaints::ConfirmationPlan> planned = board.plan_confirmation(village, quarter, today, why.has_value());
  if (!planned.ok()) return error_reply(planned.status());
  const complaints::ConfirmationPlan& plan = planned.value();

  // Each undisputed proposal's status change is stored first, then the proposal marked final:
  // one whose event was not stored stays proposed, and confirming again publishes it. They go to
  // ingest in batches (a village's quarter is hundreds of households); a batch ingest refuses as
  // a whole (one bad event refuses all, §9.1) is sent again one event at a time, so that the good
  // ones are confirmed and each bad one is listed with its own error.
  json confirmed = json::array();
  json not_stored = json::array();
  const auto record = [&](const Proposal& p, const json& result) {
    board.mark_confirmed(p, today, now_ms);
    confirmed.push_back({{"household_id", p.household_id},
                         {"event_id", p.event_id},
                         {"seq", result.value("seq", json(nullptr))},
                         {"duplicate", result.value("duplicate", false)}});
  };
  const auto publish_one = [&](const Proposal& p) {
    json stored = publish(json::parse(p.event), notice_publisher(village));
    if (stored.value("ok", false)) return record(p, stored);
    json error = stored.contains("error") ? stored["error"] : json{{"code", "hub_unavailable"}};
    not_stored.push_back({{"household_id", p.household_id}, {"error", std::move(error)}});
  };
  constexpr std::size_t kBatch = 500;
  for (std::size_t from = 0; from < plan.to_publish.size(); from += kBatch) {
    const std::size_t to = std::min(plan.to_publish.size(), from + kBatch);
    json batch{{"type", "batch"}, {"events", json::array()}};
    for (std::size_t i = from; i < to; ++i) batch["events"].push_back(json::parse(plan.to_publish[i].event));
    const json stored = publish(batch, notice_publisher(village));
    const json* results = stored.value("ok", false) ? &stored["results"] : nullptr;
    if (results != nullptr && results->is_array() && results->size() == to - from) {
      for (std::size_t i = from; i < to; ++i) record(plan.to_publish[i], (*results)[i - from]);
    } else {
      for (std::size_t i = from; i < to; ++i) publish_one(plan.to_publish[i]);
    }
  }
  json held = json::array();
  for (const complaints::NoticeLine& line : plan.held) held.push_back(line_json(line, household_of));
  json reply{{"ok", not_stored.empty()},
             {"village", village},
             {"quarter", quarter},
             {"early", plan.early},
             {"ends_on", plan.ends_on},
             {"reason", or_null(why)},
             {"confirmed", std::move(confirmed)},
             {"held", std::move(held)},
             {"already_final", plan.already_final}};
  if (!not_stored.empty()) {
    reply["error"] = {{"code", "not_all_stored"},
                      {"message", std::to_string(not_stored.size()) +
                                      " proposals were not stored and stay proposed; confirm again / 部分评议未能保存，"
                                      "请再次确认"},
                      {"field", "village"}};
    reply["not_stored"] = std::move(not_stored);
  }
  return reply;
}

}  // namespace

bool is_notice_write(const json& request) {
  const auto it = request.find("action");
  if (it == request.end() || !it->is_string()) return false;
  return it->get<std::string>() == "propose" || it->get<std::string>() == "confirm";
}

json answer_notice_request(complaints::NoticeBoard& board, const json& request, const NoticeHouseholdOf& household_of,
                           const std::string& today, std::int64_t now_ms, const PublishFinal& publish) {
  const auto it = request.find("action");
  const std::string action = it == request.end() ? "list" : it->is_string() ? it->get<std::string>() : "";
  static const std::set<std::string> actions{"propose", "list", "show", "confirm"};
  if (!actions.count(action))
    return error_reply("invalid_field", "notice: action must be propose, list, show or confirm", "action");
  if (auto error = check_fields(request, action)) return *error;
  if (action == "propose") return propose(board, request, household_of, today, now_ms);
  if (action == "show") return show(board, request, household_of, today);
  if (action == "confirm") return confirm(board, request, household_of, today, now_ms, publish);
  return list(board, request, today);
}

}  // namespace hub::admin
