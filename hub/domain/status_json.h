// The wire's error reply, rendered from a Status in one place for every endpoint (ingest,
// admin, HTTP, and the dispatcher's answers to admin requests):
//
//   {"ok":false,"error":{"code":"…","message":"…","field":"…"}}
//
// "field" is present only when the Status names one. docs/protocol.md documents the codes.
// A pure function: any thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "domain/status.h"

namespace hub {

nlohmann::json error_reply(const Status& status);
inline nlohmann::json error_reply(std::string code, std::string message, std::string field = {}) {
  return error_reply(Status::error(std::move(code), std::move(message), std::move(field)));
}

}  // namespace hub
