// The command line of every hub executable (hubctl, hubd, hub-plugin-host, hub-towngen): one
// parser, CLI11, so that every program and every hubctl verb answers --help the same way and a
// usage error always ends the same way. A program builds a CLI::App with its options and
// subcommands, then calls parse_command_line(); when that returns an exit code the program
// returns it at once (0 after --help or --version, 2 after a usage error, whose message names
// the bad option and the --help to run). Checks CLI11 cannot express (a value out of range, a
// missing choice) go through usage_error() so that they read the same.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace hub::command_line {

// The exit code of a usage error, for every program.
constexpr int kUsageError = 2;

// Parses argc/argv into `app`. nullopt: go on; otherwise the exit code to return: 0 when help
// or the version was printed (on stdout), kUsageError when the command line is wrong (the
// message on stderr).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// Prints "PROGRAM: message" and the --help to run for `command` (a subcommand, or the program
// itself) on stderr; returns kUsageError.
int usage_error(const CLI::App& command, const std::string& message);

// "hubctl parked retry": the words that name `command`, from its program's name down.
std::string command_path(const CLI::App& command);

// The subcommands `command` declares, given or not (CLI11's get_subcommands() without a filter
// lists only those given).
std::vector<const CLI::App*> declared_subcommands(const CLI::App& command);

// Applies to every option of `app` and of the subcommands added after this call: a repeated
// option keeps its last value, as the hand-written parsers did, instead of being an error.
void repeated_options_take_the_last(CLI::App& app);

}  // namespace hub::command_line
