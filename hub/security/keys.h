// CURVE keys and the hub's list of clients (issue 5; docs/security.md).
//
// Key files are the ones `hubctl keygen NAME` writes: NAME.curve.pub and NAME.curve.key, each
// one line of 40 Z85 characters (a 32-byte key). Secret files are created with mode 0600 and
// never overwritten.
//
// The clients file (DATA_DIR/keys/clients.json unless security.clients_file says otherwise)
// lists every key the hub lets in, with its role:
//
//   {"clients": [
//     {"name": "admin",           "role": "admin",             "public_key": "<40 Z85>"},
//     {"name": "fpo-office",      "role": "publisher",         "public_key": "…"},
//     {"name": "police-server-1", "role": "department:police", "public_key": "…"},
//     {"name": "supervision",     "role": "observer",          "public_key": "…"}]}
//
// "role" is one string or a list (a host serving two departments holds both of their roles).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <unordered_map>
#include <variant>
#include <vector>

#include "config/hub_config.h"

namespace hub::security {

// True for 40 Z85 characters, the text form of a 32-byte CURVE key.
bool is_z85_key(const std::string& text);

// Reads a key file (one line of 40 Z85 characters, as hubctl keygen writes it). Throws
// std::runtime_error naming the file and what is wrong with it; the key itself never appears in
// the message.
std::string read_key_file(const std::string& path);

// Overwrites a secret held in a string (sodium_memzero) and empties it.
void wipe(std::string& secret);

// The public key belonging to a secret key (both Z85).
std::string public_key_of(const std::string& secret_z85);

// Creates `path` with `text` and `mode` (O_EXCL: an existing file is never overwritten), fsynced.
// On failure returns false and says why in `error`.
bool write_new_file(const std::string& path, const std::string& text, mode_t mode, std::string* error);

// Writes DIR/NAME.curve.pub (0644) and DIR/NAME.curve.key (0600) from a fresh key pair and
// returns the public key. Throws std::runtime_error when a file exists or cannot be written.
std::string generate_curve_key_pair(const std::string& dir, const std::string& name);

struct Client {
  std::string name;
  std::string public_key;          // Z85
  std::vector<std::string> roles;  // "publisher", "admin", "observer", "department:<id>"
  bool has_role(std::string_view role) const;
};

class KeyRing {
 public:
  KeyRing() = default;
  explicit KeyRing(std::vector<Client> clients);
  const Client* find(const std::string& public_key) const;
  const std::vector<Client>& clients() const { return clients_; }

 private:
  std::vector<Client> clients_;
  std::unordered_map<std::string, std::size_t> by_key_;
};

// Parses a clients file. `departments` are the ids a "department:<id>" role may name (the
// hub's configured plugins). Errors name the entry, e.g. "clients[2].role".
std::variant<KeyRing, ConfigError> parse_clients(const std::string& json_text, const std::set<std::string>& departments);
std::variant<KeyRing, ConfigError> load_clients_file(const std::string& path, const std::set<std::string>& departments);

// First run with CURVE on: creates `keys_dir` (0700) and, when missing, the hub's own key pair
// (hub.curve.key / hub.curve.pub) and — when the clients file is missing — an `admin` and a
// `publisher` key pair with a clients file listing them, so that hubctl works at once.
// Returns one line per file created, for the log. Throws std::runtime_error on failure.
std::vector<std::string> prepare_keys(const std::string& keys_dir, const std::string& clients_file);

}  // namespace hub::security
