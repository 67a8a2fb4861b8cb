#include "runtime/dry_evaluation.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "hub/loader/action_validator.h"
#include "hub/loader/plugin_loader.h"
#include "hub/sdk/host.h"

namespace hub::runtime {
namespace {

namespace fs = std::filesystem;

// The Host of a dry instance: the department's configuration, the scratch data directory, and
// a log that says the lines come from a preview.
class PreviewHost final : public hub::sdk::Host {
 public:
  PreviewHost(std::string id, std::string config_json, std::string data_dir)
      : id_(std::move(id)), config_json_(std::move(config_json)), data_dir_(std::move(data_dir)) {}
  void log(hub::sdk::LogLevel level, std::string_view message) noexcept override {
    try {
      if (level >= hub::sdk::LogLevel::kWarn) spdlog::warn("[{} preview] {}", id_, message);
      else spdlog::debug("[{} preview] {}", id_, message);
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
  std::string id_, config_json_, data_dir_;
};

// Copies the plugin's data directory, leaving out SQLite's shared-memory index (-shm), which
// belongs to the live connection; the copy's WAL, if any, is recovered when the plugin opens it.
std::string copy_data_dir(const fs::path& live, const fs::path& scratch) {
  std::error_code ec;
  fs::create_directories(scratch, ec);
  if (ec) return "cannot make " + scratch.string() + ": " + ec.message();
  if (!fs::exists(live, ec)) return {};
  for (auto it = fs::recursive_directory_iterator(live, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const fs::path relative = fs::relative(it->path(), live, ec);
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, "-shm") == 0) continue;
    if (it->is_directory(ec)) {
      fs::create_directories(scratch / relative, ec);
    } else if (it->is_regular_file(ec)) {
      fs::copy_file(it->path(), scratch / relative, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) return "cannot copy " + it->path().string() + ": " + ec.message();
  }
  return ec ? "cannot copy " + live.string() + ": " + ec.message() : std::string();
}

struct Job {
  PluginConfig plugin;
  std::string scratch;
  std::vector<hub::sdk::Event> events;
  DryEvaluation result;
};

void run_job(Job& job) {
  const PluginConfig& pc = job.plugin;
  auto loaded = load_plugin(pc.library, pc.id);
  if (auto* error = std::get_if<PluginLoadError>(&loaded)) {
    job.result.error = error->code + ": " + error->message;
    return;
  }
  std::unique_ptr<LoadedPlugin> plugin = std::move(std::get<std::unique_ptr<LoadedPlugin>>(loaded));
  const nlohmann::json config{{"id", pc.id},
                              {"catalogue", nlohmann::json::parse(pc.catalogue_json)},
                              {"settings", nlohmann::json::parse(pc.settings_json)}};
  PreviewHost host(pc.id, config.dump(), job.scratch);
  if (const auto started = plugin->instance().start(host); !started.is_ok()) {
    job.result.error = "plugin " + pc.id + " failed to start: " + started.message();
    plugin.reset();
    return;
  }
  job.result.answers.reserve(job.events.size());
  for (const auto& event : job.events) {
    DryAnswer answer;
    const auto handled = plugin->instance().handle(event, answer.actions);
    if (auto failure = answer_failure(handled, pc.catalogue, event.household_id, answer.actions)) {
      answer.failure = *failure;
      answer.actions.clear();
    }
    job.result.answers.push_back(std::move(answer));
  }
  plugin->instance().stop();  // no on_batch_end: the plugin's batch is rolled back
  plugin.reset();             // destroyed by its library, then unloaded
}

}  // namespace

DryEvaluation dry_evaluate(const PluginConfig& plugin, const std::string& data_dir,
                           const std::vector<hub::sdk::Event>& events, std::chrono::milliseconds timeout) {
  DryEvaluation out;
  if (plugin.placement != Placement::kInProcess) {
    out.error = "plugin " + plugin.id + " runs on a plugin host, which cannot be asked for a preview";
    return out;
  }
  static std::atomic<std::uint64_t> counter{0};
  // Copies left behind by an earlier hubd that died during a preview: removed before the first
  // preview of this process (one hubd per data directory, so every other pid's copy is stale).
  static std::once_flag swept;
  std::call_once(swept, [&] {
    std::error_code ec;
    const std::string mine = "-" + std::to_string(::getpid()) + "-";
    for (auto it = fs::directory_iterator(fs::path(data_dir) / "preview", ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
      if (it->path().filename().string().find(mine) == std::string::npos) {
        std::error_code removed;
        fs::remove_all(it->path(), removed);
      }
  });
  const fs::path live = fs::path(data_dir) / "plugins" / plugin.id;
  const fs::path scratch = fs::path(data_dir) / "preview" /
                           (plugin.id + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  auto job = std::make_shared<Job>();
  job->plugin = plugin;
  job->scratch = scratch.string();
  job->events = events;
  if (std::string error = copy_data_dir(live, scratch); !error.empty()) {
    std::error_code ec;
    fs::remove_all(scratch, ec);
    out.error = error;
    return out;
  }
  // The plugin runs on a thread of its own that owns the job: when it hangs past the timeout it
  // is left behind (detached) with everything it uses, and cleans up if it ever returns.
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  std::thread([job, done] {
    try {
      run_job(*job);
    } catch (const std::exception& e) {
      job->result.error = std::string("preview failed: ") + e.what();
    }
    std::error_code ec;
    fs::remove_all(job->scratch, ec);
    done->set_value();
  }).detach();
  if (finished.wait_for(timeout) != std::future_status::ready) {
    out.error = "plugin " + plugin.id + " did not answer the preview within " + std::to_string(timeout.count()) + " ms";
    return out;
  }
  return std::move(job->result);
}

}  // namespace hub::runtime
