// The ZAP handler itself, with real CURVE sockets in one process: why it must exist (libzmq
// lets any client key in without one), that it refuses an unknown key where the bare socket
// accepted it, and that a context can have only one (so hubd cannot start with a second).
#include "security/gatekeeper.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "store/sqlite/chain_keeper.h"
#include "store/sqlite/database.h"
#include "store/sqlite/sqlite_audit_log.h"
#include "testing/curve_key_pair.h"
#include "testing/temp_dir.h"

namespace hub::security {
namespace {

using KeyPair = hub::testing::CurveKeyPair;

// Does a DEALER with `client` get an answer from `server` (a ROUTER that echoes)?
bool answered(zmq::context_t& context, zmq::socket_t& server, const KeyPair& server_keys, const KeyPair& client) {
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::curve_serverkey, server_keys.public_key);
  dealer.set(zmq::sockopt::curve_publickey, client.public_key);
  dealer.set(zmq::sockopt::curve_secretkey, client.secret_key);
  dealer.connect(server.get(zmq::sockopt::last_endpoint));
  dealer.send(zmq::buffer(std::string("hello")), zmq::send_flags::none);
  zmq::pollitem_t item{server.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(1500)) == 0) return false;
  std::vector<zmq::message_t> frames;
  do {
    frames.emplace_back();
    (void)server.recv(frames.back());
  } while (frames.back().more());
  return true;
}

class GatekeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.file("clients.json"))
        << nlohmann::json{{"clients", {{{"name", "publisher"}, {"role", "publisher"}, {"public_key", listed_.public_key}}}}}
               .dump();
  }
  // A ROUTER on a free loopback port, secured by `gate` for `domain`.
  static zmq::socket_t secured_router(zmq::context_t& context, const Gatekeeper& gate, const std::string& domain) {
    zmq::socket_t server(context, zmq::socket_type::router);
    server.set(zmq::sockopt::linger, 0);
    gate.secure(server, domain);
    server.bind("tcp://127.0.0.1:*");
    return server;
  }

  hub::testing::TempDir dir_;
  KeyPair server_, listed_, unknown_;
};

TEST_F(GatekeeperTest, WithoutAHandlerLibzmqLetsAnyKeyInWithOneOnlyListedKeys) {
  {
    // The pitfall: a CURVE server with no ZAP handler in its context accepts an unknown key.
    zmq::context_t bare(1);
    zmq::socket_t server(bare, zmq::socket_type::router);
    server.set(zmq::sockopt::linger, 0);
    server.set(zmq::sockopt::curve_server, 1);
    server.set(zmq::sockopt::curve_secretkey, server_.secret_key);
    server.bind("tcp://127.0.0.1:*");
    EXPECT_TRUE(answered(bare, server, server_, unknown_));
  }
  zmq::context_t context(1);
  audit::AuditTrail audit(store::sqlite_audit_log_opener(dir_.file("audit.db")), dir_.file("audit.db"));
  Gatekeeper gate(context, server_.secret_key, dir_.file("clients.json"), {}, audit);
  zmq::socket_t server = secured_router(context, gate, "ingest");
  EXPECT_FALSE(answered(context, server, server_, unknown_));
  EXPECT_TRUE(answered(context, server, server_, listed_));
  const auto seen = gate.describe();
  EXPECT_GE(seen["handshakes"]["refused"].get<int>(), 1) << seen.dump();
  EXPECT_GE(seen["handshakes"]["accepted"].get<int>(), 1) << seen.dump();
}

// libzmq refuses some handshakes without asking the ZAP handler: a client without CURVE, and
// one that encrypts for another server key. The gatekeeper sees them on the socket's monitor.
TEST_F(GatekeeperTest, HandshakesLibzmqRefusesItselfAreCountedAndAuditedToo) {
  zmq::context_t context(1);
  audit::AuditTrail audit(store::sqlite_audit_log_opener(dir_.file("audit.db")), dir_.file("audit.db"));
  Gatekeeper gate(context, server_.secret_key, dir_.file("clients.json"), {}, audit);
  zmq::socket_t server = secured_router(context, gate, "admin");
  const KeyPair other_server;
  EXPECT_FALSE(answered(context, server, other_server, listed_));  // a listed key, the wrong hub key
  {
    zmq::socket_t null_client(context, zmq::socket_type::dealer);
    null_client.set(zmq::sockopt::linger, 0);
    null_client.connect(server.get(zmq::sockopt::last_endpoint));
    null_client.send(zmq::buffer(std::string("hello")), zmq::send_flags::none);
    zmq::pollitem_t item{server.handle(), 0, ZMQ_POLLIN, 0};
    EXPECT_EQ(zmq::poll(&item, 1, std::chrono::milliseconds(500)), 0);
  }
  // The monitor's events arrive asynchronously.
  nlohmann::json reasons;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    reasons = gate.describe()["handshakes"]["refused_by_reason"];
    if (reasons["wrong_hub_key"] >= 1 && reasons["not_curve"].get<int>() + reasons["incomplete"].get<int>() >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_GE(reasons["wrong_hub_key"].get<int>(), 1) << reasons.dump();
  EXPECT_GE(reasons["not_curve"].get<int>() + reasons["incomplete"].get<int>(), 1) << reasons.dump();
  EXPECT_EQ(reasons["unknown_key"], 0) << reasons.dump();
  const auto described = gate.describe();
  int sum = 0;
  for (const auto& [reason, n] : reasons.items()) sum += n.get<int>();
  EXPECT_EQ(described["handshakes"]["refused"], sum) << described.dump();
  EXPECT_EQ(described["handshakes"]["accepted"], 0) << described.dump();

  // In the audit log, naming the endpoint and why; the chain verifies.
  store::Database db(dir_.file("audit.db"), store::Database::Mode::kReadOnly);
  store::Statement rows(db, "SELECT kind, subject, detail FROM audit ORDER BY seq");
  int wrong_key = 0, no_curve = 0;
  while (rows.step()) {
    EXPECT_EQ(rows.column_text(0), "handshake_refused");
    EXPECT_EQ(rows.column_text(1), "admin");
    const std::string detail = rows.column_text(2);
    if (detail.find("another hub public key") != std::string::npos) ++wrong_key;
    if (detail.find("does not use CURVE") != std::string::npos ||
        detail.find("closed during the handshake") != std::string::npos)
      ++no_curve;
  }
  EXPECT_GE(wrong_key, 1);
  EXPECT_GE(no_curve, 1);
  EXPECT_TRUE(store::verify_audit_log(dir_.file("audit.db")).ok);
}

TEST_F(GatekeeperTest, AContextHasOnlyOneHandlerAndAnInvalidClientsFileStopsItsStart) {
  zmq::context_t context(1);
  audit::AuditTrail audit(store::sqlite_audit_log_opener(dir_.file("audit.db")), dir_.file("audit.db"));
  Gatekeeper gate(context, server_.secret_key, dir_.file("clients.json"), {}, audit);
  EXPECT_THROW(Gatekeeper(context, server_.secret_key, dir_.file("clients.json"), {}, audit), zmq::error_t);
  zmq::context_t other(1);
  std::ofstream(dir_.file("bad.json")) << R"({"clients":[{"name":"x","role":"department:police","public_key":")"
                                       << listed_.public_key << "\"}]}";
  try {
    Gatekeeper bad(other, server_.secret_key, dir_.file("bad.json"), {}, audit);
    FAIL() << "an invalid clients file was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("clients[0].role"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hub::security
