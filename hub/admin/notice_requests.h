// The admin endpoint's "notice" requests (公示, docs/protocol.md "Notice before effect"): the
// office's proposed evaluations posted per village and quarter (complaints/notice_board.h), and
// the confirmation that makes them final. Each request is read field by field and checked before
// anything is stored; a refused request stores nothing, and its error names the field (or the
// file's line) with a stable code.
//
//   {"cmd":"notice","action":"propose","events":[status_change, …],"lines":[line, …]?}
//   {"cmd":"notice","action":"list","quarter"?}
//   {"cmd":"notice","action":"show","village","quarter"}
//   {"cmd":"notice","action":"confirm","village","quarter","reason"?}
//
// Called on the admin thread (admin/admin_server.cpp), which audits the writes (propose,
// confirm) with the operator's name before it calls answer_notice_request. Throws StorageError
// when the register cannot be read or written.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "complaints/notice_board.h"

namespace hub::admin {

// What the notice list shows of a household, or none when the hub does not know it.
struct NoticeHousehold {
  std::string village;
  std::optional<std::string> head;
};
using NoticeHouseholdOf = std::function<std::optional<NoticeHousehold>(const std::string& household_id)>;

// Publishes one confirmed proposal's status change as `publisher` (notice_publisher): ingest's reply.
using PublishFinal = std::function<nlohmann::json(const nlohmann::json& event, const std::string& publisher)>;

// The most proposals one request may post (a village's quarter is a few hundred households).
constexpr std::size_t kMaxProposalsPerRequest = 5000;

// propose or confirm: the actions that change the board.
bool is_notice_write(const nlohmann::json& request);

// The reply to a "notice" request; `today` is the hub's local date, `now_ms` the time recorded.
// Confirming publishes each undisputed proposal through `publish` and marks it confirmed once its
// event is stored (the reply lists what was confirmed, held and not stored); without `publish`,
// confirm answers not_supported.
nlohmann::json answer_notice_request(complaints::NoticeBoard& board, const nlohmann::json& request,
                                     const NoticeHouseholdOf& household_of, const std::string& today,
                                     std::int64_t now_ms, const PublishFinal& publish = {});

}  // namespace hub::admin
