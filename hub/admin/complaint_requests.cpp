#include "admin/complaint_requests.h"

#include <ctime>
#include <set>
#include <variant>

#include "domain/status_json.h"
#include "domain/wire_event.h"

namespace hub::admin {
namespace {

using nlohmann::json;

json or_null(const std::optional<std::string>& value) { return value ? json(*value) : json(nullptr); }

// Fields a request may hold, per action ("by" is the operator's own name, kept by the audit).
const std::set<std::string>& allowed_fields(const std::string& action) {
  static const std::set<std::string> lodge{"cmd", "action", "by", "household_id", "quarter", "channel",
                                           "received_on", "summary", "lodged_by", "handler"};
  static const std::set<std::string> show{"cmd", "action", "id"};
  static const std::set<std::string> list{"cmd", "action", "state", "household_id", "village", "overdue", "after",
                                          "limit"};
  static const std::set<std::string> investigate{"cmd", "action", "by", "id", "handler"};
  static const std::set<std::string> rule{"cmd", "action", "by", "id", "outcome", "ruling", "ruled_on", "correction"};
  static const std::set<std::string> summary{"cmd", "action", "village"};
  if (action == "lodge") return lodge;
  if (action == "show") return show;
  if (action == "investigate") return investigate;
  if (action == "rule") return rule;
  if (action == "summary") return summary;
  return list;
}

// Reads the text field `key`: absent → nullopt (or a missing_field error when required); not a
// string → invalid_field. The value itself is checked by the register.
struct TextField {
  std::optional<std::string> value;
  std::optional<json> error;
};
TextField text_field(const json& request, const char* key, bool required, const char* example) {
  const auto it = request.find(key);
  if (it == request.end() || it->is_null()) {
    if (required)
      return {std::nullopt, error_reply("missing_field",
                                        std::string("'") + key + "' is required, e.g. " + example + " / 缺少此项", key)};
    return {};
  }
  if (!it->is_string())
    return {std::nullopt,
            error_reply("invalid_field", std::string("'") + key + "' must be a string, e.g. " + example + " / 应为文本", key)};
  return {it->get<std::string>(), std::nullopt};
}

std::optional<json> check_fields(const json& request, const std::string& action) {
  const auto& allowed = allowed_fields(action);
  for (const auto& [key, value] : request.items())
    if (!allowed.count(key))
      return error_reply("unknown_field",
                         "'" + key.substr(0, 40) + "' is not a field of complaints " + action + " / 不认识的字段", key.substr(0, 40));
  return std::nullopt;
}

// "id": "TS-2026-000123" or its number (as text or a number).
std::variant<std::int64_t, json> complaint_ref(const json& request) {
  const auto it = request.find("id");
  if (it == request.end() || it->is_null())
    return error_reply("missing_field", "'id' is required, e.g. TS-2026-000123 / 缺少投诉编号", "id");
  std::optional<std::int64_t> number;
  if (it->is_number_integer() && it->get<std::int64_t>() > 0 && it->get<std::int64_t>() < (1ll << 53))
    number = it->get<std::int64_t>();
  else if (it->is_string())
    number = complaint_number(it->get<std::string>());
  if (!number) return error_reply("invalid_field", "'id' must be a complaint id such as TS-2026-000123 / 投诉编号格式不对", "id");
  return *number;
}

json reply_with(const Result<Complaint>& result, const std::string& today) {
  if (!result.ok()) return error_reply(result.status());
  return json{{"ok", true}, {"complaint", complaint_json(result.value(), today)}};
}

json lodge(complaints::ComplaintRegister& reg, const json& request, const HouseholdLookup& lookup,
           const std::string& today, std::int64_t now_ms) {
  NewComplaint n;
  auto household = text_field(request, "household_id", true, "V03-00417");
  if (household.error) return *household.error;
  n.household_id = *household.value;
  if (!is_valid_id(n.household_id))
    return error_reply("invalid_field", "'household_id' must be a household id such as V03-00417 / 户编号格式不对",
                       "household_id");
  auto quarter = text_field(request, "quarter", true, "2026Q1");
  if (quarter.error) return *quarter.error;
  n.quarter = *quarter.value;
  auto channel = text_field(request, "channel", true, "town_box");
  if (channel.error) return *channel.error;
  const auto parsed = complaint_channel(*channel.value);
  if (!parsed)
    return error_reply("invalid_field",
                       "'channel' must be town_box (镇投诉箱), village_box (村投诉箱), phone (电话), visit (来访) or "
                       "online (网上)",
                       "channel");
  n.channel = *parsed;
  auto received = text_field(request, "received_on", false, "2026-03-02");
  if (received.error) return *received.error;
  n.received_on = received.value.value_or(today);
  auto summary = text_field(request, "summary", true, "\"评议结果与事实不符\"");
  if (summary.error) return *summary.error;
  n.summary = *summary.value;
  auto lodged_by = text_field(request, "lodged_by", false, "\"张三\" (absent: anonymous)");
  if (lodged_by.error) return *lodged_by.error;
  n.lodged_by = lodged_by.value;
  auto handler = text_field(request, "handler", false, "\"李四\"");
  if (handler.error) return *handler.error;
  n.handler = handler.value;
  // Every field's own rules first, then whether the hub knows the household.
  if (Status s = validate_new_complaint(n, today); !s.ok()) return error_reply(s);
  const std::optional<KnownHousehold> known = lookup(n.household_id);
  if (!known)
    return error_reply("unknown_household",
                       "household '" + n.household_id + "' is not registered with the hub / 枢纽中没有这一户",
                       "household_id");
  // A complaint challenges an evaluation: one published, or one on notice (公示).
  if (known->evaluated_quarters.count(n.quarter) == 0 && !reg.proposal(n.household_id, n.quarter))
    return error_reply("not_evaluated",
                       "household '" + n.household_id + "' has no evaluation of " + n.quarter +
                           ", published or on notice: a complaint is about one / 该户该季度没有评议结果或公示",
                       "quarter");
  return reply_with(reg.lodge(n, known->village, today, now_ms), today);
}

json list(complaints::ComplaintRegister& reg, const json& request, const std::string& today) {
  complaints::ComplaintQuery query;
  auto state = text_field(request, "state", false, "received");
  if (state.error) return *state.error;
  if (state.value) {
    query.state = complaint_state(*state.value);
    if (!query.state)
      return error_reply("invalid_field", "'state' must be received, investigating, upheld or dismissed", "state");
  }
  auto household = text_field(request, "household_id", false, "V03-00417");
  if (household.error) return *household.error;
  if (household.value && !is_valid_id(*household.value))
    return error_reply("invalid_field", "'household_id' must be a household id such as V03-00417", "household_id");
  query.household_id = household.value;
  auto village = text_field(request, "village", false, "V03");
  if (village.error) return *village.error;
  if (village.value && !is_valid_id(*village.value))
    return error_reply("invalid_field", "'village' must be a village id such as V03", "village");
  query.village = village.value;
  if (const auto it = request.find("overdue"); it != request.end() && !it->is_null()) {
    if (!it->is_boolean()) return error_reply("invalid_field", "'overdue' must be true or false", "overdue");
    if (it->get<bool>()) query.overdue_on = today;
  }
  if (const auto it = request.find("after"); it != request.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() >= (1ll << 53))
      return error_reply("invalid_field", "'after' must be a complaint number (paging: the last one seen)", "after");
    query.after_number = it->get<std::int64_t>();
  }
  if (const auto it = request.find("limit"); it != request.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 1000)
      return error_reply("invalid_field", "'limit' must be 1 to 1000", "limit");
    query.limit = static_cast<std::size_t>(it->get<std::int64_t>());
  }
  const complaints::ComplaintPage page = reg.list(query);
  json items = json::array();
  for (const Complaint& c : page.complaints) items.push_back(complaint_json(c, today));
  return json{{"ok", true},
              {"complaints", std::move(items)},
              {"more", page.more},
              {"next_after", page.more ? json(page.complaints.back().number) : json(nullptr)},
              {"today", today}};
}

// The status change an upheld complaint's ruling publishes: the complaint's household and
// quarter with the corrected status (and designations, effective date), named by the complaint.
// `correction` is the request's {"status", "designations"?, "effective_date"?}; an error names
// its field as "correction.<field>".
std::variant<json, FieldError> correction_event(const Complaint& complaint, const json& correction) {
  if (!correction.is_object())
    return FieldError{"invalid_field", "'correction' must be an object, e.g. {\"status\":\"credit\"} / 更正应为对象",
                      "correction"};
  json event{{"type", "status_change"},
             {"event_id", ruling_event_id(complaint.id)},
             {"household_id", complaint.household_id},
             {"quarter", complaint.quarter},
             {"complaint_id", complaint.id},
             {"basis", "投诉 " + complaint.id + " 裁定属实 / complaint " + complaint.id + " upheld"}};
  for (const auto& [key, value] : correction.items()) {
    if (key != "status" && key != "designations" && key != "effective_date")
      return FieldError{"unknown_field",
                        "'" + key.substr(0, 40) + "' is not part of a correction (status, designations, effective_date)",
                        "correction." + key.substr(0, 40)};
    event[key] = value;
  }
  if (!correction.contains("status"))
    return FieldError{"missing_field", "'correction.status' is required: credit, non_credit or breach / 缺少更正后的评议结果",
                      "correction.status"};
  // The wire's own rules, so that a bad correction is refused here, before anything is ruled.
  const auto parsed = parse_event(event);
  if (const FieldError* e = parsed.error()) return FieldError{e->code, e->message, "correction." + e->field};
  return event;
}

json rule(complaints::ComplaintRegister& reg, const json& request, std::int64_t number, const std::string& today,
          std::int64_t now_ms, const PublishCorrection& publish) {
  auto outcome = text_field(request, "outcome", true, "upheld");
  if (outcome.error) return *outcome.error;
  const auto state = complaint_state(*outcome.value);
  if (!state || !is_final(*state))
    return error_reply("invalid_field", "'outcome' must be upheld (属实) or dismissed (不属实)", "outcome");
  auto ruling = text_field(request, "ruling", true, "\"经核查属实，更正为诚信户\"");
  if (ruling.error) return *ruling.error;
  auto ruled_on = text_field(request, "ruled_on", true, "2026-03-10");
  if (ruled_on.error) return *ruled_on.error;
  const auto correction = request.find("correction");
  const bool corrects = correction != request.end() && !correction->is_null();
  if (*state == ComplaintState::kDismissed) {
    if (corrects)
      return error_reply("invalid_field",
                         "a dismissed complaint changes no evaluation: leave 'correction' out / 不属实的投诉不更正评议",
                         "correction");
    return reply_with(reg.rule(number, *state, *ruling.value, *ruled_on.value, today, now_ms), today);
  }

  // Upheld: the evaluation is put right first, then the ruling is recorded. A ruling whose
  // correction is refused records nothing; a correction stored before the ruling could be (the
  // register's store failed) is found again, as a duplicate, when the same ruling is sent again.
  const Result<Complaint> found = reg.find(number);
  if (!found.ok()) return error_reply(found.status());
  const Complaint& complaint = found.value();
  if (Status s = validate_ruling(complaint, *state, *ruling.value, *ruled_on.value, today); !s.ok())
    return error_reply(s);
  if (!corrects)
    return error_reply("missing_field",
                       "an upheld complaint puts the evaluation right: give 'correction', e.g. "
                       "{\"status\":\"credit\"} (the same status with other designations if only they change) / "
                       "投诉属实须给出更正后的评议结果",
                       "correction");
  auto event = correction_event(complaint, *correction);
  if (const FieldError* e = std::get_if<FieldError>(&event)) return error_reply(e->code, e->message, e->field);
  if (!publish)
    return error_reply("not_supported", "this hub cannot publish a ruling's correction / 本枢纽无法发布裁定更正");
  const json& correction_event = std::get<json>(event);
  json stored = publish(correction_event, ruling_publisher(complaint.id));
  if (!stored.value("ok", false)) {
    if (stored.contains("error") && stored["error"].is_object()) {
      json& error = stored["error"];
      error["message"] = "the correction was not stored, so the complaint was not ruled / 更正未能保存，投诉未裁定: " +
                         error.value("message", std::string());
      if (error.contains("field") && error["field"].is_string())
        error["field"] = "correction." + error["field"].get<std::string>();
    }
    return stored;
  }
  json reply = reply_with(reg.rule(number, *state, *ruling.value, *ruled_on.value, today, now_ms), today);
  const json published{{"event_id", correction_event["event_id"]},
                       {"seq", stored.value("seq", json(nullptr))},
                       {"duplicate", stored.value("duplicate", false)},
                       {"household_id", complaint.household_id},
                       {"quarter", complaint.quarter},
                       {"status", correction_event["status"]}};
  if (reply.value("ok", false)) {
    reply["correction"] = published;
  } else if (reply.contains("error") && reply["error"].is_object()) {
    // Stored in the log but not ruled: say so, so that the clerk sends the ruling again.
    reply["error"]["correction"] = published;
    reply["error"]["message"] = reply["error"].value("message", std::string()) +
                                " (the correction is stored; send the same ruling again to record it / "
                                "更正已保存，请再次提交同一裁定)";
  }
  return reply;
}

}  // namespace

bool is_complaint_write(const json& request) {
  const auto it = request.find("action");
  if (it == request.end() || !it->is_string()) return false;
  const std::string action = it->get<std::string>();
  return action == "lodge" || action == "investigate" || action == "rule";
}

json answer_complaint_request(complaints::ComplaintRegister& reg, const json& request,
                              const HouseholdLookup& lookup, const std::string& today, std::int64_t now_ms,
                              const PublishCorrection& publish) {
  const auto it = request.find("action");
  const std::string action = it == request.end() ? "list" : it->is_string() ? it->get<std::string>() : "";
  static const std::set<std::string> actions{"lodge", "show", "list", "investigate", "rule", "summary"};
  if (!actions.count(action))
    return error_reply("invalid_field",
                       "complaints: action must be lodge, show, list, investigate, rule or summary", "action");
  if (auto error = check_fields(request, action)) return *error;
  if (action == "lodge") return lodge(reg, request, lookup, today, now_ms);
  if (action == "list") return list(reg, request, today);
  if (action == "summary") {
    auto village = text_field(request, "village", false, "V03");
    if (village.error) return *village.error;
    if (village.value && !is_valid_id(*village.value))
      return error_reply("invalid_field", "'village' must be a village id such as V03", "village");
    json reply = complaint_summary(reg, today, village.value);
    reply["ok"] = true;
    return reply;
  }
  const auto ref = complaint_ref(request);
  if (std::holds_alternative<json>(ref)) return std::get<json>(ref);
  const std::int64_t number = std::get<std::int64_t>(ref);
  if (action == "show") return reply_with(reg.find(number), today);
  if (action == "investigate") {
    auto handler = text_field(request, "handler", false, "\"李四\"");
    if (handler.error) return *handler.error;
    return reply_with(reg.investigate(number, handler.value, now_ms), today);
  }
  return rule(reg, request, number, today, now_ms, publish);
}

json complaint_summary(complaints::ComplaintRegister& reg, const std::string& today,
                       const std::optional<std::string>& village) {
  const complaints::ComplaintCounts n = reg.counts(today, village);
  complaints::ComplaintQuery overdue;
  overdue.overdue_on = today;
  overdue.village = village;
  overdue.limit = 20;
  json ids = json::array();
  for (const Complaint& c : reg.list(overdue).complaints) ids.push_back(c.id);
  return json{{"open", n.open},
              {"overdue", n.overdue},
              {"received", n.received},
              {"investigating", n.investigating},
              {"upheld", n.upheld},
              {"dismissed", n.dismissed},
              {"deadline_days", reg.deadline_days()},
              {"today", today},
              {"village", or_null(village)},
              {"overdue_ids", std::move(ids)}};
}

json complaint_json(const Complaint& c, const std::string& today) {
  return json{{"id", c.id},
              {"number", c.number},
              {"household_id", c.household_id},
              {"village", c.village},
              {"quarter", c.quarter},
              {"channel", std::string(to_string(c.channel))},
              {"channel_zh", std::string(chinese_name(c.channel))},
              {"received_on", c.received_on},
              {"summary", c.summary},
              {"lodged_by", or_null(c.lodged_by)},
              {"handler", or_null(c.handler)},
              {"deadline", c.deadline},
              {"state", std::string(to_string(c.state))},
              {"state_zh", std::string(chinese_name(c.state))},
              {"ruling", or_null(c.ruling)},
              {"ruled_on", or_null(c.ruled_on)},
              {"overdue", is_overdue(c, today)},
              {"lodged_at_ms", c.lodged_at_ms},
              {"updated_at_ms", c.updated_at_ms}};
}

}  // namespace hub::admin
