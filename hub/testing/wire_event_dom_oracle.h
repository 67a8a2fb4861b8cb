// Test oracle: the wire parser as it was before parse_request() read frames without a DOM —
// json::parse of the whole frame, then a rule-by-rule check of each event object. Tests and
// fuzz_ingest feed the same bytes to this and to hub::parse_request() and require the same
// IngestRequest or the same error (code, message, field), item by item. Not linked into hubd.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "domain/wire_event.h"

namespace hub::dom_oracle {

Result<WireEvent> parse_event(const nlohmann::json& object);
Result<IngestRequest> parse_request(std::string_view body, const RequestLimits& limits);

// Every field of a parse result as text (error code, message and field; or the request's flags,
// each event's every field and index, each item error): two results are the same when their
// descriptions are. For test messages and fuzz_ingest's equivalence check.
std::string describe(const Result<WireEvent>& result);
std::string describe(const Result<IngestRequest>& result);

}  // namespace hub::dom_oracle
