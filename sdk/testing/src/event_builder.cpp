#include "hub/sdk/testing/event_builder.h"

#include <cctype>
#include <stdexcept>
#include <utility>

namespace hub::sdk_testing {
namespace {

hub::sdk::HouseholdStatus parse_status(std::string_view method, std::string_view text) {
  const auto status = hub::sdk::parse_household_status(text);
  if (!status)
    throw std::invalid_argument("EventBuilder::" + std::string(method) + ": unknown status '" + std::string(text) +
                                "' (credit, non_credit, breach or unevaluated)");
  return *status;
}

bool is_quarter(std::string_view q) {
  if (q.size() != 6 || q[4] != 'Q' || q[5] < '1' || q[5] > '4') return false;
  for (std::size_t i = 0; i < 4; ++i)
    if (!std::isdigit(static_cast<unsigned char>(q[i]))) return false;
  return true;
}

void check_quarter(std::string_view method, std::string_view q) {
  if (!is_quarter(q))
    throw std::invalid_argument("EventBuilder::" + std::string(method) + ": '" + std::string(q) +
                                "' is not a quarter like 2026Q3");
}

}  // namespace

std::string first_day_after(std::string_view quarter) {
  check_quarter("quarter", quarter);
  const int year = std::stoi(std::string(quarter.substr(0, 4)));
  const int q = quarter[5] - '0';
  const int next_year = q == 4 ? year + 1 : year;
  const int month = q == 4 ? 1 : q * 3 + 1;
  return std::to_string(next_year) + (month < 10 ? "-0" : "-") + std::to_string(month) + "-01";
}

EventBuilder& EventBuilder::household(std::string household_id) {
  household_id_ = std::move(household_id);
  return *this;
}
EventBuilder& EventBuilder::village(std::string village) {
  village_ = std::move(village);
  return *this;
}
EventBuilder& EventBuilder::from(hub::sdk::HouseholdStatus previous) {
  previous_ = previous;
  return *this;
}
EventBuilder& EventBuilder::from(std::string_view previous) { return from(parse_status("from", previous)); }
EventBuilder& EventBuilder::to(hub::sdk::HouseholdStatus next) {
  next_ = next;
  return *this;
}
EventBuilder& EventBuilder::to(std::string_view next) { return to(parse_status("to", next)); }
EventBuilder& EventBuilder::quarter(std::string quarter) {
  check_quarter("quarter", quarter);
  quarter_ = std::move(quarter);
  return *this;
}
EventBuilder& EventBuilder::previous_quarter(std::string quarter) {
  if (!quarter.empty()) check_quarter("previous_quarter", quarter);
  previous_quarter_ = std::move(quarter);
  return *this;
}
EventBuilder& EventBuilder::designation(std::string name) {
  designations_.push_back(std::move(name));
  return *this;
}
EventBuilder& EventBuilder::correction(bool is_correction) {
  correction_ = is_correction;
  return *this;
}
EventBuilder& EventBuilder::past_quarter_ruling(std::string complaint_id) {
  correction_ = true;
  past_quarter_ = true;
  complaint_id_ = std::move(complaint_id);
  return *this;
}
EventBuilder& EventBuilder::sequence(std::uint64_t sequence) {
  sequence_ = sequence;
  return *this;
}
EventBuilder& EventBuilder::department(std::string department) {
  department_ = std::move(department);
  return *this;
}
EventBuilder& EventBuilder::event_id(std::string event_id) {
  event_id_ = std::move(event_id);
  return *this;
}
EventBuilder& EventBuilder::effective_date(std::string date) {
  effective_date_ = std::move(date);
  return *this;
}

hub::sdk::Event EventBuilder::build() const {
  hub::sdk::Event event;
  event.sequence = sequence_.value_or(1);
  event.event_id = event_id_.value_or("ev-" + quarter_ + "-" + household_id_);
  event.idempotency_key = department_.value_or("test") + ":" + std::to_string(event.sequence);
  event.household_id = household_id_;
  event.village = village_.value_or(household_id_.substr(0, household_id_.find('-')));
  event.previous_status = previous_;
  event.new_status = next_;
  // The hub marks a second evaluation of the same quarter as a correction of it.
  event.previous_quarter = previous_quarter_.value_or(correction_ ? quarter_ : std::string());
  event.quarter = quarter_;
  event.effective_date = effective_date_.value_or(first_day_after(quarter_));
  event.designations = designations_;
  event.correction = correction_;
  event.past_quarter = past_quarter_;
  event.complaint_id = complaint_id_;
  return event;
}

}  // namespace hub::sdk_testing
