// libFuzzer target: the clients file (security/keys.h, parse_clients), the list of CURVE keys the
// Gatekeeper lets in and the role each holds (docs/security.md §3.3), on arbitrary text. The
// hub's configured departments are "police" and "schools".
//
// Properties checked on every input:
//  - nothing throws;
//  - a refused file says what is wrong, and names the entry ("clients[2].role") unless the
//    text is not JSON at all;
//  - a file that loads lets in only real keys (40 Z85 characters that decode to 32 bytes and
//    encode back to the same text), each once, under a unique valid name, with roles that are
//    publisher, admin, observer or department:<a configured department>;
//  - a loaded list written back as a clients file loads to the same list.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>
#include <zmq.h>

#include "domain/wire_event.h"
#include "fuzz_check.h"
#include "security/keys.h"

namespace {

using nlohmann::json;

const std::set<std::string> kDepartments{"police", "schools"};

bool is_real_key(const std::string& text) {
  if (text.size() != 40 || text.find('\0') != std::string::npos) return false;
  std::uint8_t bytes[32];
  char again[41];
  return zmq_z85_decode(bytes, text.c_str()) != nullptr && zmq_z85_encode(again, bytes, 32) != nullptr &&
         text == again;
}

bool is_known_role(const std::string& role) {
  if (role == "publisher" || role == "admin" || role == "observer") return true;
  return role.rfind("department:", 0) == 0 && kDepartments.count(role.substr(11)) == 1;
}

json written_back(const hub::security::KeyRing& ring) {
  json clients = json::array();
  for (const auto& c : ring.clients()) clients.push_back({{"name", c.name}, {"role", c.roles}, {"public_key", c.public_key}});
  return {{"clients", clients}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = hub::security::parse_clients(text, kDepartments);
  if (auto* e = std::get_if<hub::ConfigError>(&parsed)) {
    FUZZ_CHECK(!e->message.empty(), "a refused clients file says what is wrong");
    FUZZ_CHECK(!e->key.empty() || json::parse(text, nullptr, false).is_discarded(),
               "a refusal names the entry unless the file is not JSON");
    return 0;
  }
  const auto& ring = std::get<hub::security::KeyRing>(parsed);
  std::set<std::string> names, keys;
  for (const auto& c : ring.clients()) {
    FUZZ_CHECK(is_real_key(c.public_key), "only real CURVE keys are let in");
    FUZZ_CHECK(keys.insert(c.public_key).second && ring.find(c.public_key) == &c, "each key once, and found");
    FUZZ_CHECK(hub::is_valid_id(c.name) && c.name.size() <= 64 && names.insert(c.name).second, "a unique valid name");
    FUZZ_CHECK(!c.roles.empty(), "at least one role");
    for (const auto& role : c.roles) FUZZ_CHECK(is_known_role(role), "only known roles");
  }
  const json back = written_back(ring);
  auto again = hub::security::parse_clients(back.dump(), kDepartments);
  FUZZ_CHECK(std::holds_alternative<hub::security::KeyRing>(again), "a loaded list written back loads");
  FUZZ_CHECK(written_back(std::get<hub::security::KeyRing>(again)) == back, "and is the same list");
  return 0;
}
