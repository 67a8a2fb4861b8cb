// Publishing from inside hubd: one request to ingest's in-process endpoint (ingest/ingest_server.h,
// `internal_endpoint`), as the web console's publish and import and a complaint's ruling send
// it. Two frames: the publisher recorded with the events ("web:<user>", "complaint:TS-…"), then
// the request exactly as a publisher sends it on the wire (docs/protocol.md §4). Ingest checks,
// stores and acknowledges it like any publisher's, and its reply (§8) is returned.
//
// Blocks the calling thread until ingest answers or `timeout_ms` passes (then "hub_unavailable",
// and the request may or may not have been stored: sending the same event again is answered as
// a duplicate if it was). Any thread of hubd may call it with its own context.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

namespace hub::admin {

nlohmann::json publish_internally(zmq::context_t& context, const std::string& ingest_endpoint,
                                  const std::string& publisher, const nlohmann::json& request, int timeout_ms);

}  // namespace hub::admin
