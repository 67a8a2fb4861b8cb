#include "plugin_test_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <variant>

#ifndef HUB_SOURCE_DIR
#error "HUB_SOURCE_DIR must name the repository root (set by plugins/testing/CMakeLists.txt)"
#endif

namespace hub::plugin_testing {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

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

// --- TempDir --------------------------------------------------------------------------------

TempDir::TempDir(std::string_view prefix) {
  static std::atomic<unsigned> counter{0};
  const auto base = std::filesystem::temp_directory_path();
  for (;;) {
    const std::string name =
        "hub-" + std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
    std::error_code ec;
    if (std::filesystem::create_directory(base / name, ec)) {
      path_ = base / name;
      return;
    }
    if (ec) throw std::runtime_error("cannot create a temp directory under " + base.string() + ": " + ec.message());
    // The name existed (left over from an earlier run with the same pid): try the next one.
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::write(const std::string& name, std::string_view content) const {
  std::ofstream out(path_ / name, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + (path_ / name).string());
}

// --- configuration --------------------------------------------------------------------------

std::string department_catalogue_json(std::string_view department) {
  return read_file(std::filesystem::path(HUB_SOURCE_DIR) / "config" / "departments" /
                   (std::string(department) + ".json"));
}

hub::sdk::Catalogue department_catalogue(std::string_view department) {
  std::string error;
  auto catalogue = hub::sdk::Catalogue::parse(department_catalogue_json(department), &error);
  if (!catalogue) throw std::runtime_error("config/departments/" + std::string(department) + ".json: " + error);
  return std::move(*catalogue);
}

std::string department_config_json(std::string_view department, std::string_view settings_json) {
  nlohmann::json config;
  config["id"] = std::string(department);
  config["catalogue"] = nlohmann::json::parse(department_catalogue_json(department));
  config["settings"] = nlohmann::json::parse(settings_json);
  if (!config["settings"].is_object()) throw std::invalid_argument("settings must be a JSON object");
  return config.dump();
}

// --- FakeHost -------------------------------------------------------------------------------

FakeHost::FakeHost(std::string config_json, std::string data_dir, std::int64_t now_ms)
    : config_json_(std::move(config_json)), data_dir_(std::move(data_dir)), now_ms_(now_ms) {}

void FakeHost::log(hub::sdk::LogLevel level, std::string_view message) noexcept {
  try {
    log_lines_.push_back(std::string(level_name(level)) + ": " + std::string(message));
  } catch (...) {
    // A test host that cannot allocate has nothing better to do.
  }
}

bool FakeHost::logged(std::string_view fragment) const {
  for (const auto& line : log_lines_)
    if (line.find(fragment) != std::string::npos) return true;
  return false;
}

// --- PluginUnderTest ------------------------------------------------------------------------

PluginUnderTest::PluginUnderTest(std::string library_path, std::string department,
                                 const std::filesystem::path& data_dir, std::string settings_json)
    : library_path_(std::move(library_path)),
      department_(std::move(department)),
      host_(std::make_unique<FakeHost>(department_config_json(department_, settings_json), data_dir.string())) {}

PluginUnderTest::~PluginUnderTest() { unload(); }

hub::sdk::HandleResult PluginUnderTest::start() {
  unload();
  auto result = hub::load_plugin(library_path_, department_);
  if (auto* error = std::get_if<hub::PluginLoadError>(&result))
    return hub::sdk::HandleResult::error(error->code + ": " + error->message);
  loaded_ = std::move(std::get<std::unique_ptr<hub::LoadedPlugin>>(result));
  hub::sdk::HandleResult started = loaded_->instance().start(*host_);
  started_ = started.is_ok();
  return started;
}

hub::sdk::HandleResult PluginUnderTest::restart() { return start(); }

void PluginUnderTest::unload() {
  if (loaded_ && started_) loaded_->instance().stop();
  started_ = false;
  loaded_.reset();  // destroys the instance with its own library's code, then unloads
}

hub::sdk::PluginInstance& PluginUnderTest::instance() {
  if (!loaded_ || !started_) throw std::logic_error("PluginUnderTest: the plugin is not started");
  return loaded_->instance();
}

hub::sdk::HandleResult PluginUnderTest::handle(const hub::sdk::Event& event,
                                               std::vector<hub::sdk::PolicyAction>& actions) {
  // A batch of one event, as hubd would deliver it: handle, then end the batch.
  hub::sdk::HandleResult result = instance().handle(event, actions);
  hub::sdk::HandleResult end = instance().end_batch();
  return result.is_ok() ? end : result;
}

std::vector<hub::sdk::PolicyAction> PluginUnderTest::handle_ok(const hub::sdk::Event& event) {
  std::vector<hub::sdk::PolicyAction> actions;
  const hub::sdk::HandleResult result = handle(event, actions);
  if (!result.is_ok())
    ADD_FAILURE() << department_ << " answered code " << static_cast<int>(result.code()) << " for "
                  << event.idempotency_key << ": " << result.message();
  return actions;
}

// --- events and checks ----------------------------------------------------------------------

hub::sdk::Event make_event(std::string_view department, const StatusChange& change) {
  hub::sdk::Event event;
  event.sequence = change.sequence;
  event.event_id = "ev-" + change.quarter + "-" + change.household_id;
  event.idempotency_key = std::string(department) + ":" + std::to_string(change.sequence);
  event.household_id = change.household_id;
  event.village = change.household_id.substr(0, change.household_id.find('-'));
  event.previous_status = change.previous;
  event.new_status = change.next;
  event.previous_quarter = change.previous_quarter;
  event.quarter = change.quarter;
  // The first day of the following quarter, e.g. 2020Q3 → 2020-10-01.
  if (change.quarter.size() == 6 && change.quarter[4] == 'Q' && change.quarter[5] >= '1' && change.quarter[5] <= '4') {
    const int year = std::stoi(change.quarter.substr(0, 4));
    const int q = change.quarter[5] - '0';
    const int next_year = q == 4 ? year + 1 : year;
    const int month = q == 4 ? 1 : q * 3 + 1;
    event.effective_date = std::to_string(next_year) + (month < 10 ? "-0" : "-") + std::to_string(month) + "-01";
  }
  event.designations = change.designations;
  event.correction = change.correction;
  return event;
}

std::string contract_violations(const hub::sdk::Catalogue& catalogue, const hub::sdk::Event& event,
                                const std::vector<hub::sdk::PolicyAction>& actions) {
  std::string out;
  auto violation = [&](const std::string& text) { out += text + "\n"; };
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto& a = actions[i];
    const std::string where = "actions[" + std::to_string(i) + "] (" + a.policy_id + "): ";
    if (a.household_id != event.household_id)
      violation(where + "household " + a.household_id + ", the event's is " + event.household_id);
    if (a.reason.empty()) violation(where + "empty reason");
    if (a.reason.size() > kMaxReasonBytes) violation(where + "reason longer than the hub accepts");
    const auto* policy = catalogue.find(a.policy_id);
    if (policy == nullptr) {
      violation(where + "policy not in the " + catalogue.department() + " catalogue");
      continue;
    }
    if (a.amount_fen && *a.amount_fen < 0) violation(where + "negative amount");
    if (policy->money && a.action != hub::sdk::ActionKind::kNotApplicable && !a.amount_fen)
      violation(where + "money policy without amount_fen on " + std::string(hub::sdk::to_string(a.action)));
    if (policy->money && a.action == hub::sdk::ActionKind::kNotApplicable && a.amount_fen)
      violation(where + "amount_fen on not_applicable");
    if (!policy->money && a.amount_fen) violation(where + "amount_fen on a policy without money");
  }
  for (const auto& policy : catalogue.policies()) {
    if (actions_for(actions, policy.id).empty()) violation("no action for policy " + policy.id);
  }
  return out;
}

std::vector<hub::sdk::PolicyAction> actions_for(const std::vector<hub::sdk::PolicyAction>& actions,
                                                std::string_view policy_id) {
  std::vector<hub::sdk::PolicyAction> out;
  for (const auto& a : actions)
    if (a.policy_id == policy_id) out.push_back(a);
  return out;
}

std::string describe(const std::vector<hub::sdk::PolicyAction>& actions) {
  std::string out;
  for (const auto& a : actions) {
    out += a.policy_id + " " + a.household_id + " " + std::string(hub::sdk::to_string(a.action)) + " " +
           (a.amount_fen ? std::to_string(*a.amount_fen) : std::string("-")) + " " + a.reason + "\n";
  }
  return out;
}

}  // namespace hub::plugin_testing
