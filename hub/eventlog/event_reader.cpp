#include "eventlog/event_reader.h"

#include <nlohmann/json.hpp>

namespace hub {

EventReader::EventReader(const std::string& path)
    : db_(path, store::Database::Mode::kReadWrite),
      range_(db_,
             "SELECT seq, type, event_id, household_id, village, status, previous_status, quarter, previous_quarter, "
             "effective_date, designations, correction, received_at_ms FROM event WHERE seq BETWEEN ? AND ? ORDER BY seq"),
      received_(db_, "SELECT received_at_ms FROM event WHERE seq = ?") {
  db_.exec("PRAGMA query_only=1");
}

std::vector<LoggedEvent> EventReader::read(std::uint64_t from, std::uint64_t to) {
  std::vector<LoggedEvent> out;
  range_.bind(1, static_cast<std::int64_t>(from)).bind(2, static_cast<std::int64_t>(to));
  while (range_.step()) {
    LoggedEvent e;
    e.seq = static_cast<std::uint64_t>(range_.column_int(0));
    const std::string type = range_.column_text(1);
    e.type = type == "status_change" ? EventType::kStatusChange
             : type == "commitment"  ? EventType::kCommitment
                                     : EventType::kHousehold;
    e.event_id = range_.column_text(2);
    e.household_id = range_.column_text(3);
    e.village = range_.column_text(4);
    if (e.type == EventType::kStatusChange) {
      using hub::sdk::parse_household_status;
      e.status = parse_household_status(range_.column_text(5)).value_or(hub::sdk::HouseholdStatus::kUnevaluated);
      e.previous_status = parse_household_status(range_.column_text(6)).value_or(hub::sdk::HouseholdStatus::kUnevaluated);
      e.quarter = range_.column_text(7);
      e.previous_quarter = range_.column_text(8);
      e.effective_date = range_.column_text(9);
      const std::string designations = range_.column_text(10);
      if (designations.size() > 2) {
        for (const auto& d : nlohmann::json::parse(designations)) e.designations.push_back(d.get<std::string>());
      }
      e.correction = range_.column_int(11) != 0;
    }
    e.received_at_ms = range_.column_int(12);
    out.push_back(std::move(e));
  }
  range_.reset();
  return out;
}

std::int64_t EventReader::received_at(std::uint64_t seq) {
  received_.bind(1, static_cast<std::int64_t>(seq));
  const std::int64_t at = received_.step() ? received_.column_int(0) : 0;
  received_.reset();
  return at;
}

}  // namespace hub
