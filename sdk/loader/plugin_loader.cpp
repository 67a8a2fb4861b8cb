#include "hub/loader/plugin_loader.h"

#include <filesystem>

#include <boost/dll/shared_library.hpp>

namespace hub {

LoadedPlugin::LoadedPlugin(std::shared_ptr<boost::dll::shared_library> library,
                           hub::sdk::PluginInstance* instance, std::string path)
    : library_(std::move(library)), instance_(instance), path_(std::move(path)) {}

LoadedPlugin::~LoadedPlugin() {
  delete instance_;  // virtual destructor: runs the plugin library's code
  instance_ = nullptr;
  library_.reset();  // now the library may be unmapped
}

PluginLoadResult load_plugin(const std::string& path, const std::string& expected_id) {
  std::error_code exists_error;
  if (!std::filesystem::exists(path, exists_error)) {
    return PluginLoadError{"plugin_not_found", "plugin library not found: " + path};
  }
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  library->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    return PluginLoadError{"plugin_load_failed", "cannot load plugin " + path + ": " + ec.message()};
  }
  if (!library->has(hub::sdk::kAbiVersionSymbol) || !library->has(hub::sdk::kFactorySymbol)) {
    return PluginLoadError{"not_a_plugin", path + " is not a Chengxin Hub plugin (no HUB_DECLARE_PLUGIN: symbols " +
                                               std::string(hub::sdk::kAbiVersionSymbol) + " and " +
                                               hub::sdk::kFactorySymbol + " are missing)"};
  }
  const std::uint32_t abi = library->get_alias<const std::uint32_t>(hub::sdk::kAbiVersionSymbol);
  if (abi != HUB_SDK_ABI_VERSION) {
    return PluginLoadError{"abi_mismatch", "plugin " + path + " was built for plugin ABI version " +
                                               std::to_string(abi) + ", this hub uses ABI version " +
                                               std::to_string(HUB_SDK_ABI_VERSION) +
                                               " (SDK " HUB_SDK_VERSION_STRING "); rebuild the plugin against this SDK"};
  }
  auto& factory = library->get_alias<hub::sdk::PluginFactory>(hub::sdk::kFactorySymbol);
  hub::sdk::PluginInstance* instance = factory();
  if (instance == nullptr) {
    return PluginLoadError{"plugin_create_failed", "plugin " + path + " failed to create its instance"};
  }
  auto loaded = std::make_unique<LoadedPlugin>(std::move(library), instance, path);
  if (!expected_id.empty()) {
    const auto info = loaded->instance().info();
    if (info.id != expected_id) {
      return PluginLoadError{"plugin_id_mismatch", "plugin " + path + " reports department id '" + info.id +
                                                       "', the configuration expects '" + expected_id + "'"};
    }
  }
  return loaded;
}

}  // namespace hub
