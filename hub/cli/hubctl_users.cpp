#include "cli/hubctl_users.h"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <variant>

#include <nlohmann/json.hpp>

#include "cli/hubctl_verbs.h"
#include "common/command_line.h"
#include "domain/wire_event.h"
#include "security/keys.h"
#include "security/users.h"

namespace hub::cli {
namespace {

namespace fs = std::filesystem;
using command_line::usage_error;
using nlohmann::json;
using security::User;
using security::UserRole;

constexpr int kOk = 0, kFailed = 1;

std::string users_file(const UsersArgs& a, const std::string& keys_dir_flag, const std::string& data_dir) {
  if (!a.file.empty()) return a.file;
  if (!keys_dir_flag.empty()) return (fs::path(keys_dir_flag) / "users.json").string();
  if (const char* env = std::getenv("HUB_KEYS_DIR"); env != nullptr && *env != '\0')
    return (fs::path(env) / "users.json").string();
  return (fs::path(data_dir.empty() ? "var" : data_dir) / "keys" / "users.json").string();
}

int failed(const std::string& message) {
  std::cerr << "hubctl: " << message << "\n";
  return kFailed;
}

// One line from the terminal with echo off; nothing when there is no terminal.
std::optional<std::string> ask_hidden(const std::string& prompt) {
  std::FILE* tty = std::fopen("/dev/tty", "r+");
  if (tty == nullptr) return std::nullopt;
  const int fd = ::fileno(tty);
  termios saved{};
  const bool is_tty = ::tcgetattr(fd, &saved) == 0;
  if (!is_tty) {
    std::fclose(tty);
    return std::nullopt;
  }
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(fd, TCSAFLUSH, &quiet);
  std::fputs(prompt.c_str(), tty);
  std::fflush(tty);
  std::string line;
  for (int c; (c = std::fgetc(tty)) != EOF && c != '\n';) line.push_back(static_cast<char>(c));
  ::tcsetattr(fd, TCSAFLUSH, &saved);
  std::fputs("\n", tty);
  std::fclose(tty);
  return line;
}

// The new password: from standard input (--password-stdin) or asked twice on the terminal.
// Usage errors are returned as text, with the password empty.
std::variant<std::string, int> new_password(const CLI::App& action, const UsersArgs& a) {
  std::string password;
  if (a.password_stdin) {
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
  } else {
    const auto first = ask_hidden("新口令 / new password: ");
    if (!first)
      return usage_error(action, "no terminal to ask the password on: give it on standard input with --password-stdin");
    const auto second = ask_hidden("再输入一次 / again: ");
    if (!second || *first != *second) return failed("两次输入的口令不同 / the two passwords differ; nothing changed");
    password = *first;
  }
  if (password.size() < security::kMinPasswordLength)
    return failed("口令太短 / password_too_short: a password needs at least " +
                  std::to_string(security::kMinPasswordLength) + " characters; nothing changed");
  if (password.size() > 1024) return failed("口令太长 / password_too_long: at most 1024 characters; nothing changed");
  return password;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string local_time(std::int64_t ms) {
  if (ms == 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &tm);
  return text;
}

}  // namespace

UsersVerbs add_users_verbs(CLI::App& hubctl, UsersArgs& a, bool* json_output) {
  UsersVerbs verbs;
  verbs.users = add_verb(hubctl, "users",
                         "网页控制台的用户 / the web console's accounts: add, passwd, disable, enable, list "
                         "(users ACTION --help)",
                         json_output);
  const auto file_option = [&a](CLI::App* action) {
    add_text_options(*action, {{"--file", &a.file, "FILE",
                                "the users file (default DIR/users.json of --keys or $HUB_KEYS_DIR, else "
                                "DATA_DIR/keys/users.json, else var/keys/users.json)"}});
  };
  CLI::App* add = add_verb(*verbs.users, "add",
                           "添加用户 / add a user; the password is asked for (echo off) or read from standard input",
                           json_output);
  add->add_option("NAME", a.name, "用户名 / 1-64 letters, digits, '.', '_', '-'");
  add_text_options(*add, {{"--role", &a.role, "ROLE",
                           "角色 / clerk (办事员: publish and import), supervisor (监督小组: read everything), "
                           "department (部门: its own department only, with --department), admin (管理员)"},
                          {"--department", &a.department, "D", "部门 / the department of a department user"}});
  add->add_option("--village", a.villages, "村 / a clerk only sees and touches these villages (repeatable)")
      ->type_name("V")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add->add_flag("--password-stdin", a.password_stdin, "read the password as one line from standard input");
  file_option(add);
  CLI::App* passwd = add_verb(*verbs.users, "passwd", "修改口令 / set a user's password (ends their sessions)",
                              json_output);
  passwd->add_option("NAME", a.name, "用户名 / the user");
  passwd->add_flag("--password-stdin", a.password_stdin, "read the password as one line from standard input");
  file_option(passwd);
  CLI::App* disable = add_verb(*verbs.users, "disable", "停用用户 / disable a user: no login, their sessions end",
                               json_output);
  disable->add_option("NAME", a.name, "用户名 / the user");
  file_option(disable);
  CLI::App* enable = add_verb(*verbs.users, "enable", "启用用户 / enable a disabled user again", json_output);
  enable->add_option("NAME", a.name, "用户名 / the user");
  file_option(enable);
  CLI::App* list = add_verb(*verbs.users, "list", "用户列表 / the users, their roles and limits (no passwords)",
                            json_output);
  file_option(list);
  return verbs;
}

int run_users(const CLI::App& action, const UsersArgs& a, bool json_output, const std::string& keys_dir_flag,
              const std::string& data_dir) {
  const std::string verb = action.get_name();
  const std::string path = users_file(a, keys_dir_flag, data_dir);
  auto loaded = security::load_users_file(path, {});
  if (const auto* error = std::get_if<security::UsersError>(&loaded)) return failed(error->to_string());
  std::vector<User> users = std::get<std::vector<User>>(std::move(loaded));

  if (verb == "list") {
    if (json_output) {
      json list = json::array();
      for (const User& u : users) {
        json entry{{"name", u.name}, {"role", security::role_name(u.role)}, {"disabled", u.disabled}};
        if (u.role == UserRole::kDepartment) entry["department"] = u.department;
        if (u.role == UserRole::kClerk) entry["villages"] = u.villages;
        entry["changed_at_ms"] = u.changed_at_ms;
        list.push_back(std::move(entry));
      }
      std::cout << json{{"ok", true}, {"file", path}, {"users", list}}.dump(2) << "\n";
      return kOk;
    }
    std::cout << "用户 / users in " << path << ": " << users.size() << "\n";
    for (const User& u : users) {
      std::string scope = u.role == UserRole::kDepartment ? u.department : "";
      for (const auto& v : u.villages) scope += (scope.empty() ? "" : ",") + v;
      std::printf("  %-24s %-11s %-20s %-8s %s\n", u.name.c_str(), security::role_name(u.role),
                  scope.empty() ? "-" : scope.c_str(), u.disabled ? "停用 disabled" : "启用 enabled",
                  local_time(u.changed_at_ms).c_str());
    }
    return kOk;
  }

  if (a.name.empty()) return usage_error(action, "users " + verb + " needs the user's NAME");
  if (!security::is_valid_user_name(a.name))
    return usage_error(action, "NAME must be 1-64 letters, digits, '.', '_' or '-', got '" + a.name + "'");
  auto it = std::find_if(users.begin(), users.end(), [&](const User& u) { return u.name == a.name; });

  if (verb == "add") {
    User user;
    user.name = a.name;
    if (a.role == "clerk") user.role = UserRole::kClerk;
    else if (a.role == "supervisor") user.role = UserRole::kSupervisor;
    else if (a.role == "department") user.role = UserRole::kDepartment;
    else if (a.role == "admin") user.role = UserRole::kAdmin;
    else return usage_error(action, "--role must be clerk, supervisor, department or admin" +
                                        (a.role.empty() ? std::string(" (required)") : ", got '" + a.role + "'"));
    if (user.role == UserRole::kDepartment) {
      if (!hub::is_valid_id(a.department))
        return usage_error(action, "--department must name the department (an id such as police) for --role department");
      user.department = a.department;
    } else if (!a.department.empty()) {
      return usage_error(action, "--department goes with --role department only");
    }
    if (!a.villages.empty() && user.role != UserRole::kClerk)
      return usage_error(action, "--village goes with --role clerk only");
    for (const auto& v : a.villages)
      if (!hub::is_valid_id(v)) return usage_error(action, "--village must be a village id such as V01, got '" + v + "'");
    user.villages = a.villages;
    if (it != users.end()) return failed("用户已存在 / user_exists: " + a.name + " is already in " + path);
    auto password = new_password(action, a);
    if (auto* code = std::get_if<int>(&password)) return *code;
    user.password_hash = security::hash_password(std::get<std::string>(password));
    security::wipe(std::get<std::string>(password));
    user.changed_at_ms = now_ms();
    users.push_back(std::move(user));
  } else {
    if (it == users.end()) return failed("没有这个用户 / unknown_user: " + a.name + " is not in " + path);
    if (verb == "passwd") {
      auto password = new_password(action, a);
      if (auto* code = std::get_if<int>(&password)) return *code;
      it->password_hash = security::hash_password(std::get<std::string>(password));
      security::wipe(std::get<std::string>(password));
    } else if (verb == "disable") {
      it->disabled = true;
    } else if (verb == "enable") {
      it->disabled = false;
    } else {
      return usage_error(action, "no such action");
    }
    it->changed_at_ms = now_ms();
  }

  std::error_code ec;
  const fs::path dir = fs::path(path).parent_path();
  if (!dir.empty() && !fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  if (const std::string error = security::write_users_file(path, users); !error.empty()) return failed(error);
  const char* done = verb == "add" ? "已添加 / added" : verb == "passwd" ? "口令已修改 / password changed"
                     : verb == "disable" ? "已停用 / disabled" : "已启用 / enabled";
  if (json_output)
    std::cout << json{{"ok", true}, {"user", a.name}, {"action", verb}, {"file", path}}.dump() << "\n";
  else
    std::cout << done << ": " << a.name << " (" << path << ")\n";
  return kOk;
}

}  // namespace hub::cli
