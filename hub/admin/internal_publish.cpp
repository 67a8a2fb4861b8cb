#include "admin/internal_publish.h"

#include "domain/status_json.h"

namespace hub::admin {

nlohmann::json publish_internally(zmq::context_t& context, const std::string& ingest_endpoint,
                                  const std::string& publisher, const nlohmann::json& request, int timeout_ms) {
  zmq::socket_t socket(context, zmq::socket_type::req);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::rcvtimeo, timeout_ms);
  socket.connect(ingest_endpoint);
  socket.send(zmq::buffer(publisher), zmq::send_flags::sndmore);
  socket.send(zmq::buffer(request.dump()), zmq::send_flags::none);
  zmq::message_t answer;
  if (!socket.recv(answer)) return error_reply("hub_unavailable", "ingest did not answer");
  nlohmann::json parsed = nlohmann::json::parse(answer.to_string(), nullptr, false);
  return parsed.is_object() ? parsed : error_reply("hub_unavailable", "ingest answered something that is not JSON");
}

}  // namespace hub::admin
