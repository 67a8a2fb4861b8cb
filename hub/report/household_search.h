// Finding households (`hubctl households`, /api/households, the dashboard's search page): the
// criteria read from a request and checked field by field, the page as JSON, and every match
// as CSV for a spreadsheet.
//
// Request fields, all optional: "id" (the household id starts with it), "head" (the head's name
// contains it), "village", "status" (credit, non_credit, breach, unevaluated), "designation"
// (one the hub knows), "after" (the last household id of the previous page), "limit" (1–500,
// default 50). An invalid one is refused with invalid_field naming it; nothing else is read.
//
// Runs on the caller's thread with the caller's views (one snapshot).
#pragma once

#include <cstddef>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "report/report_views.h"

namespace hub::report {

inline constexpr std::size_t kMaxSearchPage = 500;
// The CSV export's bound: a town has tens of thousands of households; a county's export is
// narrowed by village.
inline constexpr std::size_t kMaxCsvRows = 200000;

// The query, or the error reply that names the field.
std::variant<HouseholdQuery, nlohmann::json> household_query(const nlohmann::json& request);

// {"ok":true,"total":…,"limit":…,"households":[…],"next_after":"V01-00050"|null}
nlohmann::json household_search(ReportViews& views, const HouseholdQuery& query);

// Every match (the query's paging ignored), a header row first, in UTF-8 with a byte-order mark
// so that Excel opens the Chinese names as they are; or the error reply when more than
// kMaxCsvRows match.
std::variant<std::string, nlohmann::json> household_search_csv(ReportViews& views, HouseholdQuery query);

}  // namespace hub::report
