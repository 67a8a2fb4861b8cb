#include "security/handshake_watch.h"

#include <atomic>
#include <cstring>

#include <fmt/format.h>

namespace hub::security {
namespace {

constexpr int kEvents = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                        ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
// A connection closed mid-handshake can be bad luck (the hub restarting); three in a row,
// about 100 ms apart as libzmq reconnects, are the hub refusing the handshake.
constexpr int kClosedInARowIsCertain = 3;

std::atomic<std::uint64_t> watches{0};

}  // namespace

std::optional<MonitorEvent> read_monitor_event(zmq::socket_t& monitor) {
  zmq::message_t head, rest;
  if (!monitor.recv(head, zmq::recv_flags::dontwait)) return std::nullopt;
  while (head.more() && monitor.recv(rest, zmq::recv_flags::dontwait) && rest.more()) {
  }
  MonitorEvent e;
  if (head.size() == 6) {
    std::memcpy(&e.event, head.data(), 2);
    std::memcpy(&e.value, static_cast<const char*>(head.data()) + 2, 4);
  }
  return e;
}

HandshakeWatch::HandshakeWatch(zmq::context_t& context, zmq::socket_t& socket, Client client)
    : client_(std::move(client)), socket_(socket.handle()), events_(context, zmq::socket_type::pair) {
  const std::string endpoint = fmt::format("inproc://handshake-watch-{}", ++watches);
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), kEvents) != 0) throw zmq::error_t();
  events_.set(zmq::sockopt::linger, 0);
  events_.connect(endpoint);
}

HandshakeWatch::~HandshakeWatch() { zmq_socket_monitor(socket_, nullptr, 0); }

std::optional<HandshakeFailure> HandshakeWatch::read() {
  std::optional<HandshakeFailure> failure;
  while (const auto e = read_monitor_event(events_)) {
    if (e->event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      closed_in_a_row_ = 0;
      failure.reset();
      continue;
    }
    if (e->event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) ++closed_in_a_row_;
    if (auto f = explain(client_, e->event, e->value, closed_in_a_row_)) failure = std::move(f);
  }
  return failure;
}

std::optional<HandshakeFailure> HandshakeWatch::explain(const Client& client, int event, std::uint32_t value,
                                                        int closed_in_a_row) {
  const std::string key = client.key_name.empty() ? std::string("this client's key")
                                                  : "key '" + client.key_name + "' (public key " + client.public_key + ")";
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
    return HandshakeFailure{
        "key_refused",
        fmt::format("枢纽拒绝了本机的密钥 / the hub refused {} (status {}): it is not in the hub's clients file, or its "
                    "role may not use this endpoint. Ask the hub's administrator to list it with the right role and "
                    "run 'hubctl keys reload' (docs/security.md §3)",
                    key, value)};
  }
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
    if (client.curve)
      return HandshakeFailure{"hub_without_curve",
                              "枢纽未启用 CURVE / the hub does not use CURVE (it runs in insecure mode) but this client "
                              "does: use no keys for it, or turn CURVE on at the hub (docs/security.md §5)"};
    return HandshakeFailure{"hub_requires_curve",
                            "枢纽要求 CURVE 加密 / the hub requires CURVE and this client has no keys: give it the hub's "
                            "hub.curve.pub and a key of its own listed in the hub's clients file (docs/security.md §3)"};
  }
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && client.curve && closed_in_a_row >= kClosedInARowIsCertain) {
    return HandshakeFailure{
        "wrong_hub_key",
        fmt::format("与枢纽的 CURVE 握手失败 / the CURVE handshake failed: the hub closed the connection {} times "
                    "without answering, which is what it does when a client encrypts for another hub public key. "
                    "Check that {} is this hub's hub.curve.pub ('hubctl keys list' on the hub prints it)",
                    closed_in_a_row, client.hub_key_source.empty() ? "the hub key given" : client.hub_key_source)};
  }
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
    return HandshakeFailure{"handshake_failed",
                            fmt::format("与枢纽的握手失败 / the handshake with the hub failed (ZMTP protocol error "
                                        "0x{:08x}): is that endpoint a Chengxin hub of a compatible version?",
                                        value)};
  return std::nullopt;
}

}  // namespace hub::security
