// What a plugin may call on its host (hubd, the plugin host, or the test harness's fake).
//
// The host owns the Host object and keeps it alive from PluginInstance::start until after
// PluginInstance::stop returns; a plugin may keep the reference for that long. Every method is
// noexcept and may be called from the plugin's own thread (the thread that calls its hooks).
#pragma once

#include <cstdint>
#include <string_view>

namespace hub::sdk {

enum class LogLevel : std::uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

class Host {
 public:
  // Writes one line to the hub's log, tagged with the plugin's id.
  virtual void log(LogLevel level, std::string_view message) noexcept = 0;

  // The plugin's configuration as JSON text: {"id":…, "catalogue":{…}, "settings":{…}}, where
  // "catalogue" is the department's policy catalogue (config/departments/<id>.json) and
  // "settings" the plugin's own section of the hub configuration.
  virtual std::string_view config_json() const noexcept = 0;

  // A directory that belongs to this plugin alone (created by the host); department-side data
  // such as rosters and accrual tables live here.
  virtual std::string_view data_dir() const noexcept = 0;

  // Wall-clock time in milliseconds since the Unix epoch (fakeable in tests).
  virtual std::int64_t now_unix_ms() const noexcept = 0;

 protected:
  ~Host() = default;  // the host destroys it, never the plugin
};

}  // namespace hub::sdk
