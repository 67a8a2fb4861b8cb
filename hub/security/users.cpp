#include "security/users.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "domain/wire_event.h"

namespace hub::security {
namespace {

using nlohmann::json;

void init_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

struct Invalid {
  UsersError error;
};

[[noreturn]] void fail(std::string code, std::string field, std::string message) {
  throw Invalid{{std::move(code), std::move(field), std::move(message)}};
}

std::string text_field(const json& entry, const std::string& where, const char* key, bool required) {
  const auto it = entry.find(key);
  if (it == entry.end()) {
    if (required) fail("users_missing_field", where + key, std::string("is missing / 缺少字段 ") + key);
    return {};
  }
  if (!it->is_string()) fail("users_invalid_field", where + key, "must be a string / 须为字符串");
  return it->get<std::string>();
}

}  // namespace

const char* role_name(UserRole role) {
  switch (role) {
    case UserRole::kClerk: return "clerk";
    case UserRole::kSupervisor: return "supervisor";
    case UserRole::kDepartment: return "department";
    case UserRole::kAdmin: return "admin";
  }
  return "?";
}

bool is_valid_user_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

std::string hash_password(const std::string& password) {
  init_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw std::runtime_error("cannot hash the password (out of memory) / 内存不足，无法计算口令散列");
  return out;
}

bool verify_password(const std::string& hash, const std::string& password) {
  init_sodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::variant<std::vector<User>, UsersError> parse_users(const std::string& json_text,
                                                        const std::set<std::string>& departments) {
  const json root = json::parse(json_text, nullptr, false);
  if (root.is_discarded())
    return UsersError{"users_invalid_json", "", "the users file is not JSON / 用户文件不是有效的 JSON"};
  try {
    if (!root.is_object() || !root.contains("users") || !root["users"].is_array())
      fail("users_invalid_field", "users", "the file must be {\"users\": [...]} / 文件须为 {\"users\": [...]}");
    for (const auto& [key, value] : root.items())
      if (key != "users") fail("users_invalid_field", key, "unknown key; the file holds \"users\" only / 未知字段");
    std::vector<User> users;
    std::set<std::string> names;
    const json& list = root["users"];
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = "users[" + std::to_string(i) + "].";
      const json& entry = list[i];
      if (!entry.is_object()) fail("users_invalid_field", "users[" + std::to_string(i) + "]", "must be an object");
      for (const auto& [key, value] : entry.items())
        if (key != "name" && key != "role" && key != "department" && key != "villages" && key != "password_hash" &&
            key != "disabled" && key != "changed_at_ms")
          fail("users_invalid_field", where + key,
               "unknown key; allowed: name, role, department, villages, password_hash, disabled, changed_at_ms / 未知字段");
      User user;
      user.name = text_field(entry, where, "name", true);
      if (!is_valid_user_name(user.name))
        fail("users_invalid_field", where + "name",
             "must be 1-64 letters, digits, '.', '_' or '-' / 用户名须为 1-64 个字母、数字或 . _ -");
      if (!names.insert(user.name).second)
        fail("users_duplicate_name", where + "name", "'" + user.name + "' is listed twice / 用户名重复");
      const std::string role = text_field(entry, where, "role", true);
      if (role == "clerk") user.role = UserRole::kClerk;
      else if (role == "supervisor") user.role = UserRole::kSupervisor;
      else if (role == "department") user.role = UserRole::kDepartment;
      else if (role == "admin") user.role = UserRole::kAdmin;
      else
        fail("users_invalid_field", where + "role",
             "must be clerk, supervisor, department or admin, got '" + role + "' / 角色须为 clerk、supervisor、department 或 admin");
      user.department = text_field(entry, where, "department", user.role == UserRole::kDepartment);
      if (user.role != UserRole::kDepartment && !user.department.empty())
        fail("users_invalid_field", where + "department", "only a department user names a department / 只有部门用户可指定部门");
      if (user.role == UserRole::kDepartment) {
        if (!hub::is_valid_id(user.department))
          fail("users_invalid_field", where + "department", "must be a department id such as police / 须为部门标识");
        if (!departments.empty() && !departments.count(user.department))
          fail("users_unknown_department", where + "department",
               "'" + user.department + "' is not a department of this hub / 本枢纽没有这个部门");
      }
      if (const auto it = entry.find("villages"); it != entry.end()) {
        if (user.role != UserRole::kClerk)
          fail("users_invalid_field", where + "villages", "only a clerk is limited to villages / 只有办事员可限定村");
        if (!it->is_array()) fail("users_invalid_field", where + "villages", "must be a list of village ids / 须为村列表");
        for (std::size_t v = 0; v < it->size(); ++v) {
          const json& village = (*it)[v];
          if (!village.is_string() || !hub::is_valid_id(village.get<std::string>()))
            fail("users_invalid_field", where + "villages[" + std::to_string(v) + "]",
                 "must be a village id such as V01 / 须为村标识");
          user.villages.push_back(village.get<std::string>());
        }
      }
      user.password_hash = text_field(entry, where, "password_hash", true);
      if (user.password_hash.rfind("$argon2id$", 0) != 0 || user.password_hash.size() >= crypto_pwhash_STRBYTES)
        fail("users_invalid_field", where + "password_hash",
             "must be an Argon2id hash as hubctl users writes it ($argon2id$…) / 须为 hubctl users 写入的 Argon2id 散列");
      if (const auto it = entry.find("disabled"); it != entry.end()) {
        if (!it->is_boolean()) fail("users_invalid_field", where + "disabled", "must be true or false");
        user.disabled = it->get<bool>();
      }
      if (const auto it = entry.find("changed_at_ms"); it != entry.end()) {
        if (!it->is_number_integer()) fail("users_invalid_field", where + "changed_at_ms", "must be a whole number");
        user.changed_at_ms = it->get<std::int64_t>();
      }
      users.push_back(std::move(user));
    }
    return users;
  } catch (const Invalid& e) {
    return e.error;
  }
}

std::variant<std::vector<User>, UsersError> load_users_file(const std::string& path,
                                                            const std::set<std::string>& departments) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::vector<User>{};
  std::ifstream in(path);
  if (!in) return UsersError{"users_unreadable", "", "cannot read " + path + ": " + std::strerror(errno)};
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parse_users(text.str(), departments);
  if (auto* error = std::get_if<UsersError>(&parsed)) error->message = path + ": " + error->message;
  return parsed;
}

std::string users_to_json(const std::vector<User>& users) {
  json list = json::array();
  for (const User& u : users) {
    json entry{{"name", u.name}, {"role", role_name(u.role)}};
    if (u.role == UserRole::kDepartment) entry["department"] = u.department;
    if (!u.villages.empty()) entry["villages"] = u.villages;
    entry["password_hash"] = u.password_hash;
    if (u.disabled) entry["disabled"] = true;
    if (u.changed_at_ms) entry["changed_at_ms"] = u.changed_at_ms;
    list.push_back(std::move(entry));
  }
  return json{{"users", list}}.dump(2) + "\n";
}

std::string write_users_file(const std::string& path, const std::vector<User>& users) {
  const std::string text = users_to_json(users);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot write " + tmp + ": " + std::strerror(errno);
  ::fchmod(fd, 0600);
  // Run as root (sudo hubctl users …), the file still belongs to whoever owns the keys
  // directory (hubd's user), or hubd could not read it.
  const std::string parent = std::filesystem::path(path).parent_path().string();
  struct stat dir_stat {};
  if (::geteuid() == 0 && ::stat(parent.empty() ? "." : parent.c_str(), &dir_stat) == 0 &&
      ::fchown(fd, dir_stat.st_uid, dir_stat.st_gid) != 0) {
    const int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return "cannot give " + tmp + " to the owner of its directory: " + std::strerror(saved);
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return "cannot write " + tmp + ": " + std::strerror(saved);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string error = "cannot replace " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return error;
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace hub::security
