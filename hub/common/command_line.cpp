#include "common/command_line.h"

#include <iostream>

namespace hub::command_line {
namespace {

// The subcommand the command line went deepest into: errors and hints name it.
const CLI::App& deepest_command(const CLI::App& app) {
  const CLI::App* command = &app;
  for (auto subcommands = command->get_subcommands(); !subcommands.empty(); subcommands = command->get_subcommands())
    command = subcommands.back();
  return *command;
}

// The command holding the arguments nobody took: the program's own ("hubctl --bogus status") or
// a subcommand's ("hubctl status --bogus").
const CLI::App& command_with_extras(const CLI::App& app) {
  if (app.remaining_size() > 0) return app;
  for (const CLI::App* command : app.get_subcommands())
    if (command->remaining_size(true) > 0) return command_with_extras(*command);
  return deepest_command(app);
}

const CLI::App& program_of(const CLI::App& command) {
  const CLI::App* app = &command;
  while (app->get_parent() != nullptr) app = app->get_parent();
  return *app;
}

// CLI11 says "The following argument was not expected: --bogus"; users and tests know the
// words the hand-written parsers used, which name the argument first.
std::string extras_message(const CLI::App& command) {
  std::string message;
  for (const std::string& extra : command.remaining()) {
    if (!message.empty()) message += "; ";
    if (extra.rfind("-", 0) == 0) message += "unknown option '" + extra + "'";
    else if (!declared_subcommands(command).empty()) message += "unknown command '" + extra + "'";
    else message += "unexpected argument '" + extra + "'";
  }
  return message;
}

}  // namespace

std::vector<const CLI::App*> declared_subcommands(const CLI::App& command) {
  return command.get_subcommands([](const CLI::App*) { return true; });
}

std::string command_path(const CLI::App& command) {
  std::string path = command.get_name();
  for (const CLI::App* parent = command.get_parent(); parent != nullptr; parent = parent->get_parent())
    path = parent->get_name() + " " + path;
  return path;
}

int usage_error(const CLI::App& command, const std::string& message) {
  std::cerr << program_of(command).get_name() << ": " << message << "\nTry '" << command_path(command)
            << " --help'.\n";
  return kUsageError;
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // An unknown argument is named first, even when CLI11 found a missing one before it
    // ("hub-plugin-host --bogus": the typo, not "--config is required").
    if (app.remaining_size(true) > 0) {
      const CLI::App& command = command_with_extras(app);
      const std::string message = extras_message(command);
      if (!message.empty()) return usage_error(command, message);
    }
    return usage_error(deepest_command(app), e.what());
  }
}

void repeated_options_take_the_last(CLI::App& app) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

}  // namespace hub::command_line
