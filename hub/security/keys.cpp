#include "security/keys.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sodium.h>
#include <zmq.h>

#include "domain/wire_event.h"

namespace hub::security {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

ConfigError error_at(const std::string& key, const std::string& message) { return ConfigError{key, message}; }

}  // namespace

bool is_z85_key(const std::string& text) {
  // zmq_z85_decode reads a C string: a NUL inside would end the key early (found by fuzz_clients).
  if (text.size() != 40 || text.find('\0') != std::string::npos) return false;
  unsigned char bytes[32];
  return zmq_z85_decode(bytes, text.c_str()) != nullptr;
}

std::string read_key_file(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw std::runtime_error("key file " + path + " does not exist");
  if (!fs::is_regular_file(status) || fs::file_size(path, ec) > 4096)
    throw std::runtime_error("key file " + path + " is not a key file (one line of 40 Z85 characters)");
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (!is_z85_key(line))
    throw std::runtime_error("key file " + path + " does not hold a CURVE key (one line of 40 Z85 characters, as "
                             "'hubctl keygen' writes it)");
  return line;
}

void wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
  secret.clear();
}

std::string public_key_of(const std::string& secret_z85) {
  char out[41];
  if (zmq_curve_public(out, secret_z85.c_str()) != 0) throw std::runtime_error("not a CURVE secret key");
  return out;
}

bool write_new_file(const std::string& path, const std::string& text, mode_t mode, std::string* error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    *error = "cannot create " + path + ": " + std::strerror(errno) +
             (errno == EEXIST ? " (a key is never overwritten: remove or rename it first)" : "");
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  if (!ok) *error = "cannot write " + path + ": " + std::strerror(errno);
  ::close(fd);
  return ok;
}

std::string generate_curve_key_pair(const std::string& dir, const std::string& name) {
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0)
    throw std::runtime_error("this libzmq cannot make CURVE keys (built without libsodium?)");
  const std::string base = (fs::path(dir) / name).string();
  std::string error;
  const bool ok = write_new_file(base + ".curve.key", std::string(secret_key) + "\n", 0600, &error) &&
                  write_new_file(base + ".curve.pub", std::string(public_key) + "\n", 0644, &error);
  sodium_memzero(secret_key, sizeof secret_key);
  if (!ok) throw std::runtime_error(error);
  return public_key;
}

bool Client::has_role(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

KeyRing::KeyRing(std::vector<Client> clients) : clients_(std::move(clients)) {
  for (std::size_t i = 0; i < clients_.size(); ++i) by_key_.emplace(clients_[i].public_key, i);
}

const Client* KeyRing::find(const std::string& public_key) const {
  auto it = by_key_.find(public_key);
  return it == by_key_.end() ? nullptr : &clients_[it->second];
}

std::variant<KeyRing, ConfigError> parse_clients(const std::string& json_text, const std::set<std::string>& departments) {
  const json root = json::parse(json_text, nullptr, false);
  if (root.is_discarded()) return error_at("", "the clients file is not valid JSON");
  if (!root.is_object() || !root.contains("clients") || !root["clients"].is_array())
    return error_at("clients", "required: {\"clients\": [{\"name\": …, \"role\": …, \"public_key\": …}, …]}");
  for (auto it = root.begin(); it != root.end(); ++it)
    if (it.key() != "clients") return error_at(it.key(), "unknown key (the file holds only \"clients\")");
  std::vector<Client> clients;
  std::set<std::string> names, keys;
  const json& list = root["clients"];
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = "clients[" + std::to_string(i) + "]";
    const json& entry = list[i];
    if (!entry.is_object()) return error_at(where, "must be an object with name, role and public_key");
    for (auto it = entry.begin(); it != entry.end(); ++it)
      if (it.key() != "name" && it.key() != "role" && it.key() != "public_key" && it.key() != "comment")
        return error_at(where + "." + it.key(), "unknown key (allowed: name, role, public_key, comment)");
    Client c;
    if (!entry.contains("name") || !entry["name"].is_string() || entry["name"].get<std::string>().empty() ||
        entry["name"].get<std::string>().size() > 64 || !is_valid_id(entry["name"].get<std::string>()))
      return error_at(where + ".name", "required: the key's name (letters, digits, '-', '_'; at most 64)");
    c.name = entry["name"];
    if (!names.insert(c.name).second) return error_at(where + ".name", "'" + c.name + "' is listed twice");
    if (!entry.contains("public_key") || !entry["public_key"].is_string() ||
        !is_z85_key(entry["public_key"].get<std::string>()))
      return error_at(where + ".public_key",
                      "required: the client's CURVE public key, 40 Z85 characters (the NAME.curve.pub file from "
                      "'hubctl keygen NAME')");
    c.public_key = entry["public_key"];
    if (!keys.insert(c.public_key).second)
      return error_at(where + ".public_key", "the same key is listed twice (give each client its own key)");
    std::vector<std::string> roles;
    if (entry.contains("role") && entry["role"].is_string()) {
      roles.push_back(entry["role"]);
    } else if (entry.contains("role") && entry["role"].is_array() && !entry["role"].empty()) {
      for (const auto& r : entry["role"]) {
        if (!r.is_string()) return error_at(where + ".role", "must be a role or a list of roles (strings)");
        roles.push_back(r);
      }
    } else {
      return error_at(where + ".role",
                      "required: publisher, admin, observer or department:<id> (or a list of them)");
    }
    for (const auto& role : roles) {
      if (role == "publisher" || role == "admin" || role == "observer") continue;
      if (role.rfind("department:", 0) == 0) {
        const std::string id = role.substr(11);
        if (departments.count(id)) continue;
        return error_at(where + ".role", "department '" + id + "' is not one of this hub's configured plugins");
      }
      return error_at(where + ".role", "unknown role '" + role +
                                           "' (publisher, admin, observer or department:<id>)");
    }
    c.roles = std::move(roles);
    clients.push_back(std::move(c));
  }
  return KeyRing(std::move(clients));
}

std::variant<KeyRing, ConfigError> load_clients_file(const std::string& path, const std::set<std::string>& departments) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return error_at("", "cannot read the clients file " + path + ": no such file");
  if (fs::file_size(path, ec) > (16u << 20)) return error_at("", "the clients file " + path + " is larger than 16 MiB");
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto result = parse_clients(text, departments);
  if (auto* e = std::get_if<ConfigError>(&result)) e->message += " (in " + path + ")";
  return result;
}

std::vector<std::string> prepare_keys(const std::string& keys_dir, const std::string& clients_file) {
  std::vector<std::string> created;
  std::error_code ec;
  if (!fs::exists(keys_dir, ec)) {
    fs::create_directories(keys_dir, ec);
    if (ec) throw std::runtime_error("cannot create the keys directory " + keys_dir + ": " + ec.message());
    fs::permissions(keys_dir, fs::perms::owner_all, ec);
    created.push_back(keys_dir + "/ (mode 0700)");
  }
  const fs::path dir(keys_dir);
  if (!fs::exists(dir / "hub.curve.key")) {
    if (fs::exists(dir / "hub.curve.pub"))
      throw std::runtime_error((dir / "hub.curve.pub").string() + " exists without hub.curve.key: restore the secret "
                               "key, or remove both to make a new pair (every client then needs the new hub.curve.pub)");
    const std::string key = generate_curve_key_pair(keys_dir, "hub");
    created.push_back((dir / "hub.curve.key").string() + " and hub.curve.pub (the hub's CURVE key; public key " + key + ")");
  }
  if (!fs::exists(clients_file)) {
    json clients = json::array();
    for (const char* name : {"admin", "publisher"}) {
      const bool existing = fs::exists(dir / (std::string(name) + ".curve.pub"));
      const std::string key = existing ? read_key_file((dir / (std::string(name) + ".curve.pub")).string())
                                       : generate_curve_key_pair(keys_dir, name);
      clients.push_back({{"name", name}, {"role", name}, {"public_key", key}});
      if (!existing) created.push_back((dir / name).string() + ".curve.key and .curve.pub (role " + name + ")");
    }
    std::string error;
    if (!write_new_file(clients_file, json{{"clients", clients}}.dump(2) + "\n", 0644, &error))
      throw std::runtime_error(error);
    created.push_back(clients_file + " (the keys the hub lets in: admin, publisher)");
  }
  return created;
}

}  // namespace hub::security
