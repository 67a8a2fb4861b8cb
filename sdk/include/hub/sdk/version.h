// The SDK's version and the plugin ABI version.
//
// HUB_SDK_ABI_VERSION is the one number `hubd` compares before it calls anything in a plugin:
// a plugin built against a different ABI version is refused, with both numbers in the
// message. Bump it whenever anything in the public headers changes the layout of a type that
// crosses the plugin boundary (Event, PolicyAction, HandleResult, Host, PluginInstance,
// PluginInfo) or the meaning of an enum value. tests/sdk/abi_guard_test checks this: it fails
// when those headers change while the recorded fingerprint and the ABI version stay the same.
#pragma once

#define HUB_SDK_VERSION_MAJOR 1
#define HUB_SDK_VERSION_MINOR 1
#define HUB_SDK_VERSION_PATCH 0
#define HUB_SDK_VERSION_STRING "1.1.0"

// ABI history: 1 = first release; 2 = PluginInstance::end_batch (Plugin::on_batch_end), so
// that a plugin with its own storage commits once per batch instead of once per event.
#define HUB_SDK_ABI_VERSION 2u
