// Loads a department plugin's shared library with Boost.DLL, checks its ABI version before
// calling anything else in it, and creates its PluginInstance.
//
// This is the one place where plugins are loaded: hubd, the plugin host and the SDK's test
// harness (hub::sdk_testing) all link this library (hub::plugin_loader), so a plugin that
// loads in a test loads the same way in production.
// A LoadedPlugin owns the instance and keeps the library mapped for as long as the instance
// lives (the instance is destroyed first, by its own library's code, then the library is
// unloaded). Load errors are returned as values, never thrown.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "hub/sdk/plugin.h"

namespace boost::dll {
class shared_library;
}

namespace hub {

class LoadedPlugin {
 public:
  LoadedPlugin(std::shared_ptr<boost::dll::shared_library> library, hub::sdk::PluginInstance* instance,
               std::string path);
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  hub::sdk::PluginInstance& instance() noexcept { return *instance_; }
  const std::string& path() const noexcept { return path_; }

 private:
  std::shared_ptr<boost::dll::shared_library> library_;  // outlives instance_
  hub::sdk::PluginInstance* instance_;                   // owned; deleted by its library's code
  std::string path_;
};

struct PluginLoadError {
  std::string code;     // stable: "plugin_not_found", "plugin_load_failed", "abi_mismatch", ...
  std::string message;  // names the file and, for abi_mismatch, both versions
};

using PluginLoadResult = std::variant<std::unique_ptr<LoadedPlugin>, PluginLoadError>;

// Loads `path`, checks the ABI version against HUB_SDK_ABI_VERSION, creates the instance and,
// if expected_id is not empty, checks that the plugin reports that department id.
PluginLoadResult load_plugin(const std::string& path, const std::string& expected_id);

}  // namespace hub
