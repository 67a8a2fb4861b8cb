// hubctl's verbs on the shared command line (common/command_line.h): VerbArgs holds what every
// verb was given, and add_verb() makes one verb (or a verb's action, as in "parked retry") with
// its own --help and the --json switch that hubctl takes after a verb as well as before it.
// hubctl_main.cpp declares the verbs and runs the one given; hubctl_lifecycle.cpp declares and
// runs "parked" and "plugins".
#pragma once

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace hub::cli {

// The options and arguments of the verbs, each field filled by the verb that takes it. Numbers
// are kept as text and checked by the verb, so that its error names the bad value.
struct VerbArgs {
  // publish
  std::string household, status, quarter, effective, basis, event_id;
  std::vector<std::string> designations;
  // import
  std::string file, batch, max_file_mb;
  bool dry_run = false;
  // household
  std::string household_id;
  // households (and --village, --status, --limit, --format of the others)
  std::string search_id, search_head, search_designation, search_after;
  // report (and --quarter above)
  std::string village, format;
  // audit verify
  std::string audit_file, public_key;
  std::string dsn, hub_id;  // audit verify on the PostgreSQL backend
  // keygen
  std::string key_to_make, dir;
  // parked, plugins
  std::string department, seq, limit, library, reason;
  bool all = false;
  // backup, restore
  std::string backup_to, backup_from, restore_to;
  bool check_only = false;  // restore --check
  // restore --public-key: the audit_file/public_key of audit verify are reused
  // keys reload, parked retry|skip, plugins reload|disable|enable: who did it (default $USER)
  std::string by;
};

// Adds the verb `name` to `parent` (hubctl, or a verb with actions), with --json writing into
// *json_output.
inline CLI::App* add_verb(CLI::App& parent, const std::string& name, const std::string& description,
                          bool* json_output) {
  CLI::App* verb = parent.add_subcommand(name, description);
  verb->require_subcommand(0, 1);  // "parked list retry" is one action too many, not two actions
  verb->add_flag("--json", *json_output, "machine-readable output");
  return verb;
}

// One "--name VALUE" option, kept as text: a row of add_text_options().
struct TextOption {
  const char* name;
  std::string* value;
  const char* value_name;  // shown in --help: "--household H"
  const char* description;
};

inline void add_text_options(CLI::App& command, std::initializer_list<TextOption> options) {
  for (const TextOption& option : options)
    command.add_option(option.name, *option.value, option.description)->type_name(option.value_name);
}

// Who does an action that changes the hub, as recorded beside the key's name: `by` (--by) when
// given, else $USER, else the account's name.
inline std::string operator_name(const std::string& by) {
  if (!by.empty()) return by;
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
  return "uid-" + std::to_string(getuid());
}

// --by NAME: the operator recorded with an action that changes the hub (keys reload, parked
// retry|skip, plugins reload|disable|enable).
inline void add_by_option(CLI::App& action, VerbArgs& args) {
  add_text_options(action, {{"--by", &args.by, "NAME", "操作人 / who does it, recorded with it (default $USER)"}});
}

}  // namespace hub::cli
