// The administrators' read-only questions that are answered from the event log and the ledger
// alone (household, households, report, quarters, timeline, reconcile): shared by the admin thread (hubctl)
// and the HTTP server's threads (dashboard, /api/), so both give the same answers from the same
// code. Each call opens its own snapshot through the opener the daemon hands in
// (report/report_views.h; the backend's factory), so any thread may call it at any time,
// concurrently with delivery and with each other.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/hub_config.h"
#include "report/report_views.h"

namespace hub::admin {

// The reply to `request` ({"cmd": ...}) when it is one of the read-only commands above, with
// "ok" true or an error naming the field; std::nullopt for any other command. Throws
// StorageError (domain/status.h) when the files cannot be read.
std::optional<nlohmann::json> answer_read_request(const HubConfig& config, const report::ReportViewsOpener& open_views,
                                                  const nlohmann::json& request);

}  // namespace hub::admin
