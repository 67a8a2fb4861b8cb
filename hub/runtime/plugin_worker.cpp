#include "runtime/plugin_worker.h"
#include "runtime/subscription.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "runtime/worker_messages.h"
#include "hub/loader/action_validator.h"
#include "hub/loader/plugin_loader.h"
#include "hub/sdk/connectors.h"

namespace hub::runtime {
namespace {

thread_local const CallProbe* t_probe = nullptr;  // see probe_of_this_thread()

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

// Runs every call into one plugin instance on a thread of its own, so that a call that hangs
// can be given up: the worker waits for each job, and when the plugin call in progress has
// taken longer than the timeout it abandons the thread (detached, it keeps the instance, its
// Host and the library alive until the call returns, if ever) and never touches that instance
// again. A job brackets each plugin call with begin_call()/end_call(); once end_call() says
// the caller was abandoned, the job must return at once without touching anything shared.
// What a job and its waiting worker share; jobs hold it by shared_ptr (never the caller
// itself, which the worker destroys when it abandons a call).
struct CallState {
  std::mutex m;
  std::condition_variable cv;
  std::function<void()> job;
  bool has_job = false;
  bool job_done = false;
  bool quit = false;
  bool abandoned = false;
  bool in_call = false;
  std::uint64_t call_seq = 0;
  std::chrono::steady_clock::time_point call_started{};
  CallProbe* probe = nullptr;  // told about every call, if set; left alone once abandoned

  // For the job, around each plugin call.
  void begin_call(CallProbe::Phase phase, std::uint64_t seq = 0) {
    std::lock_guard lock(m);
    in_call = true;
    call_seq = seq;
    call_started = std::chrono::steady_clock::now();
    if (probe != nullptr) probe->set(phase, seq);
  }
  // false: the call was abandoned meanwhile; the job must return at once.
  bool end_call() {
    std::lock_guard lock(m);
    in_call = false;
    if (!abandoned && probe != nullptr) probe->set(CallProbe::kIdle);
    return !abandoned;
  }
};

class PluginCaller {
 public:
  explicit PluginCaller(CallProbe* probe) : s_(std::make_shared<CallState>()) {
    s_->probe = probe;
    thread_ = std::thread([s = s_] {
      t_probe = s->probe;  // every call of this instance runs here
      std::unique_lock lock(s->m);
      for (;;) {
        s->cv.wait(lock, [&] { return s->has_job || s->quit; });
        if (s->quit) return;
        auto job = std::move(s->job);
        s->has_job = false;
        lock.unlock();
        job();
        job = nullptr;  // frees what it captured, on this thread
        lock.lock();
        s->job_done = true;
        s->cv.notify_all();
        if (s->abandoned) return;
      }
    });
  }
  ~PluginCaller() {
    bool abandoned = false;
    {
      std::lock_guard lock(s_->m);
      s_->quit = true;
      abandoned = s_->abandoned;
      s_->cv.notify_all();
    }
    if (abandoned) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
  PluginCaller(const PluginCaller&) = delete;
  PluginCaller& operator=(const PluginCaller&) = delete;

  const std::shared_ptr<CallState>& state() const { return s_; }

  // Runs `job` on the call thread and waits for it. Returns false when a plugin call in it took
  // longer than `timeout_ms` (then this caller is abandoned and may not be used again).
  bool run(std::function<void()> job, std::int64_t timeout_ms) {
    std::unique_lock lock(s_->m);
    if (s_->abandoned) return false;
    s_->job = std::move(job);
    s_->has_job = true;
    s_->job_done = false;
    s_->cv.notify_all();
    while (!s_->job_done) {
      s_->cv.wait_for(lock, std::chrono::milliseconds(20));
      if (!s_->job_done && s_->in_call &&
          std::chrono::steady_clock::now() - s_->call_started > std::chrono::milliseconds(timeout_ms)) {
        s_->abandoned = true;
        if (s_->probe != nullptr) s_->probe->set(CallProbe::kIdle);  // this process no longer waits for it
        return false;
      }
    }
    return true;
  }
  std::uint64_t call_seq() {
    std::lock_guard lock(s_->m);
    return s_->call_seq;
  }

 private:
  std::shared_ptr<CallState> s_;
  std::thread thread_;
};

// A started plugin instance with the Host it was given (which must outlive it) and its caller.
struct Instance {
  std::shared_ptr<DaemonHost> host;
  std::shared_ptr<LoadedPlugin> plugin;
  std::unique_ptr<PluginCaller> caller;
  std::string library;
};

}  // namespace

namespace {


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

const CallProbe* probe_of_this_thread() noexcept { return t_probe; }

const char* to_string(CallProbe::Phase phase) {
  switch (phase) {
    case CallProbe::kIdle: return "idle";
    case CallProbe::kLoading: return "loading";
    case CallProbe::kStarting: return "starting";
    case CallProbe::kHandling: return "handling";
    case CallProbe::kEndingBatch: return "ending_batch";
    case CallProbe::kStopping: return "stopping";
  }
  return "idle";
}

PluginWorker::PluginWorker(zmq::context_t& context, const PluginConfig& plugin, std::string data_dir,
                           std::string pipe_endpoint, std::string library_override, CallProbe* probe)
    : context_(context),
      plugin_(plugin),
      data_dir_(std::move(data_dir)),
      pipe_endpoint_(std::move(pipe_endpoint)),
      library_override_(std::move(library_override)),
      probe_(probe) {}

namespace {

constexpr int kMaxAbandonedCalls = 8;  // hung calls given up before the department is marked hung

struct StartOutcome {
  std::unique_ptr<Instance> instance;
  std::string error_code;
  std::string error;
};

// Takes `loaded` (the result of loading `load_path`, reported as `library`) and starts the
// instance on a new caller thread, within the call timeout.
StartOutcome start_instance(const PluginConfig& pc, const std::string& library, const std::string& load_path,
                            const std::string& plugin_dir, PluginLoadResult loaded, CallProbe* probe) {
  StartOutcome out;
  if (auto* error = std::get_if<PluginLoadError>(&loaded)) {
    out.error_code = error->code;
    out.error = error->message;
    if (load_path != library) {  // a private copy: name the file the operator gave
      for (std::size_t at = out.error.find(load_path); at != std::string::npos; at = out.error.find(load_path))
        out.error.replace(at, load_path.size(), library);
    }
    return out;
  }
  nlohmann::json config{{"id", pc.id},
                        {"catalogue", nlohmann::json::parse(pc.catalogue_json)},
                        {"settings", nlohmann::json::parse(pc.settings_json)}};
  auto instance = std::make_unique<Instance>();
  instance->host = std::make_shared<DaemonHost>(pc.id, config.dump(), plugin_dir);
  instance->plugin = std::shared_ptr<LoadedPlugin>(std::move(std::get<std::unique_ptr<LoadedPlugin>>(loaded)));
  instance->caller = std::make_unique<PluginCaller>(probe);
  instance->library = library;
  auto result = std::make_shared<hub::sdk::HandleResult>(hub::sdk::HandleResult::ok());
  PluginCaller* waiter = instance->caller.get();
  const bool in_time = waiter->run(
      [caller = waiter->state(), result, plugin = instance->plugin, host = instance->host] {
        caller->begin_call(CallProbe::kStarting);
        auto r = plugin->instance().start(*host);
        if (caller->end_call()) *result = r;
      },
      pc.call_timeout_ms);
  if (!in_time) {
    instance->plugin.reset();
    instance->host.reset();
    out.error_code = "start_failed";
    out.error = "plugin " + pc.id + " did not start within " + std::to_string(pc.call_timeout_ms) + " ms";
    return out;
  }
  if (!result->is_ok()) {
    out.error_code = "start_failed";
    out.error = "plugin " + pc.id + " failed to start: " + result->message();
    PluginCaller* c = instance->caller.get();
    c->run([p = std::move(instance->plugin)]() mutable { p.reset(); }, pc.call_timeout_ms);  // destroy, unload
    return out;
  }
  out.instance = std::move(instance);
  return out;
}

// Stops and destroys an instance (on its own thread, within the timeout; a hung stop is
// abandoned like any other call).
void stop_instance(std::unique_ptr<Instance> instance, std::int64_t timeout_ms) {
  if (!instance) return;
  PluginCaller* waiter = instance->caller.get();
  waiter->run(
      [caller = waiter->state(), host = instance->host, plugin = std::move(instance->plugin)]() mutable {
        (void)host;  // kept alive as long as the plugin might use it
        caller->begin_call(CallProbe::kStopping);
        plugin->instance().stop();
        if (caller->end_call()) plugin.reset();
      },
      timeout_ms);
  instance->caller.reset();  // joins, or detaches an abandoned thread
}

// The state of one batch, shared with the call thread (which may outlive the worker's interest
// in it when a call hangs).
struct BatchJob {
  std::unique_ptr<Request> request;
  std::unique_ptr<Report> report = std::make_unique<Report>();
  std::vector<hub::sdk::PolicyAction> actions;
  std::uint64_t first_handled = 0;
  bool timed_out = false;
  bool in_end_batch = false;
};

}  // namespace

void PluginWorker::run() {
  zmq::socket_t pipe(context_, zmq::socket_type::pair);
  pipe.connect(pipe_endpoint_);

  const std::string plugin_dir = (std::filesystem::path(data_dir_) / "plugins" / plugin_.id).string();
  std::error_code ec;
  std::filesystem::create_directories(plugin_dir, ec);
  std::string library = plugin_.library;
  std::unique_ptr<Instance> instance;
  int abandoned = 0;
  std::uint64_t reloads = 0;

  // The connector to the department's system, if one is configured (made once: it outlives
  // plugin reloads).
  std::string connector_error;
  const std::unique_ptr<hub::sdk::Connector> connector = hub::sdk::make_connector(plugin_.connector, &connector_error);

  // Loading runs the library's static initialisers: a crash there is the plugin's too.
  auto load = [this](const std::string& path) {
    if (probe_ != nullptr) probe_->set(CallProbe::kLoading);
    t_probe = probe_;
    PluginLoadResult loaded = load_plugin(path, plugin_.id);
    t_probe = nullptr;
    if (probe_ != nullptr) probe_->set(CallProbe::kIdle);
    return loaded;
  };
  auto send_started = [&](StartOutcome& outcome, bool reload, bool keeps_running, const std::string& fallback_error = "") {
    auto started = std::make_unique<Started>();
    started->reload = reload;
    started->fallback_error = fallback_error;
    started->keeps_running = keeps_running;
    started->library = library;
    if (instance && outcome.error_code.empty()) {
      started->ok = true;
      PluginCaller* waiter = instance->caller.get();
      auto info = std::make_shared<hub::sdk::PluginInfo>();
      waiter->run(
          [caller = waiter->state(), info, plugin = instance->plugin] {
            caller->begin_call(CallProbe::kStarting);
            auto i = plugin->instance().info();
            if (caller->end_call()) *info = i;
          },
          plugin_.call_timeout_ms);
      started->info = *info;
    } else {
      started->error_code = outcome.error_code;
      started->error = outcome.error;
    }
    send_owned(pipe, Tag::kStarted, std::move(started));
  };

  {
    StartOutcome outcome;
    std::string fallback_error;
    if (!library_override_.empty()) {
      // The build an operator reloaded before the restart; the config's when it will not start.
      outcome = start_instance(plugin_, library_override_, library_override_, plugin_dir,
                               load(library_override_), probe_);
      if (outcome.instance)
        library = library_override_;
      else
        fallback_error = outcome.error_code + ": " + outcome.error;
    }
    if (!outcome.instance) outcome = start_instance(plugin_, library, library, plugin_dir, load(library), probe_);
    if (outcome.instance && !connector && plugin_.connector.type != hub::sdk::ConnectorConfig::Type::kNone) {
      stop_instance(std::move(outcome.instance), plugin_.call_timeout_ms);
      outcome.error_code = "connector_failed";
      outcome.error = "plugin " + plugin_.id + ": " + connector_error;
    }
    instance = std::move(outcome.instance);
    send_started(outcome, false, false, fallback_error);
  }

  // Run.
  std::uint64_t failed_generation = 0;
  bool has_failed = false;
  for (;;) {
    auto [tag, pointer] = receive_owned(pipe);
    if (tag == Tag::kTerminate) break;
    if (tag == Tag::kReload) {
      std::unique_ptr<Reload> reload(static_cast<Reload*>(pointer));
      const std::string wanted = reload->library.empty() ? library : reload->library;
      // Loaded from a private copy: the dynamic loader would hand back the library already
      // mapped under the same name, and the file may be rebuilt in place.
      const std::string copy =
          (std::filesystem::path(plugin_dir).parent_path() /
           (".reload-" + plugin_.id + "-" + std::to_string(::getpid()) + "-" + std::to_string(++reloads) + ".so"))
              .string();
      StartOutcome outcome;
      std::filesystem::copy_file(wanted, copy, std::filesystem::copy_options::overwrite_existing, ec);
      if (ec) {
        outcome.error_code = "plugin_not_found";
        outcome.error = "cannot read plugin library " + wanted + ": " + ec.message();
        send_started(outcome, true, instance != nullptr);
        continue;
      }
      // Check the new build before stopping the running one: load it (ABI and id checks) ...
      auto probe = load(copy);
      if (auto* error = std::get_if<PluginLoadError>(&probe)) {
        outcome.error_code = error->code;
        outcome.error = error->message;
        for (std::size_t at = outcome.error.find(copy); at != std::string::npos; at = outcome.error.find(copy))
          outcome.error.replace(at, copy.size(), wanted);
        std::filesystem::remove(copy, ec);
        send_started(outcome, true, instance != nullptr);
        continue;
      }
      // ... then stop the old one and start the new one (the probe keeps the new library mapped).
      const std::string previous = library;
      stop_instance(std::move(instance), plugin_.call_timeout_ms);
      outcome = start_instance(plugin_, wanted, copy, plugin_dir, std::move(probe), probe_);
      std::filesystem::remove(copy, ec);
      if (outcome.instance) {
        instance = std::move(outcome.instance);
        library = wanted;
        abandoned = 0;
        has_failed = false;
        send_started(outcome, true, false);
        continue;
      }
      // The new build would not start: back to the previous one.
      StartOutcome again = start_instance(plugin_, previous, previous, plugin_dir, load(previous), probe_);
      instance = std::move(again.instance);
      send_started(outcome, true, instance != nullptr);
      continue;
    }
    if (tag != Tag::kRequest) {
      discard_owned(tag, pointer);
      continue;
    }
    auto job = std::make_shared<BatchJob>();
    job->request.reset(static_cast<Request*>(pointer));
    Report& report = *job->report;
    report.generation = job->request->generation;
    report.done_upto = job->request->chunk->first_seq + job->request->begin - 1;
    if (!instance || (has_failed && job->request->generation <= failed_generation)) {
      report.skipped = true;
      send_owned(pipe, Tag::kReport, std::move(job->report));
      continue;
    }
    PluginCaller* caller = instance->caller.get();
    const bool in_time = caller->run(
        [this, job, state = caller->state(), host = instance->host, plugin = instance->plugin, conn = connector.get()] {
          (void)host;  // kept alive as long as the plugin might use it
          CallState* caller = state.get();
          const Request& request = *job->request;
          Report& r = *job->report;
          const auto& events = request.chunk->events;
          for (std::size_t i = request.begin; i < request.end; ++i) {
            const LoggedEvent& e = events[i];
            if (subscribed(plugin_, e)) {
              if (job->first_handled == 0) job->first_handled = e.seq;
              job->actions.clear();
              const hub::sdk::Event event = to_sdk_event(plugin_, e);
              caller->begin_call(CallProbe::kHandling, e.seq);
              const auto result = plugin->instance().handle(event, job->actions);
              if (!caller->end_call()) return;  // abandoned: touch nothing more
              std::optional<std::string> failure = answer_failure(result, plugin_.catalogue, e.household_id, job->actions);
              DeliveredEvent delivered;
              delivered.seq = e.seq;
              delivered.household_id = e.household_id;
              delivered.event_id = e.event_id;
              delivered.received_at_ms = e.received_at_ms;
              delivered.actions = std::move(job->actions);
              if (!failure && conn) failure = hand_off(*conn, event, delivered);
              if (failure) {
                r.failed = true;
                r.failed_seq = e.seq;
                r.culprit_seq = e.seq;
                r.failure = *failure;
                break;
              }
              r.delivered.push_back(std::move(delivered));
            }
            r.done_upto = e.seq;
          }
          // The plugin commits its own records for the batch; only then may the hub record it.
          if (job->first_handled != 0) {
            job->in_end_batch = true;
            caller->begin_call(CallProbe::kEndingBatch, job->first_handled);
            const auto end = plugin->instance().end_batch();
            if (!caller->end_call()) return;
            job->in_end_batch = false;
            if (!end.is_ok()) {
              r.delivered.clear();
              r.done_upto = job->first_handled - 1;
              r.failed = true;
              r.failed_seq = job->first_handled;
              r.culprit_seq = job->first_handled;
              r.failure = (end.code() == hub::sdk::HandleResult::Code::kRetry ? "plugin asked to retry the batch: "
                                                                              : "plugin error at the end of the batch: ") +
                          end.message();
            }
          }
        },
        plugin_.call_timeout_ms);
    std::unique_ptr<Report> out;
    if (in_time) {
      out = std::move(job->report);
      if (out->failed) {
        has_failed = true;
        failed_generation = out->generation;
      }
      // Then the hand-offs of what is still delivered are made durable (a failed end of batch
      // has cleared them: those events are delivered again, to the same idempotency keys).
      if (connector && sync_handoffs(*connector, *out)) {
        out->culprit_seq = out->failed_seq;
        has_failed = true;
        failed_generation = out->generation;
      }
    } else {
      // The call hangs: give up that instance (its thread keeps the job's state) and blame the
      // event it was handling. Nothing of the batch counts: the plugin never committed it.
      const std::uint64_t hung_seq = caller->call_seq();
      out = std::make_unique<Report>();
      out->generation = job->request->generation;
      out->failed = true;
      out->failed_seq = job->first_handled != 0 ? job->first_handled : hung_seq;
      out->culprit_seq = hung_seq;
      out->done_upto = out->failed_seq - 1;
      out->failure = "timeout: the plugin's " + std::string(job->in_end_batch ? "end of batch" : "handling of seq " +
                                                                                              std::to_string(hung_seq)) +
                     " took longer than " + std::to_string(plugin_.call_timeout_ms) + " ms; its call was abandoned";
      has_failed = true;
      failed_generation = out->generation;
      ++abandoned;
      spdlog::error("delivery: {}: {} ({} hung call(s) abandoned)", plugin_.id, out->failure, abandoned);
      instance->plugin.reset();
      instance->host.reset();
      instance->caller.reset();  // detaches the stuck thread
      instance.reset();
      StartOutcome outcome;
      if (abandoned >= kMaxAbandonedCalls) {
        outcome.error_code = "plugin_hung";
        outcome.error = "plugin " + plugin_.id + " hung " + std::to_string(abandoned) +
                        " times; delivery stopped until it is reloaded (hubctl plugins reload " + plugin_.id + ")";
      } else {
        outcome = start_instance(plugin_, library, library, plugin_dir, load(library), probe_);  // a fresh instance for the retry
        instance = std::move(outcome.instance);
      }
      send_owned(pipe, Tag::kReport, std::move(out));
      if (!instance) send_started(outcome, false, false);
      continue;
    }
    send_owned(pipe, Tag::kReport, std::move(out));
  }

  // Stop, destroy, unload.
  stop_instance(std::move(instance), plugin_.call_timeout_ms);
}

}  // namespace hub::runtime
