// Test fixture: a real hubd loaded with a small generated town — hub-towngen's files imported
// with hubctl, the generator's rosters given to the plugins, every department at lag 0 — and
// a plain HTTP client for its dashboard and API.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "integration/hub_process.h"

namespace hub::test {

class TownHub {
 public:
  // households 0: the reference town, hub-towngen's defaults (17,090 households, 14 villages).
  explicit TownHub(int households = 0, HubOptions options = {});

  HubProcess& hub() { return hub_; }
  std::string town_dir() const { return hub_.dir() + "/town"; }

  // GET/POST over real HTTP to the hub's dashboard server.
  struct Response {
    int status = 0;
    std::string body;
    std::string content_type;
  };
  Response get(const std::string& path);
  Response post(const std::string& path, const std::string& authorization = "", const std::string& body = "{}");
  nlohmann::json get_json(const std::string& path);  // expects 200

 private:
  HubProcess hub_;
};

}  // namespace hub::test
