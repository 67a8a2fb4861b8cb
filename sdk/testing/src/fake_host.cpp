#include "hub/sdk/testing/fake_host.h"

#include <utility>

namespace hub::sdk_testing {
namespace {

const char* level_name(hub::sdk::LogLevel level) {
  switch (level) {
    case hub::sdk::LogLevel::kDebug: return "debug";
    case hub::sdk::LogLevel::kInfo: return "info";
    case hub::sdk::LogLevel::kWarn: return "warn";
    case hub::sdk::LogLevel::kError: break;
  }
  return "error";
}

}  // namespace

FakeHost::FakeHost(std::string config_json, std::string data_dir, std::int64_t now_ms)
    : config_json_(std::move(config_json)), data_dir_(std::move(data_dir)), now_ms_(now_ms) {}

void FakeHost::log(hub::sdk::LogLevel level, std::string_view message) noexcept {
  try {
    log_lines_.push_back(std::string(level_name(level)) + ": " + std::string(message));
  } catch (...) {
    // Host::log is noexcept; a test host that cannot allocate has nothing better to do.
  }
}

bool FakeHost::logged(std::string_view fragment) const {
  for (const auto& line : log_lines_)
    if (line.find(fragment) != std::string::npos) return true;
  return false;
}

}  // namespace hub::sdk_testing
