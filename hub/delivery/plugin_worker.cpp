#include "delivery/plugin_worker.h"

#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "delivery/delivery_messages.h"
#include "hub/loader/action_validator.h"
#include "hub/loader/plugin_loader.h"
#include "hub/sdk/connectors.h"

namespace hub::delivery {
namespace {

// The Host a plugin sees inside hubd.
class DaemonHost final : public hub::sdk::Host {
 public:
  DaemonHost(std::string id, std::string config_json, std::string data_dir)
      : id_(std::move(id)), config_json_(std::move(config_json)), data_dir_(std::move(data_dir)) {}

  void log(hub::sdk::LogLevel level, std::string_view message) noexcept override {
    try {
      switch (level) {
        case hub::sdk::LogLevel::kDebug: spdlog::debug("[{}] {}", id_, message); break;
        case hub::sdk::LogLevel::kInfo: spdlog::info("[{}] {}", id_, message); break;
        case hub::sdk::LogLevel::kWarn: spdlog::warn("[{}] {}", id_, message); break;
        case hub::sdk::LogLevel::kError: spdlog::error("[{}] {}", id_, message); break;
      }
    } catch (...) {
    }
  }
  std::string_view config_json() const noexcept override { return config_json_; }
  std::string_view data_dir() const noexcept override { return data_dir_; }
  std::int64_t now_unix_ms() const noexcept override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  std::string id_;
  std::string config_json_;
  std::string data_dir_;
};

bool subscribed(const PluginConfig& plugin, const LoggedEvent& e) {
  return e.type == EventType::kStatusChange && plugin.subscribes(e.village, std::string(hub::sdk::to_string(e.status)));
}

hub::sdk::Event to_sdk_event(const std::string& department, const LoggedEvent& e) {
  hub::sdk::Event out;
  out.sequence = e.seq;
  out.event_id = e.event_id;
  out.idempotency_key = department + ":" + std::to_string(e.seq);
  out.household_id = e.household_id;
  out.village = e.village;
  out.previous_status = e.previous_status;
  out.new_status = e.status;
  out.previous_quarter = e.previous_quarter;
  out.quarter = e.quarter;
  out.effective_date = e.effective_date;
  out.designations = e.designations;
  out.correction = e.correction;
  return out;
}

// Hands validated actions to the department's system. On success records how in `delivered`;
// on failure returns the reason, and the event fails for this department (retried later
// with the same idempotency key).
std::optional<std::string> hand_off(hub::sdk::Connector& connector, const hub::sdk::Event& event,
                                    DeliveredEvent& delivered) {
  const hub::sdk::HandoffResult result = connector.deliver(event, delivered.actions);
  const std::string type(hub::sdk::to_string(connector.type()));
  if (!result.ok) return "handoff_failed: " + type + ": " + result.detail;
  delivered.handoff = type;
  delivered.handoff_detail = result.detail;
  return std::nullopt;
}

// Makes the report's hand-offs durable before the dispatcher records them. If that fails,
// none of them counts: the report fails at its first delivered event.
std::optional<std::string> sync_handoffs(hub::sdk::Connector& connector, Report& report) {
  if (report.delivered.empty()) return std::nullopt;
  const hub::sdk::HandoffResult synced = connector.sync();
  if (synced.ok) return std::nullopt;
  const std::string failure =
      "handoff_failed: " + std::string(hub::sdk::to_string(connector.type())) + ": " + synced.detail;
  report.failed = true;
  report.failed_seq = report.delivered.front().seq;
  report.failure = failure;
  report.done_upto = report.failed_seq - 1;
  report.delivered.clear();
  return failure;
}

}  // namespace

PluginWorker::PluginWorker(zmq::context_t& context, const PluginConfig& plugin, std::string data_dir,
                           std::string pipe_endpoint)
    : context_(context), plugin_(plugin), data_dir_(std::move(data_dir)), pipe_endpoint_(std::move(pipe_endpoint)) {}

void PluginWorker::run() {
  zmq::socket_t pipe(context_, zmq::socket_type::pair);
  pipe.connect(pipe_endpoint_);

  auto wait_for_terminate = [&] {
    for (;;) {
      auto [tag, pointer] = receive_owned(pipe);
      if (tag == Tag::kTerminate) return;
      if (tag == Tag::kRequest) delete static_cast<Request*>(pointer);
    }
  };

  // Load, check, create.
  auto loaded = load_plugin(plugin_.library, plugin_.id);
  if (auto* error = std::get_if<PluginLoadError>(&loaded)) {
    auto started = std::make_unique<Started>();
    started->error_code = error->code;
    started->error = error->message;
    send_owned(pipe, Tag::kStarted, std::move(started));
    wait_for_terminate();
    return;
  }
  auto plugin = std::move(std::get<std::unique_ptr<LoadedPlugin>>(loaded));

  // Start.
  const std::string plugin_dir = (std::filesystem::path(data_dir_) / "plugins" / plugin_.id).string();
  std::error_code ec;
  std::filesystem::create_directories(plugin_dir, ec);
  nlohmann::json config{{"id", plugin_.id},
                        {"catalogue", nlohmann::json::parse(plugin_.catalogue_json)},
                        {"settings", nlohmann::json::parse(plugin_.settings_json)}};
  DaemonHost host(plugin_.id, config.dump(), plugin_dir);
  const auto start = plugin->instance().start(host);
  if (!start.is_ok()) {
    auto started = std::make_unique<Started>();
    started->error_code = "start_failed";
    started->error = "plugin " + plugin_.id + " failed to start: " + start.message();
    plugin.reset();  // destroy, unload
    send_owned(pipe, Tag::kStarted, std::move(started));
    wait_for_terminate();
    return;
  }
  // The connector to the department's system, if one is configured.
  std::string connector_error;
  const std::unique_ptr<hub::sdk::Connector> connector = hub::sdk::make_connector(plugin_.connector, &connector_error);
  if (!connector && plugin_.connector.type != hub::sdk::ConnectorConfig::Type::kNone) {
    auto started = std::make_unique<Started>();
    started->error_code = "connector_failed";
    started->error = "plugin " + plugin_.id + ": " + connector_error;
    plugin->instance().stop();
    plugin.reset();
    send_owned(pipe, Tag::kStarted, std::move(started));
    wait_for_terminate();
    return;
  }
  {
    auto started = std::make_unique<Started>();
    started->ok = true;
    started->info = plugin->instance().info();
    send_owned(pipe, Tag::kStarted, std::move(started));
  }

  // Run.
  std::uint64_t failed_generation = 0;
  bool has_failed = false;
  std::vector<hub::sdk::PolicyAction> actions;
  for (;;) {
    auto [tag, pointer] = receive_owned(pipe);
    if (tag == Tag::kTerminate) break;
    if (tag != Tag::kRequest) continue;
    std::unique_ptr<Request> request(static_cast<Request*>(pointer));
    auto report = std::make_unique<Report>();
    report->generation = request->generation;
    const auto& events = request->chunk->events;
    report->done_upto = request->chunk->first_seq + request->begin - 1;
    if (has_failed && request->generation <= failed_generation) {
      report->skipped = true;
      send_owned(pipe, Tag::kReport, std::move(report));
      continue;
    }
    std::uint64_t first_handled = 0;
    for (std::size_t i = request->begin; i < request->end; ++i) {
      const LoggedEvent& e = events[i];
      if (subscribed(plugin_, e)) {
        if (first_handled == 0) first_handled = e.seq;
        actions.clear();
        const hub::sdk::Event event = to_sdk_event(plugin_.id, e);
        const auto result = plugin->instance().handle(event, actions);
        std::optional<std::string> failure = answer_failure(result, plugin_.catalogue, e.household_id, actions);
        DeliveredEvent delivered;
        delivered.seq = e.seq;
        delivered.household_id = e.household_id;
        delivered.event_id = e.event_id;
        delivered.actions = std::move(actions);
        if (!failure && connector) failure = hand_off(*connector, event, delivered);
        if (failure) {
          report->failed = true;
          report->failed_seq = e.seq;
          report->failure = *failure;
          has_failed = true;
          failed_generation = request->generation;
          break;
        }
        report->delivered.push_back(std::move(delivered));
      }
      report->done_upto = e.seq;
    }
    // The plugin commits its own records for the batch; only then may the hub record it.
    if (first_handled != 0) {
      const auto end = plugin->instance().end_batch();
      if (!end.is_ok()) {
        report->delivered.clear();
        report->done_upto = first_handled - 1;
        report->failed = true;
        report->failed_seq = first_handled;
        report->failure = (end.code() == hub::sdk::HandleResult::Code::kRetry ? "plugin asked to retry the batch: "
                                                                               : "plugin error at the end of the batch: ") +
                          end.message();
        has_failed = true;
        failed_generation = request->generation;
      }
    }
    // Then the hand-offs of what is still delivered are made durable (a failed end of batch
    // has cleared them: those events are delivered again, to the same idempotency keys).
    if (connector && sync_handoffs(*connector, *report)) {
      has_failed = true;
      failed_generation = request->generation;
    }
    send_owned(pipe, Tag::kReport, std::move(report));
  }

  // Stop, destroy, unload.
  plugin->instance().stop();
  plugin.reset();
}

}  // namespace hub::delivery
