// HandshakeWatch with real sockets in one process: what a client is told when its handshake
// fails. (The integration tests cover hubctl and the plugin host against a real hubd: a key the
// hub refuses, another hub's key, no keys at all.)
#include "security/handshake_watch.h"

#include <gtest/gtest.h>

#include <chrono>

#include "testing/curve_key_pair.h"

namespace hub::security {
namespace {

using KeyPair = hub::testing::CurveKeyPair;

// Sends one message from `client` to `endpoint` and returns the watch's diagnosis, if any comes
// within 3 s.
std::optional<HandshakeFailure> diagnose(zmq::context_t& context, zmq::socket_t& client, const std::string& endpoint,
                                         HandshakeWatch::Client who) {
  HandshakeWatch watch(context, client, std::move(who));
  client.connect(endpoint);
  client.send(zmq::buffer(std::string("hello")), zmq::send_flags::none);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < deadline) {
    zmq::pollitem_t item{watch.events().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (auto failure = watch.read()) return failure;
  }
  return std::nullopt;
}

TEST(HandshakeWatch, ACurveClientOfAHubWithoutCurveIsToldSo) {
  zmq::context_t context(1);
  zmq::socket_t server(context, zmq::socket_type::router);
  server.set(zmq::sockopt::linger, 0);
  server.bind("tcp://127.0.0.1:*");
  const KeyPair hub, client_keys;
  zmq::socket_t client(context, zmq::socket_type::dealer);
  client.set(zmq::sockopt::linger, 0);
  client.set(zmq::sockopt::curve_serverkey, hub.public_key);
  client.set(zmq::sockopt::curve_publickey, client_keys.public_key);
  client.set(zmq::sockopt::curve_secretkey, client_keys.secret_key);
  const auto failure = diagnose(context, client, server.get(zmq::sockopt::last_endpoint),
                                {true, "admin", client_keys.public_key, "keys/hub.curve.pub"});
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->code, "hub_without_curve") << failure->message;
  EXPECT_NE(failure->message.find("insecure mode"), std::string::npos) << failure->message;
}

TEST(HandshakeWatch, AHandshakeThatSucceedsReportsNothing) {
  zmq::context_t context(1);
  zmq::socket_t server(context, zmq::socket_type::router);
  server.set(zmq::sockopt::linger, 0);
  server.bind("tcp://127.0.0.1:*");
  zmq::socket_t client(context, zmq::socket_type::dealer);
  client.set(zmq::sockopt::linger, 0);
  EXPECT_FALSE(diagnose(context, client, server.get(zmq::sockopt::last_endpoint), {}).has_value());
  zmq::message_t got;
  EXPECT_TRUE(server.recv(got, zmq::recv_flags::dontwait));  // it did get through
}

TEST(HandshakeWatch, ConnectionsClosedMidHandshakeMeanTheWrongHubKeyOnlyWhenTheyRepeat) {
  const HandshakeWatch::Client curve{true, "police-server-1", "PUBLIC", "/etc/hub/hub.curve.pub"};
  EXPECT_FALSE(HandshakeWatch::explain(curve, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, EPIPE, 1).has_value());
  EXPECT_FALSE(HandshakeWatch::explain(curve, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, EPIPE, 2).has_value());
  const auto third = HandshakeWatch::explain(curve, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, EPIPE, 3);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->code, "wrong_hub_key");
  EXPECT_NE(third->message.find("/etc/hub/hub.curve.pub"), std::string::npos) << third->message;
  // Without CURVE, a closed connection says nothing about keys.
  EXPECT_FALSE(HandshakeWatch::explain({}, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, EPIPE, 5).has_value());
  const auto refused = HandshakeWatch::explain(curve, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 400, 0);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, "key_refused");
  EXPECT_NE(refused->message.find("key 'police-server-1' (public key PUBLIC)"), std::string::npos) << refused->message;
}

}  // namespace
}  // namespace hub::security
