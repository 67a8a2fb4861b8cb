// The web console's accounts (issue 19): who may log in to the dashboard, with which role, and
// the Argon2id hash of each password. Kept in a users file beside the CURVE clients file
// (KEYS_DIR/users.json unless security.users_file says otherwise), so that it works the same
// with either storage backend, is backed up with the keys, and is managed like them: `hubctl
// users` writes it atomically (a temporary file, fsync, rename; mode 0600), hubd reads it again
// whenever it changes (http/web_access.h).
//
//   {"users": [
//     {"name": "wang.fang", "role": "clerk", "villages": ["V01", "V02"], "password_hash": "$argon2id$…"},
//     {"name": "zhao.lei",  "role": "supervisor", "password_hash": "…"},
//     {"name": "police-1",  "role": "department", "department": "police", "password_hash": "…"},
//     {"name": "admin",     "role": "admin", "password_hash": "…", "disabled": true}]}
//
// Roles: "clerk" (publishing and importing; "villages" limits which households it may see and
// touch, empty = all), "supervisor" (reads everything), "department" (its own department's data
// only, "department" names it), "admin" (plugin lifecycle, parked events, users).
//
// Errors are values with a stable code and the field, e.g. {"users_invalid_field",
// "users[2].role", "…"}. Thread-safe: plain functions over values; hashing may be slow (Argon2id,
// libsodium's interactive limits: about 64 MiB and a tenth of a second per hash).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace hub::security {

enum class UserRole { kClerk, kSupervisor, kDepartment, kAdmin };
// "clerk", "supervisor", "department", "admin".
const char* role_name(UserRole role);

struct User {
  std::string name;  // 1-64 of A-Z a-z 0-9 . _ -
  UserRole role = UserRole::kSupervisor;
  std::string department;              // kDepartment: the department's id
  std::vector<std::string> villages;   // kClerk: only these villages (empty = all)
  std::string password_hash;           // crypto_pwhash_str's text ("$argon2id$…")
  bool disabled = false;
  std::int64_t changed_at_ms = 0;      // last add / passwd / disable, for `hubctl users list`
};

struct UsersError {
  std::string code;   // stable: users_invalid_json, users_missing_field, users_invalid_field,
                      // users_duplicate_name, users_unknown_department, users_unreadable
  std::string field;  // e.g. "users[2].role"; "" for the whole file
  std::string message;
  std::string to_string() const { return (field.empty() ? "" : field + ": ") + message + " [" + code + "]"; }
};

// True for a valid user name (as above).
bool is_valid_user_name(const std::string& name);

// Argon2id hash of `password` in crypto_pwhash_str's text form (salt and limits inside).
// Throws std::runtime_error when libsodium cannot (out of memory).
std::string hash_password(const std::string& password);
// True when `password` matches `hash`; false for a wrong password and for a malformed hash.
bool verify_password(const std::string& hash, const std::string& password);
// Passwords shorter than this are refused by hubctl users (password_too_short).
inline constexpr std::size_t kMinPasswordLength = 10;

// `departments`: the ids a department user may name (the hub's plugins); empty = any valid id
// (hubctl without the hub's configuration).
std::variant<std::vector<User>, UsersError> parse_users(const std::string& json_text,
                                                        const std::set<std::string>& departments);
// A missing file is an empty list (no accounts yet).
std::variant<std::vector<User>, UsersError> load_users_file(const std::string& path,
                                                            const std::set<std::string>& departments);
std::string users_to_json(const std::vector<User>& users);
// Writes the file atomically (PATH.tmp, fsync, rename, fsync of the directory), mode 0600; run as
// root, owned by the owner of its directory (the keys directory belongs to hubd's user).
// Returns "" or what went wrong, naming the file.
std::string write_users_file(const std::string& path, const std::vector<User>& users);

}  // namespace hub::security
