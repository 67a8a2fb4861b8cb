// hubctl's commands for the web console's accounts (issue 19; security/users.h):
//   hubctl users add NAME --role clerk|supervisor|department|admin [--department D] [--village V]…
//   hubctl users passwd NAME        hubctl users disable NAME        hubctl users enable NAME
//   hubctl users list [--json]
// They edit the users file directly (it is a file beside the clients file, not a store of the
// hub's), atomically; a running hubd sees each change at its next web request. The file: --file
// FILE, else DIR/users.json for --keys DIR or $HUB_KEYS_DIR, else DATA_DIR/keys/users.json for
// --data-dir, else var/keys/users.json; a hub with security.users_file needs --file.
//
// A password is never taken from the command line (it would show in `ps` and the shell's
// history): it is asked for twice on the terminal with echo off, or read as one line from
// standard input with --password-stdin.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace hub::cli {

struct UsersArgs {
  std::string name, role, department, file;
  std::vector<std::string> villages;
  bool password_stdin = false;
};

struct UsersVerbs {
  CLI::App* users = nullptr;
};

UsersVerbs add_users_verbs(CLI::App& hubctl, UsersArgs& args, bool* json_output);

// `action`: the action given ("users add"). Exit codes as hubctl's: 0 ok, 1 failed (no such user,
// one already there, the file unreadable), 2 usage error.
int run_users(const CLI::App& action, const UsersArgs& args, bool json_output, const std::string& keys_dir_flag,
              const std::string& data_dir);

}  // namespace hub::cli
