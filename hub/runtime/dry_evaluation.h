// Dry evaluation: what a department's own plugin would decide for some status changes, without
// delivering them — for the import preview (issue 19: `hubctl import --dry-run`, the web
// console's upload).
//
// The SDK has no "what would you do" hook, and a plugin may keep state that on_event changes
// (finance keeps its accruals and a decision journal in <data_dir>/plugins/finance/finance.db).
// So the question is asked of a private instance of the department's in-process plugin: the
// library is loaded (with the ABI and id checks of every load), started with the department's
// configuration on a throwaway copy of its data directory, handed the events in order, and
// stopped and destroyed without on_batch_end: nothing it writes reaches the live copy, and its
// batch is rolled back. The answers are checked with the rule the worker uses (answer_failure),
// and connectors are never called (they are the worker's, not the plugin's), so nothing reaches
// the department's system.
//
// Limits, said where they are used (the preview's JSON names the mode per department):
// - only in-process plugins can be asked; a department on a plugin host (placement "host") is
//   not, and the caller falls back to the catalogue's standard rule;
// - the plugin must keep its state in its data directory, as every shipped plugin does; a
//   plugin that calls out to another system from on_event would do so here too;
// - the copy of the data directory is taken while the live plugin may be writing to it: a copy
//   caught mid-write can make the dry instance fail to start or fail an event, which is reported
//   as that department's error, never applied to the live data.
// The copies live in <data_dir>/preview/<id>-<pid>-<n> and are removed after each preview; the
// first preview of a process also removes what an earlier process left there.
//
// Runs on the caller's thread, plus one thread of its own per call that runs the plugin (so
// that a plugin that hangs is abandoned after `timeout`, like the worker abandons a call).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "config/hub_config.h"
#include "hub/sdk/types.h"

namespace hub::runtime {

struct DryAnswer {
  std::vector<hub::sdk::PolicyAction> actions;  // valid actions (empty when failure is set)
  std::string failure;                          // why the plugin's answer would fail delivery
};

struct DryEvaluation {
  std::string error;               // set when the plugin could not be asked at all
  std::vector<DryAnswer> answers;  // one per event, in order (empty when error is set)
};

// `events` are the department's view of each status change (to_sdk_event, subscription.h).
// `data_dir`: the hub's data directory (the plugin's own is <data_dir>/plugins/<id>).
DryEvaluation dry_evaluate(const PluginConfig& plugin, const std::string& data_dir,
                           const std::vector<hub::sdk::Event>& events, std::chrono::milliseconds timeout);

}  // namespace hub::runtime
