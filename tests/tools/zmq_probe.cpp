// hub-test-probe: a client of hubd's endpoints in a process of its own, for the security tests
// (issue 5: "run from a separate client process"). It connects once, with the NULL mechanism
// or with CURVE and the given key, sends one request (or, with --socket sub, waits for one
// message of the live feed), watches the handshake on a socket monitor, and prints one JSON
// line:
//
//   {"handshake": "succeeded" | "failed_auth" | "failed_protocol" | "failed" | "none",
//    "auth_status": 400,            // the ZAP status a refused handshake reported
//    "reply": {…} | "<text>" | null}
//
// Usage: hub-test-probe --endpoint E [--server-key Z85 --key NAME.curve.key]
//                       [--socket dealer|sub] [--send JSON] [--timeout MS]
// Exit code 0 when it ran (whatever happened on the wire), 2 on a usage error.
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

namespace {

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line.substr(0, 40);
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint, server_key, key_file, kind = "dealer", request;
  int timeout_ms = 3000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--endpoint") endpoint = v;
    else if (a == "--server-key") server_key = v;
    else if (a == "--key") key_file = v;
    else if (a == "--socket") kind = v;
    else if (a == "--send") request = v;
    else if (a == "--timeout") timeout_ms = std::stoi(v);
    else {
      std::cerr << "hub-test-probe: unknown option " << a << "\n";
      return 2;
    }
  }
  if (endpoint.empty() || (kind != "dealer" && kind != "sub") || (server_key.empty() != key_file.empty())) {
    std::cerr << "usage: hub-test-probe --endpoint E [--server-key Z85 --key FILE] [--socket dealer|sub] "
                 "[--send JSON] [--timeout MS]\n";
    return 2;
  }
  zmq::context_t context(1);
  zmq::socket_t socket(context, kind == "sub" ? zmq::socket_type::sub : zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  if (!key_file.empty()) {
    const std::string secret = read_line(key_file);
    char public_key[41];
    if (zmq_curve_public(public_key, secret.c_str()) != 0) {
      std::cerr << "hub-test-probe: " << key_file << " is not a CURVE secret key\n";
      return 2;
    }
    socket.set(zmq::sockopt::curve_serverkey, server_key);
    socket.set(zmq::sockopt::curve_publickey, std::string(public_key));
    socket.set(zmq::sockopt::curve_secretkey, secret);
  }
  if (kind == "sub") socket.set(zmq::sockopt::subscribe, "");
  zmq_socket_monitor(socket.handle(), "inproc://probe-monitor",
                     ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                         ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
  zmq::socket_t monitor(context, zmq::socket_type::pair);
  monitor.connect("inproc://probe-monitor");
  socket.connect(endpoint);
  if (kind == "dealer" && !request.empty()) socket.send(zmq::buffer(request), zmq::send_flags::none);

  nlohmann::json out{{"handshake", "none"}, {"reply", nullptr}};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}, {monitor.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 2, std::chrono::milliseconds(50));
    if (items[1].revents & ZMQ_POLLIN) {
      zmq::message_t event, address;
      (void)monitor.recv(event);
      (void)monitor.recv(address);
      std::uint16_t id = 0;
      std::uint32_t value = 0;
      std::memcpy(&id, event.data(), sizeof id);
      std::memcpy(&value, static_cast<const char*>(event.data()) + 2, sizeof value);
      if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        out["handshake"] = "succeeded";
      } else if (out["handshake"] != "succeeded") {
        out["handshake"] = id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH       ? "failed_auth"
                           : id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "failed_protocol"
                                                                        : "failed";
        if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) out["auth_status"] = value;
        // A refused client retries forever; one refusal is the answer.
        done = true;
      }
      if (kind == "dealer" && request.empty() && id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) done = true;
    }
    if (items[0].revents & ZMQ_POLLIN) {
      zmq::message_t reply;
      (void)socket.recv(reply);
      auto parsed = nlohmann::json::parse(reply.to_string(), nullptr, false);
      out["reply"] = parsed.is_discarded() ? nlohmann::json(reply.to_string()) : parsed;
      done = true;
    }
  }
  std::cout << out.dump() << std::endl;
  return 0;
}
