// hubctl's backup and restore (docs/operations.md "Backup and restore / 备份与恢复"):
//   hubctl backup --to DIR                 asks the running hubd for a consistent copy of its
//                                          files in DIR, prints the progress and the outcome
//   hubctl restore --from DIR --data-dir D checks a backup (manifest, SHA-256 of every file, the
//                                          chains) and copies it into the new folder D; offline
//   hubctl restore --check --from DIR      the same checks, nothing written
// add_backup_verbs() declares them; run_backup() and run_restore() run them. Exit codes as
// hubctl's: 0 ok, 1 refused or failed (an incomplete backup included), 2 usage error, 3 hub
// unreachable before the backup started.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/hub_client.h"
#include "cli/hubctl_verbs.h"

namespace hub::cli {

struct BackupVerbs {
  CLI::App* backup = nullptr;
  CLI::App* restore = nullptr;
};

BackupVerbs add_backup_verbs(CLI::App& hubctl, VerbArgs& args, bool* json_output);

int run_backup(const CLI::App& verb, const VerbArgs& args, bool json_output, HubClient& client);
// `global_data_dir` is hubctl's --data-dir given before the verb (the verb's own wins).
int run_restore(const CLI::App& verb, const VerbArgs& args, bool json_output, const std::string& global_data_dir);

}  // namespace hub::cli
