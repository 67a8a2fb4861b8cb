// The SDK's version and the plugin ABI version.
//
// HUB_SDK_ABI_VERSION is the one number `hubd` compares before it calls anything in a plugin:
// a plugin built against a different ABI version is refused, with both numbers in the
// message. Bump it whenever anything in the public headers changes the layout of a type that
// crosses the plugin boundary (Event, PolicyAction, HandleResult, Host, PluginInstance,
// PluginInfo) or the meaning of an enum value. The ctest sdk_abi_fingerprint checks this: it
// fails when host.h, plugin.h, result.h or types.h change (comments aside) while the ABI
// version stays the same. Then bump the number below and run
// `python3 scripts/sdk_abi_fingerprint.py --record` (it appends to sdk/abi/fingerprints.txt).
#pragma once

#define HUB_SDK_VERSION_MAJOR 1
#define HUB_SDK_VERSION_MINOR 2
#define HUB_SDK_VERSION_PATCH 0
#define HUB_SDK_VERSION_STRING "1.2.0"

// ABI history: 1 = first release; 2 = PluginInstance::end_batch (Plugin::on_batch_end), so
// that a plugin with its own storage commits once per batch instead of once per event; 3 =
// Event::past_quarter and Event::complaint_id (a complaint ruling's correction, issue 17), so that
// a plugin built before them, which would read a past quarter's correction as the household's
// status now, is refused rather than served.
#define HUB_SDK_ABI_VERSION 3u
