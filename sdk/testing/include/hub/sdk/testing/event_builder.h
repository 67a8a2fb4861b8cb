// EventBuilder: a status change as the hub delivers it to a plugin, written in one line.
//
//   const hub::sdk::Event event = EventBuilder()
//       .household("V01-00001")          // village V01 is derived from the id
//       .from("credit").to("non_credit") // or HouseholdStatus::kCredit, …
//       .quarter("2026Q3")
//       .designation("assistance")
//       .build();
//
// Unset fields take the defaults below; the rest is derived the way hubd derives it: village
// from the household id, event_id "ev-<quarter>-<household>", idempotency key
// "<department>:<sequence>", effective date the first day of the next quarter, and for a
// correction the previous quarter equal to the quarter. Invalid values (an unknown status, a
// quarter that is not YYYYQn) throw std::invalid_argument naming the method.
//
// PluginUnderTest::handle/decide take a builder directly and fill in the department and, when
// none was given, the next sequence number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/sdk/types.h"

namespace hub::sdk_testing {

class EventBuilder {
 public:
  EventBuilder& household(std::string household_id);  // default "V01-00001"
  EventBuilder& village(std::string village);          // default: the id's prefix ("V01")
  EventBuilder& from(hub::sdk::HouseholdStatus previous);  // default unevaluated
  EventBuilder& from(std::string_view previous);           // "credit", "non_credit", "breach", "unevaluated"
  EventBuilder& to(hub::sdk::HouseholdStatus next);        // default credit
  EventBuilder& to(std::string_view next);
  EventBuilder& quarter(std::string quarter);              // default "2026Q3"
  EventBuilder& previous_quarter(std::string quarter);     // default "" (no earlier evaluation)
  EventBuilder& designation(std::string name);             // adds one, e.g. "assistance"
  EventBuilder& correction(bool is_correction = true);     // same quarter again, supersedes it
  // A complaint ruling's correction of a past quarter (Event::past_quarter): sets correction too,
  // and the complaint's id.
  EventBuilder& past_quarter_ruling(std::string complaint_id);
  EventBuilder& sequence(std::uint64_t sequence);          // default 1 (or PluginUnderTest's next)
  EventBuilder& department(std::string department);        // idempotency key prefix; default "test"
  EventBuilder& event_id(std::string event_id);
  EventBuilder& effective_date(std::string date);          // YYYY-MM-DD

  bool has_sequence() const noexcept { return sequence_.has_value(); }
  bool has_department() const noexcept { return department_.has_value(); }

  hub::sdk::Event build() const;

 private:
  std::string household_id_ = "V01-00001";
  std::optional<std::string> village_;
  hub::sdk::HouseholdStatus previous_ = hub::sdk::HouseholdStatus::kUnevaluated;
  hub::sdk::HouseholdStatus next_ = hub::sdk::HouseholdStatus::kCredit;
  std::string quarter_ = "2026Q3";
  std::optional<std::string> previous_quarter_;
  std::vector<std::string> designations_;
  bool correction_ = false;
  bool past_quarter_ = false;
  std::string complaint_id_;
  std::optional<std::uint64_t> sequence_;
  std::optional<std::string> department_;
  std::optional<std::string> event_id_;
  std::optional<std::string> effective_date_;
};

// "2026Q3" → "2026-10-01": the first day of the following quarter. Throws
// std::invalid_argument unless `quarter` is YYYYQ1..YYYYQ4.
std::string first_day_after(std::string_view quarter);

}  // namespace hub::sdk_testing
