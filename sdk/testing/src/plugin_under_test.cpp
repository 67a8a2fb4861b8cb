#include "hub/sdk/testing/plugin_under_test.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>
#include <variant>

#include "hub/loader/action_validator.h"
#include "hub/loader/plugin_loader.h"
#include "hub/sdk/testing/expectations.h"

namespace hub::sdk_testing {
namespace {

// Host::config_json() as hubd builds it for the plugin (see hub/delivery/plugin_worker.cpp).
std::string plugin_config_json(const std::string& id, const std::string& catalogue_json,
                               const std::string& settings_json) {
  const nlohmann::json settings = nlohmann::json::parse(settings_json, nullptr, /*allow_exceptions=*/false);
  if (!settings.is_object())
    throw std::runtime_error("PluginOptions::settings_json must be a JSON object (hub.json \"settings\"), got: " +
                             settings_json);
  return nlohmann::json{{"id", id}, {"catalogue", nlohmann::json::parse(catalogue_json)}, {"settings", settings}}
      .dump();
}

hub::sdk::Catalogue checked_catalogue(const PluginOptions& options) {
  hub::sdk::Catalogue catalogue = load_catalogue_file(options.catalogue_file);
  if (catalogue.department() != options.id)
    throw std::runtime_error(options.catalogue_file + ": the catalogue is for department '" + catalogue.department() +
                             "', not '" + options.id + "'");
  return catalogue;
}

}  // namespace

hub::sdk::Catalogue load_catalogue_file(const std::filesystem::path& path) {
  std::string error;
  auto catalogue = hub::sdk::Catalogue::parse(read_file(path), &error);
  if (!catalogue) throw std::runtime_error(path.string() + ": invalid catalogue: " + error);
  return std::move(*catalogue);
}

PluginUnderTest::PluginUnderTest(PluginOptions options)
    : options_(std::move(options)), catalogue_(checked_catalogue(options_)) {
  if (options_.data_dir.empty()) {
    owned_data_dir_ = std::make_unique<TempDir>(options_.id);
    data_dir_ = owned_data_dir_->path();
  } else {
    data_dir_ = options_.data_dir;
    std::filesystem::create_directories(data_dir_);  // hubd creates it before start, too
  }
  host_ = std::make_unique<FakeHost>(
      plugin_config_json(options_.id, read_file(options_.catalogue_file), options_.settings_json),
      data_dir_.string());
}

PluginUnderTest::~PluginUnderTest() { unload(); }

hub::sdk::HandleResult PluginUnderTest::start() {
  unload();
  auto result = hub::load_plugin(options_.library, options_.id);
  if (auto* error = std::get_if<hub::PluginLoadError>(&result))
    return hub::sdk::HandleResult::error(error->code + ": " + error->message);
  loaded_ = std::move(std::get<std::unique_ptr<hub::LoadedPlugin>>(result));
  hub::sdk::HandleResult started = loaded_->instance().start(*host_);
  started_ = started.is_ok();
  if (!started_) loaded_.reset();  // hubd destroys and unloads a plugin that failed to start
  return started;
}

hub::sdk::HandleResult PluginUnderTest::restart() { return start(); }

void PluginUnderTest::unload() {
  if (loaded_ && started_) loaded_->instance().stop();
  started_ = false;
  loaded_.reset();  // destroys the instance with its own library's code, then unloads
}

hub::sdk::PluginInstance& PluginUnderTest::started_instance() {
  if (!loaded_ || !started_) throw std::logic_error("PluginUnderTest: the plugin is not started (call start())");
  return loaded_->instance();
}

hub::sdk::PluginInfo PluginUnderTest::info() { return started_instance().info(); }

void PluginUnderTest::write_data_file(const std::string& relative_path, std::string_view content) const {
  write_file(data_dir_ / relative_path, content);
}

hub::sdk::Event PluginUnderTest::event_for(EventBuilder event) {
  if (!event.has_department()) event.department(options_.id);
  if (!event.has_sequence()) event.sequence(highest_sequence_ + 1);
  return event.build();
}

Decision PluginUnderTest::handle(const hub::sdk::Event& event) {
  Decision decision;
  decision.result = started_instance().handle(event, decision.actions);
  hub::sdk::HandleResult end = started_instance().end_batch();
  if (decision.result.is_ok() && !end.is_ok()) decision.result = std::move(end);
  decision.failure = hub::answer_failure(decision.result, catalogue_, event.household_id, decision.actions);
  if (event.sequence > highest_sequence_) highest_sequence_ = event.sequence;
  return decision;
}

Decision PluginUnderTest::handle(EventBuilder event) { return handle(event_for(std::move(event))); }

Decision PluginUnderTest::handle_in_open_batch(EventBuilder builder) {
  const hub::sdk::Event event = event_for(std::move(builder));
  Decision decision;
  decision.result = started_instance().handle(event, decision.actions);
  decision.failure = hub::answer_failure(decision.result, catalogue_, event.household_id, decision.actions);
  if (event.sequence > highest_sequence_) highest_sequence_ = event.sequence;
  return decision;
}

hub::sdk::HandleResult PluginUnderTest::end_batch() { return started_instance().end_batch(); }

std::vector<hub::sdk::PolicyAction> PluginUnderTest::decide(const hub::sdk::Event& event) {
  Decision decision = handle(event);
  if (decision.failure) {
    ADD_FAILURE() << "hubd would count " << event.idempotency_key << " (" << event.household_id
                  << ") as failed: " << *decision.failure << "\nactions:\n"
                  << describe(decision.actions);
  } else if (const std::string violations = contract_violations(catalogue_, event, decision.actions);
             !violations.empty()) {
    ADD_FAILURE() << options_.id << "'s answer to " << event.idempotency_key << " breaks the plugin contract:\n"
                  << violations << "actions:\n"
                  << describe(decision.actions);
  }
  return std::move(decision.actions);
}

std::vector<hub::sdk::PolicyAction> PluginUnderTest::decide(EventBuilder event) {
  return decide(event_for(std::move(event)));
}

}  // namespace hub::sdk_testing
