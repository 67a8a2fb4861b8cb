// The ingest endpoint (§4): a ZeroMQ ROUTER where the family-planning office publishes
// events, one at a time or in atomic batches.
//
// Runs on its own thread (run() until a message arrives on the control pipe). Group commit,
// pipelined: each turn it drains every request already waiting (up to a bound), validates them
// in order against the EventLog and stages the accepted events as one group; the group is
// written in one transaction on the commit thread (group_writer.h) while the next requests are
// read and staged on top of it (a large group goes to the writer before the drain ends, so the
// batches behind it overlap its write). Replies go out in the order the requests came,
// each only after the commit of the group it was staged in — so an acknowledgment always means
// "on disk", and many publishers share one fsync. If a commit fails, its requests and those of
// the group staged on top of it are refused (storage_unavailable), nothing acknowledged. After
// each commit it sends the new last sequence number on `notify_endpoint` (inproc PUSH) so
// delivery can start.
//
// A second, in-process endpoint (`internal_endpoint`, inproc) takes the same requests from
// hubd's own web console: each request is two frames, the publisher's name ("web:<user>",
// stored with the event and in its chain record, as a key's name is) and the request, and its
// reply is one frame. Only threads of hubd can reach an inproc endpoint; the web console checks
// the user's login, role and CSRF token before it sends (http/http_server.h).
#pragma once

#include <cstdint>
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "common/rate_limiter.h"
#include "config/hub_config.h"

namespace hub {

class EventLog;
struct PendingRequest;
namespace security {
class Gatekeeper;
}

class IngestServer {
 public:
  // Binds the endpoint (before returning, so errors surface at start-up). With a gatekeeper
  // the endpoint is a CURVE server and only a publisher's key may publish (`unauthorized`).
  // `internal_endpoint`: the web console's inproc endpoint ("" = none).
  IngestServer(zmq::context_t& context, const HubConfig& config, EventLog& log, const std::string& control_endpoint,
               const std::string& notify_endpoint, const security::Gatekeeper* gate = nullptr,
               const std::string& internal_endpoint = "");
  std::string bound_endpoint() const;
  // Serves until "$TERM" arrives on the control endpoint.
  void run();

 private:
  // Reads one request from `from` (when one is waiting) and stages or answers it; false when
  // none was waiting.
  bool read_request(zmq::socket_t& from, bool internal, std::vector<PendingRequest>& into);

  zmq::context_t& context_;
  const HubConfig& config_;
  EventLog& log_;
  const security::Gatekeeper* gate_;
  zmq::socket_t router_;
  zmq::socket_t internal_;  // the web console's requests (bound only with an internal endpoint)
  bool has_internal_ = false;
  zmq::socket_t control_;
  zmq::socket_t notify_;
  RateLimiter rate_limiter_;  // limits.max_requests_per_second, per routing id
};

}  // namespace hub
