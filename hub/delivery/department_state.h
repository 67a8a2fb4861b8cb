// A department's delivery state, as one explicit state machine: every state, every input the
// dispatcher reacts to, and every transition, in this file and department_state.cpp — not spread
// over the dispatcher's handlers. department_state_test.cpp checks the whole table
// (state × input → state).
//
// What operators see (`hubctl status`, the dashboard) is shown_state(): the machine's state,
// overridden by two facts that are not delivery states of their own — an operator disabled the
// department (durable, ledger `plugin_state`; the plugin stays loaded and the state below it is
// kept for when it is enabled again), or its plugin host crashed and was restarted and it has
// not delivered since ("failing").
//
// Plain functions over values: any thread (the dispatcher's, in practice).
#pragma once

#include <cstdint>
#include <string_view>

namespace hub::delivery {

enum class DeliveryState : std::uint8_t {
  kStarting,        // the transport is loading the plugin (or waiting for its first start)
  kRunning,         // events are sent, at most max_in_flight_batches at a time
  kRetrying,        // an event failed: nothing is sent until its backoff is over
  kRefused,         // the plugin was refused (ABI, start failed, hung too often): until a reload
  kDisabled,        // disabled in the configuration: no transport serves it
  kStopped,         // hubd is stopping
  kWaitingForHost,  // placed on a plugin host, and no host serves it (yet, or any more)
};

enum class DeliveryInput : std::uint8_t {
  kDisabledByConfig,   // at start: "enabled": false
  kStarted,            // the plugin started (or a host's plugin started), no backoff pending
  kStartedInBackoff,   // the same, while a failed event's backoff is not over
  kStartRefused,       // the plugin could not be started, or a running one hung too often
  kReloaded,           // an operator's reload succeeded
  kReloadRefusedDown,  // a reload was refused and the previous build is gone
  kFailed,             // an event failed (error, timeout, hand-off, host crash) and was not parked
  kParked,             // an event failed for the last time and was parked: delivery goes on past it
  kBackoffOver,        // the retry time of the failed event has come
  kHostLost,           // the plugin host serving it went away (or never came)
  kLedgerWriteFailed,  // the ledger could not be written: redeliver from the cursor after a backoff
  kStopping,           // hubd is stopping
};

DeliveryState next_state(DeliveryState state, DeliveryInput input) noexcept;

// The state's name on the wire ("running", "waiting_for_host", …; docs/protocol.md).
std::string_view to_string(DeliveryState state) noexcept;
std::string_view to_string(DeliveryInput input) noexcept;

// What `status` and the plugins list show: "disabled" while an operator has disabled it;
// "failing" while its plugin host's crash is not yet followed by a delivery (and it is not
// refused or stopped); otherwise the state's name.
std::string_view shown_state(DeliveryState state, bool disabled_by_operator, bool host_failing) noexcept;

}  // namespace hub::delivery
