#include "store/event_row.h"

#include <nlohmann/json.hpp>

namespace hub::store {

namespace {
constexpr const char* kEventAccepted = "event_accepted";
}  // namespace

EventRow event_row(const StagedEvent& staged) {
  const WireEvent& ev = staged.event;
  EventRow row;
  row.seq = static_cast<std::int64_t>(staged.seq);
  row.event_id = ev.event_id;
  row.type = std::string(to_string(ev.type));
  row.household_id = ev.household_id;
  row.village = staged.village;
  if (ev.type == EventType::kStatusChange) {
    row.status = std::string(hub::sdk::to_string(ev.status));
    row.previous_status = std::string(hub::sdk::to_string(staged.previous_status));
    row.quarter = ev.quarter;
    row.previous_quarter = staged.previous_quarter;
    row.effective_date = ev.effective_date;
    row.designations = nlohmann::json(ev.designations).dump();
    row.correction = staged.past_quarter ? kPastQuarter : staged.correction ? kSameQuarter : kNotACorrection;
  }
  row.digest = staged.digest;
  row.body = staged.canonical;
  row.publisher = staged.publisher;
  return row;
}

audit::AuditEntry event_chain_entry(const EventRow& row) {
  audit::RowDetail detail;
  const auto optional = [&](const std::optional<std::string>& value) {
    if (value)
      detail.text(*value);
    else
      detail.null();
  };
  detail.text(row.type).text(row.household_id).text(row.village);
  for (const auto* column : {&row.status, &row.previous_status, &row.quarter, &row.previous_quarter,
                             &row.effective_date, &row.designations})
    optional(*column);
  detail.integer(row.correction).text(row.digest).text(row.body);
  return {kEventAccepted, row.publisher, row.event_id, detail.take()};
}

EventType event_type_from(std::string_view stored) {
  return stored == "status_change" ? EventType::kStatusChange
         : stored == "commitment"  ? EventType::kCommitment
                                   : EventType::kHousehold;
}

std::vector<std::string> designations_from(const std::string& stored) {
  std::vector<std::string> out;
  if (stored.size() > 2) {
    for (const auto& d : nlohmann::json::parse(stored)) out.push_back(d.get<std::string>());
  }
  return out;
}

void read_correction(std::int64_t kind, const std::string& body, LoggedEvent& into) {
  into.correction = kind != kNotACorrection;
  into.past_quarter = kind == kPastQuarter;
  into.complaint_id = complaint_id_in(body);
}

std::string complaint_id_in(const std::string& body) {
  if (body.find("\"complaint_id\"") == std::string::npos) return {};
  const auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return {};
  const auto it = parsed.find("complaint_id");
  return it != parsed.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace hub::store
