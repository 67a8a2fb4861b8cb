// Test support for the department plugins in this repository: a fake Host, the department's
// real configuration, events built in one line, and a plugin loaded from its built .so through
// the hub's own loader (hub::load_plugin), so a plugin that passes here loads the same way in
// hubd.
//
// Typical use in a test:
//   TempDir dir("finance");
//   dir.write("roster.csv", "household_id,policy_id,amount_fen_per_quarter\n…");
//   PluginUnderTest plugin(HUB_PLUGIN_PATH, "finance", dir.path());
//   ASSERT_TRUE(plugin.start().is_ok());
//   auto actions = plugin.handle_ok(make_event("finance", {.next = HouseholdStatus::kCredit}));
//   EXPECT_EQ(contract_violations(department_catalogue("finance"), event, actions), "");
//
// Everything here is single-threaded, like the hooks it drives. Objects are owned by the test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/host.h"
#include "hub/sdk/plugin.h"
#include "hub/sdk/types.h"
#include "plugin/plugin_loader.h"

namespace hub::plugin_testing {

// A fresh, uniquely named directory under the system temp directory, removed on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  // Writes `content` to path()/name, replacing the file.
  void write(const std::string& name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

// The catalogue text of a department, read from the repository's config/departments/<id>.json.
std::string department_catalogue_json(std::string_view department);
hub::sdk::Catalogue department_catalogue(std::string_view department);

// What Host::config_json() returns to the plugin: {"id":…,"catalogue":{…},"settings":{…}}.
// `settings_json` must be a JSON object.
std::string department_config_json(std::string_view department, std::string_view settings_json = "{}");

// A Host for tests: fixed configuration, data directory and clock; captures log lines.
class FakeHost final : public hub::sdk::Host {
 public:
  static constexpr std::int64_t kFixedNowMs = 1'601'510'400'000;  // 2020-10-01T00:00:00Z

  FakeHost(std::string config_json, std::string data_dir, std::int64_t now_ms = kFixedNowMs);

  void log(hub::sdk::LogLevel level, std::string_view message) noexcept override;
  std::string_view config_json() const noexcept override { return config_json_; }
  std::string_view data_dir() const noexcept override { return data_dir_; }
  std::int64_t now_unix_ms() const noexcept override { return now_ms_; }

  // Each captured line is "<level>: <message>", level being debug, info, warn or error.
  const std::vector<std::string>& log_lines() const noexcept { return log_lines_; }
  bool logged(std::string_view fragment) const;

 private:
  std::string config_json_;
  std::string data_dir_;
  std::int64_t now_ms_;
  std::vector<std::string> log_lines_;
};

// A built plugin library, loaded with hub::load_plugin and driven like hubd drives it:
// start, handle…, stop, destroy, unload. The destructor stops the plugin if it was started.
class PluginUnderTest {
 public:
  PluginUnderTest(std::string library_path, std::string department, const std::filesystem::path& data_dir,
                  std::string settings_json = "{}");
  ~PluginUnderTest();
  PluginUnderTest(const PluginUnderTest&) = delete;
  PluginUnderTest& operator=(const PluginUnderTest&) = delete;

  // Loads the library (checking ABI and department id) and starts the instance. A load error
  // comes back as HandleResult::error "<code>: <message>".
  hub::sdk::HandleResult start();

  // Stops, destroys and unloads the plugin, then loads and starts it again with the same
  // configuration and data directory — what a hub restart or `hubctl plugins reload` does.
  hub::sdk::HandleResult restart();

  // Stops, destroys and unloads (idempotent).
  void unload();

  // The started instance; start() must have succeeded.
  hub::sdk::PluginInstance& instance();

  // One event as a batch of its own: on_event, then on_batch_end (the first failure is returned).
  hub::sdk::HandleResult handle(const hub::sdk::Event& event, std::vector<hub::sdk::PolicyAction>& actions);
  // Handles the event and records a test failure unless the plugin answered ok.
  std::vector<hub::sdk::PolicyAction> handle_ok(const hub::sdk::Event& event);

  FakeHost& host() noexcept { return *host_; }

 private:
  std::string library_path_;
  std::string department_;
  std::unique_ptr<FakeHost> host_;  // outlives every use by the plugin (declared first)
  std::unique_ptr<hub::LoadedPlugin> loaded_;
  bool started_ = false;
};

// A status change as the hub would deliver it to `department`. Unset fields take the defaults
// below; village, event_id, idempotency key ("<department>:<sequence>") and effective date are
// derived.
struct StatusChange {
  std::string household_id = "V03-00417";
  hub::sdk::HouseholdStatus previous = hub::sdk::HouseholdStatus::kUnevaluated;
  hub::sdk::HouseholdStatus next = hub::sdk::HouseholdStatus::kCredit;
  std::string previous_quarter{};
  std::string quarter = "2020Q3";
  std::uint64_t sequence = 1;
  std::vector<std::string> designations{};
  bool correction = false;
};
hub::sdk::Event make_event(std::string_view department, const StatusChange& change);

// The longest reason the hub's ledger accepts.
inline constexpr std::size_t kMaxReasonBytes = 1000;

// Checks an answer against the hub's contract for `catalogue`: every action is for the
// event's household and a catalogue policy; every policy has at least one action; money
// policies carry amount_fen >= 0 except on not_applicable, other policies carry none; every
// reason is non-empty and at most kMaxReasonBytes. Returns the violations, one per line, or ""
// when there are none.
std::string contract_violations(const hub::sdk::Catalogue& catalogue, const hub::sdk::Event& event,
                                const std::vector<hub::sdk::PolicyAction>& actions);

// The actions for one policy, in the order returned.
std::vector<hub::sdk::PolicyAction> actions_for(const std::vector<hub::sdk::PolicyAction>& actions,
                                                std::string_view policy_id);

// One line per action, "policy action amount reason", for readable comparisons in tests.
std::string describe(const std::vector<hub::sdk::PolicyAction>& actions);

}  // namespace hub::plugin_testing

// Asserts (GoogleTest) that a start()/restart() answered ok, printing the plugin's message if not.
#define ASSERT_STARTED(expr)                                                   \
  do {                                                                         \
    const ::hub::sdk::HandleResult hub_started_result_ = (expr);               \
    ASSERT_TRUE(hub_started_result_.is_ok()) << hub_started_result_.message(); \
  } while (false)
