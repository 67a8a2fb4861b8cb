// FakeHost: the hub as a plugin sees it (hub::sdk::Host), for tests. It hands the plugin a
// fixed configuration and data directory, keeps a clock the test moves by hand, and captures
// every log line so a test can assert on it.
//
// Single-threaded, like the hooks it serves: the test and the plugin call it from the test's
// thread. The test owns it and keeps it alive while the plugin runs (PluginUnderTest does).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hub/sdk/host.h"

namespace hub::sdk_testing {

class FakeHost final : public hub::sdk::Host {
 public:
  // 2026-10-01T00:00:00Z, the first day after quarter 2026Q3.
  static constexpr std::int64_t kDefaultNowMs = 1'790'812'800'000;

  FakeHost(std::string config_json, std::string data_dir, std::int64_t now_ms = kDefaultNowMs);

  // hub::sdk::Host
  void log(hub::sdk::LogLevel level, std::string_view message) noexcept override;
  std::string_view config_json() const noexcept override { return config_json_; }
  std::string_view data_dir() const noexcept override { return data_dir_; }
  std::int64_t now_unix_ms() const noexcept override { return now_ms_; }

  // The clock: now_unix_ms() returns exactly what the test last set.
  void set_now_unix_ms(std::int64_t now_ms) noexcept { now_ms_ = now_ms; }
  void advance_ms(std::int64_t delta_ms) noexcept { now_ms_ += delta_ms; }

  // Each captured line is "<level>: <message>", level being debug, info, warn or error.
  const std::vector<std::string>& log_lines() const noexcept { return log_lines_; }
  // True when some captured line contains `fragment`.
  bool logged(std::string_view fragment) const;
  void clear_log() noexcept { log_lines_.clear(); }

 private:
  std::string config_json_;
  std::string data_dir_;
  std::int64_t now_ms_;
  std::vector<std::string> log_lines_;
};

}  // namespace hub::sdk_testing
