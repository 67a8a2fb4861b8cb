// A department's plugin lifecycle, on the delivery thread: what its transport says about the
// plugin (started, reloaded, refused, host lost, host crashed), the operators' recorded
// decisions applied at start-up, and how "plugins list" shows them.
#include <ctime>

#include <spdlog/spdlog.h>

#include "delivery/dispatcher.h"

namespace hub::delivery {

using namespace hub::runtime;  // the messages this thread exchanges with the transports
using nlohmann::json;

namespace {

// "2026-11-30T08:00:00Z" for log lines.
std::string utc_time(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

void Dispatcher::on_started(Department& d, std::unique_ptr<Started> started) {
  {
    if (!started->reload || !started->host.empty()) d.host = started->host;  // the link's own reload answers name none
    if (started->reload) {
      const std::string old_version = d.plugin_version;
      if (started->ok) {
        d.plugin_version = started->info.version;
        d.abi_version = started->info.abi_version;
        d.pending.plugin_version = d.plugin_version;
        d.library = started->library;
        d.library_error.clear();
        d.last_error.clear();
        d.state = next_state(d.state, DeliveryInput::kReloaded);
        if (d.state == DeliveryState::kRetrying) d.retry_at = Clock::now();  // try the failing event again at once
        spdlog::info("delivery: plugin {} reloaded: {} -> {} ({})", d.config->id, old_version, d.plugin_version,
                     d.library);
        const std::int64_t at = now_ms();
        if (d.config->placement == Placement::kHost) {
          // Nothing to record: a plugin host always starts the library its own configuration names.
          finish_op(d, {{"ok", true}, {"previous_version", old_version}, {"plugin_version", d.plugin_version},
                        {"library", d.library}, {"reloaded_at_ms", at}});
          return;
        }
        // Durable before the reply says ok: after a restart hubd starts with this build.
        try {
          ledger_->record_reload(d.config->id, d.library, d.plugin_version, d.config->library, d.op_by, at);
        } catch (const StorageError& e) {
          spdlog::error("delivery: the reload of {} could not be recorded ({}); {} runs until hubd restarts", d.config->id,
                        e.what(), d.library);
          finish_op(d, {{"ok", false},
                        {"error",
                         {{"code", "storage_unavailable"},
                          {"message", "the new build " + d.plugin_version + " is running, but the ledger could not record "
                                      "the reload: after a restart of hubd the previous choice applies (" + e.what() + ")"}}},
                        {"previous_version", old_version},
                        {"plugin_version", d.plugin_version},
                        {"library", d.library}});
          return;
        }
        d.lifecycle.library = d.library;
        d.lifecycle.library_version = d.plugin_version;
        d.lifecycle.config_library = d.config->library;
        d.lifecycle.reloaded_by = d.op_by;
        d.lifecycle.reloaded_at_ms = at;
        finish_op(d, {{"ok", true}, {"previous_version", old_version}, {"plugin_version", d.plugin_version},
                      {"library", d.library}, {"reloaded_at_ms", at}});
      } else {
        spdlog::error("delivery: reload of plugin {} refused: {}: {}{}", d.config->id, started->error_code,
                      started->error, started->keeps_running ? " (the previous build keeps running)" : "");
        if (!started->keeps_running) {
          d.state = next_state(d.state, DeliveryInput::kReloadRefusedDown);
          d.last_error = started->error_code + ": " + started->error;
        }
        finish_op(d, {{"ok", false},
                      {"error", {{"code", started->error_code}, {"message", started->error}}},
                      {"previous_build_running", started->keeps_running},
                      {"plugin_version", d.plugin_version}});
      }
      return;
    }
    if (!started->fallback_error.empty()) {
      // The library of the recorded reload is missing or refused: the config's runs instead
      // (the record is kept: the next start tries it again; a reload replaces it).
      d.library_error = started->fallback_error;
      spdlog::error("delivery: plugin {}: the library {} chosen by the reload of {} could not be loaded: {}; "
                    "falling back to the configuration's {}",
                    d.config->id, d.start_library, d.lifecycle.reloaded_by, started->fallback_error, d.config->library);
    }
    if (started->ok) {
      d.lost_upto = 0;  // a new instance: nothing sent to it yet
      if (!started->library.empty()) d.library = started->library;
      // A plugin host back after a failure waits out the retry backoff first.
      const bool in_backoff = d.failing_seq != 0 && Clock::now() < d.retry_at;
      d.state = next_state(d.state, in_backoff ? DeliveryInput::kStartedInBackoff : DeliveryInput::kStarted);
      d.plugin_version = started->info.version;
      d.abi_version = started->info.abi_version;
      d.pending.plugin_version = d.plugin_version;
      spdlog::info("delivery: plugin {} {} started (ABI {}){}, cursor {}", d.config->id, d.plugin_version,
                   d.abi_version, d.host.empty() ? "" : " on plugin host '" + d.host + "'", d.cursor.seq);
    } else {
      // Refused at start, or a running plugin that hung too often: nothing more goes to it
      // until it is reloaded. What was sent is disowned; delivery resumes from the cursor.
      const bool was_running = d.state != DeliveryState::kStarting;
      d.state = next_state(d.state, DeliveryInput::kStartRefused);
      d.last_error = started->error_code + ": " + started->error;
      if (!started->fallback_error.empty())
        d.last_error = "reloaded library " + d.start_library + ": " + started->fallback_error +
                       "; configuration's library: " + d.last_error;
      ++d.generation;
      d.sent_upto = std::max(d.cursor.seq, d.pending.new_cursor);
      spdlog::error("delivery: plugin {} {}: {}", d.config->id, was_running ? "stopped" : "refused", d.last_error);
    }
  }
}

void Dispatcher::on_host_lost(Department& d) {
  // Like a failure without a failed event: disown what was sent (the host link answers those
  // requests with skipped reports) and resume after the last event whose result arrived.
  ++d.generation;
  if (d.state != DeliveryState::kWaitingForHost) d.lost_upto = std::max(d.lost_upto, d.sent_upto);
  d.sent_upto = std::max(d.cursor.seq, d.pending.new_cursor);
  if (d.state != DeliveryState::kWaitingForHost)
    spdlog::warn("delivery: {} has no plugin host; waiting for one (resumes after seq {})", d.config->id, d.sent_upto);
  d.state = next_state(d.state, DeliveryInput::kHostLost);
  d.host.clear();
  auto rewound = std::make_unique<Rewound>();
  rewound->generation = d.generation;
  send_owned(d.pipe, Tag::kRewound, std::move(rewound));
}

void Dispatcher::on_host_crashed(Department& d, const HostCrash& crash) {
  d.host_failure = crash.reason;
  d.last_error = crash.reason;
  // Only an event that was sent to the lost host and has no result yet can be blamed.
  const std::uint64_t resume = std::max(d.cursor.seq, d.pending.new_cursor);
  if (crash.seq == 0) return;
  if (crash.seq <= resume || crash.seq > d.lost_upto || crash.seq > last_seq_) {
    spdlog::warn("delivery: {}: the restarted plugin host blames seq {}, which was not in flight ({}..{}); not counted",
                 d.config->id, crash.seq, resume + 1, d.lost_upto);
    return;
  }
  count_failure(d, crash.seq, crash.reason);
}

void Dispatcher::apply_plugin_state(Department& d, const PluginState& state) {
  const PluginConfig& plugin = *d.config;
  d.lifecycle = state;
  if (state.disabled && plugin.enabled) {
    d.paused = true;  // loaded, but nothing is delivered until an operator enables it
    spdlog::warn("delivery: {} stays disabled (by {} since {}{}); its lag grows until: hubctl plugins enable {}",
                 plugin.id, state.disabled_by, utc_time(state.disabled_at_ms),
                 state.disabled_reason.empty() ? "" : ": " + state.disabled_reason, plugin.id);
  }
  if (state.library.empty() || !plugin.enabled) return;
  if (plugin.placement == Placement::kHost) {
    spdlog::warn("delivery: {} runs on a plugin host: the library {} of its reload by {} is not used here (the host "
                 "loads its own)",
                 plugin.id, state.library, state.reloaded_by);
    return;
  }
  if (state.config_library != plugin.library) {
    // The operator edited the configuration after the reload: the configuration wins.
    spdlog::warn("delivery: {}: the configuration's library is now {} (it was {} when {} reloaded {}); loading the "
                 "configuration's {}, not the reloaded {}",
                 plugin.id, plugin.library, state.config_library, state.reloaded_by, state.library, plugin.library,
                 state.library);
    try {
      ledger_->forget_reload(plugin.id,
                             "the configuration's library changed from " + state.config_library + " to " +
                                 plugin.library + " after the reload to " + state.library,
                             now_ms());
    } catch (const StorageError& e) {
      spdlog::error("delivery: cannot record that {}'s reload no longer applies ({}); it is ignored again at the next "
                    "start",
                    plugin.id, e.what());
    }
    d.lifecycle.library.clear();
    d.lifecycle.library_version.clear();
    d.lifecycle.config_library.clear();
    d.lifecycle.reloaded_by.clear();
    d.lifecycle.reloaded_at_ms = 0;
    return;
  }
  if (state.library == plugin.library) return;  // the configuration's file, reloaded (e.g. rebuilt in place)
  d.start_library = state.library;
  spdlog::info("delivery: {} starts with {} (reloaded by {}), not the configuration's {}", plugin.id, state.library,
               state.reloaded_by, plugin.library);
}

// The operators' decisions as "plugins list" shows them (docs/protocol.md).
json Dispatcher::lifecycle_json(const Department& d) const {
  const PluginState& s = d.lifecycle;
  const auto text_or_null = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
  const auto ms_or_null = [](std::int64_t v) { return v == 0 ? json(nullptr) : json(v); };
  const bool hosted = d.config->placement == Placement::kHost;
  std::string source = "config";
  if (hosted)
    source = "host";
  else if (!s.library.empty() && d.library == s.library)
    source = "reload";
  else if (d.library != d.config->library)
    source = "reload";  // reloaded, but the ledger could not record it (storage_unavailable)
  const bool reloaded = source == "reload" && !s.library.empty();
  return {{"disabled", d.paused || s.disabled},
          {"disabled_by", text_or_null(s.disabled_by)},
          {"disabled_at_ms", ms_or_null(s.disabled_at_ms)},
          {"disabled_reason", text_or_null(s.disabled_reason)},
          {"library_source", source},
          {"config_library", hosted ? "" : d.config->library},
          {"reloaded_by", reloaded ? json(s.reloaded_by) : json(nullptr)},
          {"reloaded_at_ms", reloaded ? json(s.reloaded_at_ms) : json(nullptr)},
          {"reloaded_library", text_or_null(s.library)},
          {"library_error", d.library_error}};
}

}  // namespace hub::delivery
