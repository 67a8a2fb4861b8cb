#include "delivery/department_state.h"

namespace hub::delivery {

DeliveryState next_state(DeliveryState state, DeliveryInput input) noexcept {
  using S = DeliveryState;
  using I = DeliveryInput;
  switch (input) {
    case I::kDisabledByConfig: return S::kDisabled;
    case I::kStarted: return S::kRunning;
    case I::kStartedInBackoff: return S::kRetrying;
    case I::kStartRefused:
    case I::kReloadRefusedDown: return S::kRefused;
    case I::kReloaded:
      // A refused or not yet started plugin runs again; a retrying one keeps its failed event
      // (retried at once by the dispatcher); a host-less one keeps waiting.
      return state == S::kRefused || state == S::kStarting ? S::kRunning : state;
    case I::kFailed:
      // A department waiting for its plugin host stays so; the host's start honours the backoff.
      return state == S::kWaitingForHost ? state : S::kRetrying;
    case I::kParked:
    case I::kBackoffOver: return state == S::kRetrying ? S::kRunning : state;
    case I::kHostLost: return S::kWaitingForHost;
    case I::kLedgerWriteFailed: return state == S::kRunning || state == S::kRetrying ? S::kRetrying : state;
    case I::kStopping:
      return state == S::kRunning || state == S::kRetrying || state == S::kWaitingForHost ? S::kStopped : state;
  }
  return state;
}

std::string_view to_string(DeliveryState state) noexcept {
  switch (state) {
    case DeliveryState::kStarting: return "starting";
    case DeliveryState::kRunning: return "running";
    case DeliveryState::kRetrying: return "retrying";
    case DeliveryState::kRefused: return "refused";
    case DeliveryState::kDisabled: return "disabled";
    case DeliveryState::kStopped: return "stopped";
    case DeliveryState::kWaitingForHost: return "waiting_for_host";
  }
  return "unknown";
}

std::string_view to_string(DeliveryInput input) noexcept {
  switch (input) {
    case DeliveryInput::kDisabledByConfig: return "disabled_by_config";
    case DeliveryInput::kStarted: return "started";
    case DeliveryInput::kStartedInBackoff: return "started_in_backoff";
    case DeliveryInput::kStartRefused: return "start_refused";
    case DeliveryInput::kReloaded: return "reloaded";
    case DeliveryInput::kReloadRefusedDown: return "reload_refused_down";
    case DeliveryInput::kFailed: return "failed";
    case DeliveryInput::kParked: return "parked";
    case DeliveryInput::kBackoffOver: return "backoff_over";
    case DeliveryInput::kHostLost: return "host_lost";
    case DeliveryInput::kLedgerWriteFailed: return "ledger_write_failed";
    case DeliveryInput::kStopping: return "stopping";
  }
  return "unknown";
}

std::string_view shown_state(DeliveryState state, bool disabled_by_operator, bool host_failing) noexcept {
  if (disabled_by_operator) return "disabled";
  if (host_failing && (state == DeliveryState::kRunning || state == DeliveryState::kRetrying ||
                       state == DeliveryState::kWaitingForHost || state == DeliveryState::kStarting))
    return "failing";
  return to_string(state);
}

}  // namespace hub::delivery
