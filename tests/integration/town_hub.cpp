#include "integration/town_hub.h"

#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>

#include <httplib.h>

namespace hub::test {

TownHub::TownHub(int households, HubOptions options) : hub_(std::move(options)) {
  // The generator writes the rosters straight into the plugins' data directories.
  const std::string size = households > 0 ? " --households " + std::to_string(households) : "";
  const auto generated = run_command(std::string(HUB_TOWNGEN_PATH) + " --quiet" + size + " --out " + town_dir() +
                                     " --plugin-data " + hub_.data_dir() + "/plugins");
  if (generated.exit_code != 0) throw std::runtime_error("hub-towngen failed: " + generated.output);
  hub_.start();
  for (const char* file : {"households.csv", "commitments.csv", "evaluations-2020Q3.csv", "evaluations-2020Q4.csv"}) {
    const auto imported = run_command(std::string(HUBCTL_PATH) + " --data-dir " + hub_.data_dir() + " --timeout 60000 import " +
                                      town_dir() + "/" + file);
    if (imported.exit_code != 0) throw std::runtime_error(std::string("import ") + file + " failed: " + imported.output);
  }
  hub_.wait_for_delivery(std::chrono::seconds(240));
}

namespace {

std::pair<std::string, int> host_port(const std::string& url) {
  // "http://127.0.0.1:PORT/"
  const auto start = url.find("//") + 2;
  const auto colon = url.rfind(':');
  return {url.substr(start, colon - start), std::stoi(url.substr(colon + 1))};
}

}  // namespace

TownHub::Response TownHub::get(const std::string& path) {
  const auto [host, port] = host_port(hub_.http_url());
  httplib::Client client(host, port);
  client.set_read_timeout(120, 0);
  auto result = client.Get(path.c_str());
  if (!result) throw std::runtime_error("GET " + path + ": " + httplib::to_string(result.error()));
  return {result->status, result->body, result->get_header_value("Content-Type")};
}

TownHub::Response TownHub::post(const std::string& path, const std::string& authorization, const std::string& body) {
  const auto [host, port] = host_port(hub_.http_url());
  httplib::Client client(host, port);
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  auto result = client.Post(path.c_str(), headers, body, "application/json");
  if (!result) throw std::runtime_error("POST " + path + ": " + httplib::to_string(result.error()));
  return {result->status, result->body, result->get_header_value("Content-Type")};
}

nlohmann::json TownHub::get_json(const std::string& path) {
  const Response r = get(path);
  if (r.status != 200) throw std::runtime_error("GET " + path + " → " + std::to_string(r.status) + ": " + r.body);
  return nlohmann::json::parse(r.body);
}

}  // namespace hub::test
