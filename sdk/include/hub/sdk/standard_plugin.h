// StandardPlugin: the base class for a department whose decisions follow the catalogue's
// standard rule, policy by policy, without department data of its own — e.g. a police station
// granting priority services, or an association running programmes for designated households.
//
// It does what such plugins otherwise each write again: on_start reads the department's
// catalogue from the host's configuration and refuses, with a message naming the policy and
// the file to fix, a catalogue the plugin cannot serve (a "roster" policy — the plugin keeps no
// roster — or a "money" policy the plugin does not price); on_event appends one action per
// catalogue policy, built by decide(). A subclass only names its department and wording:
//
//   class JudicialPlugin final : public hub::sdk::StandardPlugin {
//    public:
//     JudicialPlugin() : StandardPlugin({.department = "judicial", .wording = kWording}) {}
//   };
//   HUB_DECLARE_PLUGIN(JudicialPlugin, "judicial", "1.0.0")
//
// and may override configure() to read its settings and decide() to add amounts. The hooks
// run on the plugin's thread (see plugin.h); the class is part of the SDK's static library,
// compiled into the plugin, not part of the ABI.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/host.h"
#include "hub/sdk/plugin.h"
#include "hub/sdk/reasons.h"
#include "hub/sdk/result.h"
#include "hub/sdk/types.h"

namespace hub::sdk {

class StandardPlugin : public Plugin {
 public:
  struct Options {
    std::string department;        // the plugin's id, used in messages: "judicial"
    ActionWording wording{};       // the Chinese words for the actions in reasons
    bool prices_money = false;     // true if decide() sets the amount of "money" policies
  };

  explicit StandardPlugin(Options options) : options_(std::move(options)) {}

 protected:
  // Reads the plugin's own settings (Host::config_json()["settings"]) after the catalogue has
  // been loaded and checked. The default accepts anything.
  virtual HandleResult configure(Host& host, const Catalogue& catalogue);

  // The action for one policy. The default is standard_policy_action() with the wording.
  virtual PolicyAction decide(const PolicyDefinition& policy, const Event& event);

  // The loaded catalogue; valid once on_start has succeeded.
  const Catalogue& catalogue() const { return *catalogue_; }
  const Options& options() const noexcept { return options_; }

  HandleResult on_start(Host& host) final;
  HandleResult on_event(const Event& event, std::vector<PolicyAction>& actions) final;

 private:
  // Why the catalogue does not suit this plugin, or nothing.
  std::optional<std::string> unsuitable(const Catalogue& catalogue) const;

  Options options_;
  std::optional<Catalogue> catalogue_;
};

}  // namespace hub::sdk
