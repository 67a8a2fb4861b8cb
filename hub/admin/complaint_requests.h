// The admin endpoint's "complaints" requests (投诉举报, docs/protocol.md "Complaints"): each read
// from the wire field by field, in the order the protocol's error replies promise, checked by the
// register (complaints/complaint_register.h) and answered as one JSON reply. A refused request
// stores nothing; its error names the field with a stable code.
//
//   {"cmd":"complaints","action":"lodge","household_id","quarter","channel","received_on"?,
//    "summary","lodged_by"?,"handler"?}
//   {"cmd":"complaints","action":"show","id"}
//   {"cmd":"complaints","action":"list","state"?,"household_id"?,"village"?,"overdue"?,"after"?,"limit"?}
//   {"cmd":"complaints","action":"investigate","id","handler"?}
//   {"cmd":"complaints","action":"rule","id","outcome","ruling","ruled_on",
//    "correction":{"status","designations"?,"effective_date"?}}   (correction: upheld only, required)
//   {"cmd":"complaints","action":"summary","village"?}
//
// Called on the admin thread (admin/admin_server.cpp), which audits the writes (lodge,
// investigate, rule) with the operator's name before it calls answer_complaint_request, and
// answers the reads unaudited. Throws StorageError when the register cannot be read or written.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "complaints/complaint_register.h"

namespace hub::admin {

// What the hub knows of a household a complaint names: its village and the quarters it has an
// evaluation of (published; a proposal on notice is looked up in the register). None when the
// hub does not know the household.
struct KnownHousehold {
  std::string village;
  std::set<std::string> evaluated_quarters;
};
using HouseholdLookup = std::function<std::optional<KnownHousehold>(const std::string& household_id)>;

// Publishes an upheld complaint's correction (a status_change naming the complaint, for its
// household and quarter, a past quarter too) as `publisher` (ruling_publisher): ingest's reply.
using PublishCorrection = std::function<nlohmann::json(const nlohmann::json& event, const std::string& publisher)>;

// lodge, investigate or rule: the actions that change the register.
bool is_complaint_write(const nlohmann::json& request);

// The reply to a "complaints" request; `today` is the hub's local date (YYYY-MM-DD), `now_ms` the
// time recorded with a change. Ruling a complaint upheld publishes its correction through
// `publish` first, and records the ruling only once the correction is stored (the reply's
// "correction": event_id, seq, duplicate, household_id, quarter, status); without `publish` an
// upheld ruling answers not_supported.
nlohmann::json answer_complaint_request(complaints::ComplaintRegister& complaints, const nlohmann::json& request,
                                        const HouseholdLookup& lookup, const std::string& today,
                                        std::int64_t now_ms, const PublishCorrection& publish = {});

// {"open","overdue","received","investigating","upheld","dismissed","deadline_days","today",
//  "overdue_ids":[…the first 20]} over the whole town or one village: for the report and /metrics.
nlohmann::json complaint_summary(complaints::ComplaintRegister& complaints, const std::string& today,
                                 const std::optional<std::string>& village = std::nullopt);

// A complaint as the wire shows it (with "overdue" as on `today`).
nlohmann::json complaint_json(const Complaint& complaint, const std::string& today);

}  // namespace hub::admin
