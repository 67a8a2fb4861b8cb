#include "runtime/daemon_main.h"

#include <pthread.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/command_line.h"
#include "hub/sdk/version.h"

namespace hub::runtime {

CLI::Option* add_daemon_options(CLI::App& app, std::string* config_path, const std::string& config_help) {
  command_line::repeated_options_take_the_last(app);
  app.set_version_flag("--version", app.get_name() + " " HUB_SDK_VERSION_STRING " (plugin ABI " +
                                        std::to_string(HUB_SDK_ABI_VERSION) + ")",
                       "print the version and the plugin ABI version");
  return app.add_option("--config", *config_path, config_help)->type_name("FILE");
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void start_logging(const std::string& name, const std::string& level) {
  spdlog::set_default_logger(spdlog::stderr_color_mt(name));
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
}

std::string make_data_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return ec ? "cannot create the data directory " + dir + ": " + ec.message() : std::string();
}

sigset_t block_signals(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int cannot_start(const std::string& program, const std::string& message) {
  std::cerr << program << ": " << message << "\n";
  return 1;
}

}  // namespace hub::runtime
