// PluginUnderTest: a built plugin library (.so), loaded and driven exactly as hubd drives it,
// inside a GoogleTest — no hub process, no sockets.
//
// It uses hubd's own loader (hub::plugin_loader: Boost.DLL, the ABI version check, the
// department id check), gives the plugin the configuration hubd would give it
// ({"id", "catalogue", "settings"}) through a FakeHost, and judges every answer with hubd's own
// check (hub::answer_failure), so a plugin that passes here is recorded the same way by hubd.
//
//   PluginUnderTest plugin(this_plugin());          // set up by hub_add_plugin_test()
//   plugin.write_data_file("roster.csv", "household_id\nV01-00001\n");
//   ASSERT_STARTED(plugin.start());
//   auto actions = plugin.decide(EventBuilder().household("V01-00001").from("credit").to("non_credit"));
//   EXPECT_ACTION(actions, "my_department.priority", ActionKind::kDefer);
//
// Lifetime, as in hubd: load, check, create, start, events…, stop, destroy, unload.
// Everything runs on the test's thread. The test owns the PluginUnderTest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/plugin.h"
#include "hub/sdk/result.h"
#include "hub/sdk/testing/event_builder.h"
#include "hub/sdk/testing/fake_host.h"
#include "hub/sdk/testing/temp_dir.h"
#include "hub/sdk/types.h"

namespace hub {
class LoadedPlugin;  // hub/loader/plugin_loader.h, not part of the installed headers
}

namespace hub::sdk_testing {

// What hubd's configuration would say about the plugin.
struct PluginOptions {
  std::string library;             // path of the built plugin, libhub_plugin_<id>.so
  std::string id;                  // department id ("id" in hub.json); the plugin must report it
  std::string catalogue_file;      // the department's catalogue, <id>.json
  std::string settings_json = "{}";  // the plugin's "settings" object in hub.json
  std::filesystem::path data_dir;  // empty: a fresh temporary directory, removed afterwards

  // For one-line variations: PluginUnderTest plugin(this_plugin().with_data_dir(dir.path()));
  PluginOptions& with_settings(std::string json) { settings_json = std::move(json); return *this; }
  PluginOptions& with_data_dir(std::filesystem::path dir) { data_dir = std::move(dir); return *this; }
  PluginOptions& with_catalogue_file(std::string path) { catalogue_file = std::move(path); return *this; }
  PluginOptions& with_library(std::string path) { library = std::move(path); return *this; }
};

// Defined when the test target was made with hub_add_plugin_test() (HubPlugin.cmake), which
// passes the plugin's path, id and catalogue as HUB_PLUGIN_LIBRARY, HUB_PLUGIN_ID and
// HUB_PLUGIN_CATALOGUE.
#if defined(HUB_PLUGIN_LIBRARY) && defined(HUB_PLUGIN_ID) && defined(HUB_PLUGIN_CATALOGUE)
inline PluginOptions this_plugin(std::string settings_json = "{}") {
  return PluginOptions{HUB_PLUGIN_LIBRARY, HUB_PLUGIN_ID, HUB_PLUGIN_CATALOGUE, std::move(settings_json), {}};
}
#endif

// A plugin's answer to one event and the hub's verdict on it.
struct Decision {
  hub::sdk::HandleResult result = hub::sdk::HandleResult::ok();
  std::vector<hub::sdk::PolicyAction> actions;
  // Why hubd would count this answer as a failed delivery (exactly the reason it would log and
  // show in `hubctl status`), or nothing when hubd would record the actions in the ledger.
  std::optional<std::string> failure;

  bool recorded() const noexcept { return !failure.has_value(); }
};

// Reads and checks a catalogue file as hubd does; throws std::runtime_error naming the file
// and the problem (e.g. "policies[2].effects.breach: unknown action 'skip'").
hub::sdk::Catalogue load_catalogue_file(const std::filesystem::path& path);

class PluginUnderTest {
 public:
  // Reads the catalogue and builds the configuration; throws std::runtime_error when the
  // catalogue is invalid or for another department, or when settings_json is not an object
  // (hubd would not start with such a configuration either).
  explicit PluginUnderTest(PluginOptions options);
  ~PluginUnderTest();
  PluginUnderTest(const PluginUnderTest&) = delete;
  PluginUnderTest& operator=(const PluginUnderTest&) = delete;

  // Loads the library (ABI version and department id checked, as hubd does) and starts the
  // instance. A load error comes back as HandleResult::error("<code>: <message>"), the code
  // being the loader's: plugin_not_found, plugin_load_failed, not_a_plugin, abi_mismatch,
  // plugin_create_failed or plugin_id_mismatch.
  hub::sdk::HandleResult start();

  // Stops, destroys and unloads, then loads and starts again on the same data directory —
  // what a hubd restart does.
  hub::sdk::HandleResult restart();

  // Stops, destroys and unloads (idempotent). The destructor does it too.
  void unload();

  // The plugin's answer to one event delivered as a batch of its own, as hubd would: on_event,
  // then on_batch_end (a failure of either is the result). Never fails the test by itself.
  Decision handle(const hub::sdk::Event& event);
  // The same for a builder: the department is this plugin's, and an unset sequence number is
  // the next one (one more than the highest handled so far).
  Decision handle(EventBuilder event);

  // Handles the event and fails the test (ADD_FAILURE, the test goes on) unless the plugin
  // answered ok, hubd would record the actions, every policy of the catalogue has an action
  // and every reason is readable. Returns the actions.
  std::vector<hub::sdk::PolicyAction> decide(const hub::sdk::Event& event);
  std::vector<hub::sdk::PolicyAction> decide(EventBuilder event);

  // on_event only, leaving the batch open: what a plugin has done when its process dies before
  // the batch ends (the hub then records nothing of it and delivers it again). end_batch()
  // ends it.
  Decision handle_in_open_batch(EventBuilder event);
  hub::sdk::HandleResult end_batch();

  // The event handle(EventBuilder) would deliver.
  hub::sdk::Event event_for(EventBuilder event);

  // What the loaded plugin reports; start() must have succeeded.
  hub::sdk::PluginInfo info();

  FakeHost& host() noexcept { return *host_; }
  const hub::sdk::Catalogue& catalogue() const noexcept { return catalogue_; }
  const std::filesystem::path& data_dir() const noexcept { return data_dir_; }
  // Writes a file into the plugin's data directory (e.g. a roster), before start().
  void write_data_file(const std::string& relative_path, std::string_view content) const;

 private:
  hub::sdk::PluginInstance& started_instance();

  PluginOptions options_;
  hub::sdk::Catalogue catalogue_;
  std::unique_ptr<TempDir> owned_data_dir_;  // when options_.data_dir was empty
  std::filesystem::path data_dir_;
  std::unique_ptr<FakeHost> host_;            // outlives every use by the plugin
  std::unique_ptr<hub::LoadedPlugin> loaded_;
  bool started_ = false;
  std::uint64_t highest_sequence_ = 0;
};

}  // namespace hub::sdk_testing

// Asserts (GoogleTest) that start() or restart() answered ok, printing the plugin's message
// if not.
#define ASSERT_STARTED(expr)                                                   \
  do {                                                                         \
    const ::hub::sdk::HandleResult hub_started_result_ = (expr);               \
    ASSERT_TRUE(hub_started_result_.is_ok()) << hub_started_result_.message(); \
  } while (false)
