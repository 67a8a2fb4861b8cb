// Test fixture: a real hubd process in a temporary directory, with its own configuration
// (ZeroMQ wildcard ports, the real department plugins, small rosters), and a client that
// talks to it over real ZeroMQ sockets and reads its SQLite files directly.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

namespace hub::test {

struct HubOptions {
  std::vector<std::string> departments{"schools",     "police",   "land",
                                       "finance",     "civil_affairs", "agriculture",
                                       "judicial",    "urban_construction", "fp_association"};
  std::string police_library;  // overrides the police plugin's library when not empty
  std::map<std::string, nlohmann::json> connectors;  // department id → its "connector" config
  std::size_t max_message_bytes = 1 << 20;
  std::size_t max_batch_events = 5000;
};

class HubProcess {
 public:
  explicit HubProcess(HubOptions options = {});
  ~HubProcess();

  void start();           // and wait until ready
  void stop();            // SIGTERM, expect exit code 0
  void kill9();           // SIGKILL
  bool running();

  nlohmann::json ingest(const nlohmann::json& request);  // throws on timeout
  nlohmann::json admin(const nlohmann::json& request);
  std::string ingest_raw(const std::string& bytes);

  // Waits until every department's lag is 0 (or throws after `limit`).
  nlohmann::json wait_for_delivery(std::chrono::seconds limit = std::chrono::seconds(60));

  // SQLite queries straight from the files, for assertions.
  std::int64_t query_int(const std::string& db, const std::string& sql);
  std::vector<std::vector<std::string>> query_rows(const std::string& db, const std::string& sql);

  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/var"; }
  std::string log() const;

 private:
  nlohmann::json request(zmq::socket_t& socket, const std::string& bytes);
  void connect();

  HubOptions options_;
  std::string dir_;
  pid_t pid_ = -1;
  zmq::context_t context_;
  std::optional<zmq::socket_t> ingest_;
  std::optional<zmq::socket_t> admin_;
};

// Events as the family-planning office publishes them.
nlohmann::json household_event(const std::string& id, const std::string& village = "V01");
nlohmann::json commitment_event(const std::string& id);
nlohmann::json status_event(const std::string& id, const std::string& status, const std::string& quarter,
                            const std::string& event_id = "");

}  // namespace hub::test
