// hub-plugin-host's supervisor. The process an operator starts runs no plugin itself: it forks a
// child that does (PluginHost), and when that child dies of anything but a deliberate exit — a
// plugin that segfaults, aborts, calls exit() or runs out of memory — it starts a new child
// with exponential backoff and tells it what happened. The new child passes that on in its
// "hello" (docs/protocol.md §13, "restart"), so the hub shows the department as failing and
// counts the crash as a failed attempt of the event the plugin was handling: an event that
// crashes its plugin every time is parked after delivery.max_attempts like one that throws.
//
// What the child was doing when it died is kept in memory shared with the supervisor
// (SharedState): a CallProbe per plugin, written by the child's worker threads before and after
// every plugin call; the plugin whose thread raised the fatal signal (the child's crash handler
// records it, then lets the signal take its course), or that called exit(); and the child's hub
// session (so the new child can say which session it replaces and the hub need not wait for the
// old one to time out). Only that plugin's event is blamed: when the child dies of a signal
// nobody raised in it (SIGKILL from the OOM killer) and several plugins were in calls, none is.
//
// Signals: SIGTERM/SIGINT to the supervisor are passed to the child, and the supervisor exits
// with the child's code. The child dies with the supervisor (PR_SET_PDEATHSIG), so `kill -9` of
// the supervisor stops the whole host, as it did before there was one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "runtime/plugin_worker.h"
#include "pluginhost/host_config.h"

namespace hub::pluginhost {

// Lives in memory shared between the supervisor and its child (mmap MAP_SHARED).
struct SharedState {
  static constexpr std::size_t kMaxPlugins = 64;  // host_config.cpp refuses more
  runtime::CallProbe probes[kMaxPlugins];        // by index in HostConfig::plugins
  std::atomic<int> deliberate_exit{-1};           // the child's own exit code, set just before it exits
  std::atomic<int> culprit{-1};                   // index of the plugin whose thread crashed the child
  char session[80] = {};                          // the child's hub session token (NUL-terminated)

  void set_session(const std::string& token);
  std::string session_token() const;
};

// What the supervisor tells a child it starts after a crash (and the child tells the hub).
struct Restart {
  int count = 0;                 // crashes in a row, this one included
  std::string exit;              // how the previous child ended: "signal 11 (SIGSEGV)", "exit code 3"
  std::string department;        // the plugin that was in a call when it died ("" = none was)
  std::string phase;             // CallProbe phase name: handling, ending_batch, starting, loading, stopping
  std::uint64_t seq = 0;         // the event it was handling (handling, ending_batch), else 0
  std::string replaces_session;  // the previous child's hub session, if it had one
  std::int64_t start_delay_ms = 0;  // the new child starts its plugins after this (the backoff)

  // One line for logs and the hub: "… died (signal 11 (SIGSEGV)) while plugin police was handling seq 12 …"
  std::string describe(const std::string& host_name) const;
};

// The backoff before the plugins of the n-th crash in a row start again: 0.5 s doubling, at most 30 s.
std::int64_t restart_delay_ms(int crashes_in_a_row);
// A child that ran this long before it crashed starts the count again.
constexpr std::int64_t kStableRunMs = 60'000;

// Runs `child` in forked children until one exits deliberately (returns through `child`, which
// the supervisor cannot tell from a crash otherwise: a plugin may call exit() too) or the
// supervisor is told to stop; returns that exit code. Call before any thread is created, with
// SIGTERM and SIGINT blocked (host_main.cpp). `child` runs in the child process and gets the
// shared state and, after a crash, what happened.
int supervise(const HostConfig& config,
              const std::function<int(SharedState& shared, const std::optional<Restart>& restart)>& child);

}  // namespace hub::pluginhost
