#include "pluginhost/supervisor.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace hub::pluginhost {

namespace {

using Clock = std::chrono::steady_clock;

// Before each restart, however short the backoff: a child that dies before it even reaches
// the hub must not turn the supervisor into a fork loop.
constexpr auto kMinimumPause = std::chrono::milliseconds(200);

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return "signal " + std::to_string(sig) + (name != nullptr ? std::string(" (SIG") + name + ")" : "");
  }
  return "exit code " + std::to_string(WEXITSTATUS(status));
}

// Waits up to `limit` for SIGTERM/SIGINT (returns it) or SIGCHLD (returns it); 0 on timeout.
int wait_signal(const sigset_t& set, std::chrono::milliseconds limit) {
  timespec ts{static_cast<time_t>(limit.count() / 1000), static_cast<long>((limit.count() % 1000) * 1'000'000)};
  const int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

// The child's crash handler: records the plugin whose thread raised the fatal signal, then
// restores the previous disposition (the default, or a sanitizer's) and raises it again, so the
// child dies of it exactly as it would have.
SharedState* g_shared = nullptr;
constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP};
struct sigaction g_previous[NSIG];

void record_culprit() noexcept {
  if (g_shared == nullptr || g_shared->deliberate_exit.load() >= 0) return;
  const runtime::CallProbe* probe = runtime::probe_of_this_thread();
  if (probe >= g_shared->probes && probe < g_shared->probes + SharedState::kMaxPlugins) {
    int expected = -1;
    g_shared->culprit.compare_exchange_strong(expected, static_cast<int>(probe - g_shared->probes));
  }
}

void on_crash_signal(int sig) {
  record_culprit();
  sigaction(sig, &g_previous[sig], nullptr);
  raise(sig);  // delivered when this handler returns (or re-raised by the faulting instruction)
}

void install_crash_handlers(SharedState& shared) {
  g_shared = &shared;
  for (const int sig : kCrashSignals) {
    struct sigaction action {};
    action.sa_handler = on_crash_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_ONSTACK;
    sigaction(sig, &action, &g_previous[sig]);
  }
  std::atexit(record_culprit);  // a plugin that calls exit(): the deliberate exit sets its flag first
}

}  // namespace

void SharedState::set_session(const std::string& token) {
  const std::size_t n = std::min(token.size(), sizeof session - 1);
  std::memcpy(session, token.data(), n);
  session[n] = '\0';
}

std::string SharedState::session_token() const {
  return std::string(session, strnlen(session, sizeof session));
}

std::string Restart::describe(const std::string& host_name) const {
  std::string text = "plugin host '" + host_name + "' died (" + exit + ")";
  if (department.empty()) {
    text += " outside any plugin call";
  } else if (phase == "idle") {
    text += " in plugin " + department + "'s own thread, outside a call from the host";
  } else if (seq != 0) {
    text += " while plugin " + department + " was " + (phase == "ending_batch" ? "ending the batch from" : "handling") +
            " seq " + std::to_string(seq);
  } else {
    text += " while plugin " + department + " was " + phase;
  }
  char delay[32];
  std::snprintf(delay, sizeof delay, "%.1f", static_cast<double>(start_delay_ms) / 1000.0);
  return text + "; restarted by its supervisor (crash " + std::to_string(count) + " in a row, plugins start in " +
         delay + " s)";
}

std::int64_t restart_delay_ms(int crashes_in_a_row) {
  const int doublings = std::clamp(crashes_in_a_row - 1, 0, 6);
  return std::min<std::int64_t>(30'000, 500LL << doublings);
}

int supervise(const HostConfig& config,
              const std::function<int(SharedState& shared, const std::optional<Restart>& restart)>& child) {
  if (config.plugins.size() > SharedState::kMaxPlugins) throw std::runtime_error("too many plugins for one host");
  void* memory = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw std::runtime_error(std::string("cannot map shared memory: ") + std::strerror(errno));
  SharedState& shared = *new (memory) SharedState();

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGCHLD);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  const pid_t supervisor = getpid();

  std::optional<Restart> restart;
  int crashes = 0;
  for (;;) {
    for (auto& probe : shared.probes) probe.set(runtime::CallProbe::kIdle);
    shared.deliberate_exit.store(-1);
    shared.culprit.store(-1);
    const auto started = Clock::now();
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("cannot start the plugin host process: ") + std::strerror(errno));
    if (pid == 0) {
      // The child: dies with the supervisor, and takes SIGCHLD normally again (plugins may run
      // programs); SIGTERM/SIGINT stay blocked, PluginHost collects them with sigtimedwait().
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != supervisor) _exit(1);  // the supervisor died before prctl took effect
      sigset_t chld;
      sigemptyset(&chld);
      sigaddset(&chld, SIGCHLD);
      sigprocmask(SIG_UNBLOCK, &chld, nullptr);
      install_crash_handlers(shared);
      const int code = child(shared, restart);
      shared.deliberate_exit.store(code);
      std::fflush(nullptr);
      std::exit(code);
    }

    bool stopping = false;
    int status = 0;
    for (;;) {
      const int sig = wait_signal(signals, std::chrono::milliseconds(1000));
      if (sig == SIGTERM || sig == SIGINT) {
        if (!stopping) spdlog::info("plugin host '{}': stopping (signal {})", config.host_name, sig);
        stopping = true;
        kill(pid, SIGTERM);
      }
      const pid_t done = waitpid(pid, &status, WNOHANG);
      if (done == pid) break;
    }
    const int deliberate = shared.deliberate_exit.load();
    if (deliberate >= 0 && WIFEXITED(status)) return WEXITSTATUS(status);  // its own decision (an LSan report may change the code)
    if (stopping) {
      spdlog::error("plugin host '{}': the host process ended with {} while stopping", config.host_name,
                    describe_status(status));
      return 1;
    }

    // A crash. Which plugin was in a call, from the probes the child kept up to date?
    const auto ran_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    crashes = ran_ms >= kStableRunMs ? 1 : crashes + 1;
    Restart next;
    next.count = crashes;
    next.exit = describe_status(status);
    next.replaces_session = shared.session_token();
    next.start_delay_ms = restart_delay_ms(crashes);
    int culprit = shared.culprit.load();
    if (culprit < 0 || static_cast<std::size_t>(culprit) >= config.plugins.size()) {
      // Nobody's thread raised it (e.g. SIGKILL): blame a plugin only if it was the one in a call.
      culprit = -1;
      int busy = 0;
      for (std::size_t i = 0; i < config.plugins.size(); ++i)
        if (shared.probes[i].phase.load(std::memory_order_acquire) != runtime::CallProbe::kIdle) {
          ++busy;
          culprit = static_cast<int>(i);
        }
      if (busy != 1) culprit = -1;
    }
    if (culprit >= 0) {
      const auto& probe = shared.probes[culprit];
      const auto phase = static_cast<runtime::CallProbe::Phase>(probe.phase.load(std::memory_order_acquire));
      next.department = config.plugins[culprit].id;
      next.phase = phase == runtime::CallProbe::kIdle ? "idle" : runtime::to_string(phase);
      if (phase == runtime::CallProbe::kHandling || phase == runtime::CallProbe::kEndingBatch)
        next.seq = probe.seq.load(std::memory_order_relaxed);
    }
    spdlog::error("{}", next.describe(config.host_name));
    restart = std::move(next);
    shared.set_session("");
    const int sig = wait_signal(signals, kMinimumPause);
    if (sig == SIGTERM || sig == SIGINT) {
      spdlog::info("plugin host '{}': stopping (signal {})", config.host_name, sig);
      return 0;
    }
  }
}

}  // namespace hub::pluginhost
