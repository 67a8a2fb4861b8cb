// What the mains of the two daemons, hubd and hub-plugin-host, have in common: their command
// line (--config FILE, --version, --help, through the shared CLI11 parser), reading the
// configuration file, the log format, making the data directory, and blocking the signals that
// the main thread then collects with sigwait() or sigtimedwait(). Each main calls these in
// order (parse, read the configuration, start_logging, make_data_dir, block_signals) and keeps
// only what is its own: which threads it starts and what a signal means to it.
#pragma once

#include <csignal>
#include <initializer_list>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace hub::runtime {

// Sets up `app` for the daemon `app.get_name()`: --version ("NAME VERSION (plugin ABI N)", as
// plugin authors check it), --config FILE into *config_path (described by `config_help`), and
// a repeated option keeping its last value. Returns the --config option, for ->required().
CLI::Option* add_daemon_options(CLI::App& app, std::string* config_path, const std::string& config_help);

// The whole of the file at `path`; nullopt when it cannot be read.
std::optional<std::string> read_file(const std::string& path);

// Logs to stderr under `name` at `level` (debug, info, warn, error), with the timestamps the
// operators' log collectors parse.
void start_logging(const std::string& name, const std::string& level);

// Creates `dir` with its parents when missing; the reason when it cannot be made, else "".
std::string make_data_dir(const std::string& dir);

// Blocks `signals` in this thread and, through the inherited mask, in every thread started
// after it, so that no blocking call elsewhere is interrupted and the main thread alone takes
// them (sigwait, sigtimedwait). Returns the set, for those calls.
sigset_t block_signals(std::initializer_list<int> signals);

// Prints "PROGRAM: message" on stderr and returns 1, the exit code of a daemon that cannot
// start.
int cannot_start(const std::string& program, const std::string& message);

}  // namespace hub::runtime
