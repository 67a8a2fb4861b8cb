// A department's delivery thread: loads its plugin, starts it, hands it events in sequence
// order, checks what it returns, hands the valid actions to the department's system through
// the configured connector (hub/sdk/connectors.h), and reports back to the dispatcher over an
// inproc PAIR. A failed hand-off fails the event for this department like a plugin error.
//
// Everything that touches the plugin happens here, in this order, in run(): load (with the
// ABI check), create, start, handle events, stop, destroy, unload. The plugin's hooks are
// called on a call thread of the instance (one per instance, so always the same thread for
// one instance): the worker waits for each call with delivery.call_timeout_ms, and a call
// that takes longer is abandoned with its thread and instance (docs/reliability.md), the event
// fails with a "timeout" reason, and a fresh instance is started for the retry. After 8
// abandoned calls the department is reported hung (state refused) until its plugin is
// reloaded. kReload swaps the plugin for another build between batches: the new build is
// loaded and checked (ABI, id) before the old one is stopped; a refused build leaves the old
// one running. A department reloaded before a restart of hubd starts with the library that
// reload chose (`library_override`); when that one cannot be loaded or started the worker
// falls back to the config's library and says why (Started::fallback_error).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <zmq.hpp>

#include "config/hub_config.h"

#include "domain/logged_event.h"

namespace hub::runtime {

// Where a worker's plugin is, kept up to date for someone who outlives this process:
// hub-plugin-host's supervisor keeps one per plugin in shared memory and, when a plugin crashes
// the host, reads which event it was handling (pluginhost/supervisor.h). Lock-free atomics
// only, so it works across processes; written before and after every plugin call.
struct CallProbe {
  enum Phase : std::uint32_t { kIdle = 0, kLoading, kStarting, kHandling, kEndingBatch, kStopping };
  std::atomic<std::uint32_t> phase{kIdle};
  std::atomic<std::uint64_t> seq{0};  // the event being handled (kHandling, kEndingBatch)

  void set(Phase p, std::uint64_t s = 0) {
    seq.store(s, std::memory_order_relaxed);
    phase.store(p, std::memory_order_release);
  }
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::uint32_t>::is_always_lock_free,
              "CallProbe lives in memory shared between processes");

// The phase's name as shown to operators ("handling", "starting", ...).
const char* to_string(CallProbe::Phase phase);

// The probe of the plugin whose code runs on this thread (its call thread, or its worker while
// loading the library), or nullptr: what a crash handler reads to know whose fault it was.
// Async-signal-safe.
const CallProbe* probe_of_this_thread() noexcept;

class PluginWorker {
 public:
  // `pipe_endpoint`: the dispatcher's inproc PAIR for this department (already bound).
  // `library_override`: the .so to start with instead of plugin.library ("" = the config's).
  // `probe`, if given, is kept up to date with the plugin call in progress.
  PluginWorker(zmq::context_t& context, const PluginConfig& plugin, std::string data_dir, std::string pipe_endpoint,
               std::string library_override = "", CallProbe* probe = nullptr);
  void run();

 private:
  zmq::context_t& context_;
  const PluginConfig& plugin_;
  std::string data_dir_;
  std::string pipe_endpoint_;
  std::string library_override_;
  CallProbe* probe_;
};

}  // namespace hub::runtime
