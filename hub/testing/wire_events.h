// Events for tests, written as a publisher writes them (JSON, SPEC §4) and parsed as ingest
// parses them, so a test's events are the ones the hub would accept. Header-only.
#pragma once

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "domain/wire_event.h"

namespace hub::testing {

// Throws std::runtime_error naming the problem when the test wrote an event the hub refuses.
inline WireEvent make_event(const nlohmann::json& j) {
  auto parsed = parse_event(j);
  if (auto* e = parsed.error()) throw std::runtime_error("bad test event: " + e->message);
  return parsed.value();
}

}  // namespace hub::testing
