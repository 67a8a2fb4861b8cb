// The administrators' read-only questions that are answered from the hub's SQLite files alone
// (household, report, quarters, timeline, reconcile): shared by the admin thread (hubctl) and
// the HTTP server's threads (dashboard, /api/), so both give the same answers from the same
// code. Each call opens its own read-only connection (report/ledger_views.h), so any thread may
// call it at any time, concurrently with delivery and with each other.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/hub_config.h"

namespace hub::admin {

// The reply to `request` ({"cmd": ...}) when it is one of the read-only commands above, with
// "ok" true or an error naming the field; std::nullopt for any other command.
std::optional<nlohmann::json> answer_read_request(const HubConfig& config, const nlohmann::json& request);

}  // namespace hub::admin
