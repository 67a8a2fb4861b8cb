// How to write a department plugin.
//
// A plugin is a shared library that exports, through HUB_DECLARE_PLUGIN, its ABI version and
// a factory. A department's IT staff derive from hub::sdk::Plugin and override its protected
// hooks:
//
//   class MyPlugin final : public hub::sdk::Plugin {
//    protected:
//     hub::sdk::HandleResult on_start(hub::sdk::Host& host) override;     // optional
//     hub::sdk::HandleResult on_event(const hub::sdk::Event& event,
//                                     std::vector<hub::sdk::PolicyAction>& actions) override;
//     hub::sdk::HandleResult on_batch_end() override;                     // optional
//     void on_stop() override;                                            // optional
//   };
//   HUB_DECLARE_PLUGIN(MyPlugin, "my_department", "1.2.0")
//
// Lifetime, driven by the host in this order and all on one thread that the host owns (the
// plugin's delivery thread): load the library, check hub_plugin_abi_version, create (factory),
// start, then on_event for each event in sequence order, stop, destroy, unload. Events come in
// batches (up to delivery.batch_events, 512 by default); after each batch the host calls
// on_batch_end, and the hub records the batch's actions only once it returned ok. A plugin
// that keeps its own records (a database, files) can therefore write them in on_event and
// commit them once in on_batch_end: if that fails, or the process dies first, every event of
// the batch is delivered again. Hooks are never called concurrently for one instance. Events
// may be redelivered after a crash (at least once); Event::idempotency_key is stable across
// redeliveries, and on_event must return the same decision for it.
//
// The host sees only PluginInstance, whose methods are implemented inside the plugin library
// by the SDK's adapter and are noexcept: anything the plugin throws is caught there and
// returned as HandleResult::error.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/dll/alias.hpp>

#include "hub/sdk/host.h"
#include "hub/sdk/result.h"
#include "hub/sdk/types.h"
#include "hub/sdk/version.h"

namespace hub::sdk {

// Identity of a plugin build, reported by `hubctl status`.
struct PluginInfo {
  std::string id;       // department id, e.g. "schools"; must match the hub's configuration
  std::string version;  // the plugin's own version, e.g. "1.2.0"
  std::uint32_t abi_version = HUB_SDK_ABI_VERSION;
};

// The ABI between host and plugin. Implemented only by detail::PluginAdapter (below), inside
// the plugin library; the host calls it and deletes it (its virtual destructor runs the
// plugin's own code, so the object is freed by the library that made it).
class PluginInstance {
 public:
  virtual ~PluginInstance() = default;
  virtual PluginInfo info() const noexcept = 0;
  virtual HandleResult start(Host& host) noexcept = 0;
  virtual HandleResult handle(const Event& event, std::vector<PolicyAction>& actions) noexcept = 0;
  virtual HandleResult end_batch() noexcept = 0;
  virtual void stop() noexcept = 0;
};

// The base class a department's plugin derives from.
class Plugin {
 public:
  virtual ~Plugin() = default;

 protected:
  // Called once before the first event. Read configuration and department data here. The
  // Host outlives the plugin's use of it; keep a reference if you need to log later.
  virtual HandleResult on_start(Host& host) { (void)host; return HandleResult::ok(); }

  // Called for each status change, in sequence order. Append one or more actions for each of
  // the department's policies that the event concerns; return ok, retry or error.
  virtual HandleResult on_event(const Event& event, std::vector<PolicyAction>& actions) = 0;

  // Called after each batch of events (also after a batch that stopped at a failed event),
  // before the hub records the actions on_event returned for it. Commit what on_event wrote
  // here; return retry or error to have the whole batch delivered again.
  virtual HandleResult on_batch_end() { return HandleResult::ok(); }

  // Called once after the last event, before the plugin is destroyed.
  virtual void on_stop() {}

 private:
  friend struct PluginHooks;
};

// Grants the adapter access to the protected hooks (kept out of plugin authors' way).
struct PluginHooks {
  static HandleResult start(Plugin& p, Host& host) { return p.on_start(host); }
  static HandleResult event(Plugin& p, const Event& e, std::vector<PolicyAction>& a) { return p.on_event(e, a); }
  static HandleResult batch_end(Plugin& p) { return p.on_batch_end(); }
  static void stop(Plugin& p) { p.on_stop(); }
};

namespace detail {

// Wraps a plugin author's class; instantiated inside the plugin library by HUB_DECLARE_PLUGIN.
template <class T>
class PluginAdapter final : public PluginInstance {
 public:
  PluginAdapter(const char* id, const char* version) : id_(id), version_(version) {}

  PluginInfo info() const noexcept override {
    try {
      return PluginInfo{id_, version_, HUB_SDK_ABI_VERSION};
    } catch (...) {
      return PluginInfo{};
    }
  }

  HandleResult start(Host& host) noexcept override {
    return guarded([&] { return PluginHooks::start(plugin_, host); }, "start");
  }

  HandleResult handle(const Event& event, std::vector<PolicyAction>& actions) noexcept override {
    return guarded([&] { return PluginHooks::event(plugin_, event, actions); }, "on_event");
  }

  HandleResult end_batch() noexcept override {
    return guarded([&] { return PluginHooks::batch_end(plugin_); }, "on_batch_end");
  }

  void stop() noexcept override {
    try {
      PluginHooks::stop(plugin_);
    } catch (...) {
    }
  }

 private:
  template <class F>
  static HandleResult guarded(F&& f, const char* hook) noexcept {
    try {
      return f();
    } catch (const std::exception& e) {
      return make_error(hook, e.what());
    } catch (...) {
      return make_error(hook, "unknown exception");
    }
  }

  static HandleResult make_error(const char* hook, const char* what) noexcept {
    try {
      return HandleResult::error(std::string("plugin threw in ") + hook + ": " + what);
    } catch (...) {
      return HandleResult::error({});
    }
  }

  const char* id_;
  const char* version_;
  T plugin_;
};

}  // namespace detail
}  // namespace hub::sdk

// Exports the plugin's ABI version and factory under the names the host looks up
// ("hub_plugin_abi_version", "hub_plugin_create"). Use once, in one source file of the plugin.
// PLUGIN_CLASS must be default-constructible and derive from hub::sdk::Plugin.
#define HUB_DECLARE_PLUGIN(PLUGIN_CLASS, PLUGIN_ID, PLUGIN_VERSION)                            \
  namespace hub_plugin_entry {                                                                 \
  static_assert(std::is_base_of_v<::hub::sdk::Plugin, PLUGIN_CLASS>,                           \
                "HUB_DECLARE_PLUGIN: the class must derive from hub::sdk::Plugin");            \
  const std::uint32_t hub_plugin_abi_version_value = HUB_SDK_ABI_VERSION;                       \
  ::hub::sdk::PluginInstance* hub_plugin_create_instance() noexcept {                          \
    try {                                                                                      \
      return new ::hub::sdk::detail::PluginAdapter<PLUGIN_CLASS>(PLUGIN_ID, PLUGIN_VERSION);   \
    } catch (...) {                                                                            \
      return nullptr;                                                                          \
    }                                                                                          \
  }                                                                                            \
  }                                                                                            \
  BOOST_DLL_ALIAS(hub_plugin_entry::hub_plugin_abi_version_value, hub_plugin_abi_version)      \
  BOOST_DLL_ALIAS(hub_plugin_entry::hub_plugin_create_instance, hub_plugin_create)

// The symbol names and factory type, shared by every loader (hubd, the test harness).
namespace hub::sdk {
inline constexpr const char* kAbiVersionSymbol = "hub_plugin_abi_version";
inline constexpr const char* kFactorySymbol = "hub_plugin_create";
using PluginFactory = PluginInstance*() noexcept;
}  // namespace hub::sdk
