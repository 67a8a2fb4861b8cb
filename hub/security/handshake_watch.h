// HandshakeWatch: tells a client of hubd (hubctl, a plugin host) why its handshake failed, in
// words the person who must fix it can act on.
//
// Without it a refused client only sees silence: libzmq retries, and the request times out as if
// the hub were down. The watch is a socket monitor on the client's socket; read() turns its
// handshake events into a diagnosis once the failure is certain:
//   * the hub refused the key (ZAP status 400: not in its clients file, or not allowed there);
//   * the hub closed the connection during the CURVE handshake, three times in a row: what it
//     does when the client encrypts for another hub's public key;
//   * one side uses CURVE and the other does not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <zmq.hpp>

namespace hub::security {

// One event of a socket monitor (zmq_socket_monitor(3)): two frames, the event number and its
// value (6 bytes), then the endpoint.
struct MonitorEvent {
  std::uint16_t event = 0;  // 0 when the frame was not an event
  std::uint32_t value = 0;
};
// The next event waiting on a monitor's PAIR socket, without blocking; nothing when none waits.
std::optional<MonitorEvent> read_monitor_event(zmq::socket_t& monitor);

struct HandshakeFailure {
  std::string code;     // "key_refused", "wrong_hub_key", "hub_requires_curve", "hub_without_curve", "handshake_failed"
  std::string message;  // Chinese and English: what happened and what to do
};

class HandshakeWatch {
 public:
  // Who is connecting, for the messages.
  struct Client {
    bool curve = false;
    std::string key_name;        // e.g. "admin", "police-server-1"
    std::string public_key;      // Z85
    std::string hub_key_source;  // where the hub's public key came from (a file, or "host.json")
  };

  // Watches `socket`; call before it connects. `socket` must outlive the watch.
  HandshakeWatch(zmq::context_t& context, zmq::socket_t& socket, Client client);
  // Stops the monitor before closing the end that reads it. libzmq's I/O thread sends monitor
  // events with a blocking send on a PAIR socket: an event with no reader left (a connection
  // that ends while `socket` lingers) would block that thread for good, and with it every
  // socket of the context (a plugin host behind a half-closed link never reconnected).
  ~HandshakeWatch();
  HandshakeWatch(const HandshakeWatch&) = delete;
  HandshakeWatch& operator=(const HandshakeWatch&) = delete;

  // The monitor's socket, to poll for ZMQ_POLLIN beside the client's own.
  zmq::socket_t& events() { return events_; }
  // Reads the events waiting (never blocks). A failure is returned once, when it is certain; a
  // handshake that succeeds clears what was seen before.
  std::optional<HandshakeFailure> read();

  // The diagnosis of one monitor event (exposed for tests); `closed_in_a_row` counts the
  // connections the hub closed during the handshake so far, this one included.
  static std::optional<HandshakeFailure> explain(const Client& client, int event, std::uint32_t value,
                                                 int closed_in_a_row);

 private:
  Client client_;
  void* socket_;  // the watched socket's handle
  zmq::socket_t events_;
  int closed_in_a_row_ = 0;
};

}  // namespace hub::security
