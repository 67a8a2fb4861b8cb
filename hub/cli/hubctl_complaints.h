// hubctl's complaints register commands (投诉举报, docs/protocol.md "Complaints"):
//   hubctl complaints add --household H --quarter Q --channel C --summary TEXT [--received DATE]
//                         [--lodged-by NAME] [--handler NAME] [--by NAME]
//   hubctl complaints show ID
//   hubctl complaints list [--state S] [--household H] [--village V] [--overdue] [--after N] [--limit N]
//   hubctl complaints investigate ID [--handler NAME] [--by NAME]
//   hubctl complaints rule ID --outcome upheld|dismissed --ruling TEXT --ruled-on DATE [--by NAME]
// add_complaints_verbs() declares them on hubctl's command line; run_complaints() runs the action
// given. Every change is audited by hubd with the name of the admin key that sent it (and --by,
// else $USER, beside it).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/hub_client.h"

namespace hub::cli {

// The options of the complaints actions, kept as text and checked by the hub (whose errors name
// the field), except what only hubctl can tell (a missing ID, a number that is not one).
struct ComplaintArgs {
  std::string id, household, quarter, channel, received, summary, lodged_by, handler;
  std::string state, village, after, limit;
  bool overdue = false;
  std::string outcome, ruling, ruled_on;
  // An upheld ruling's correction of the complaint's quarter.
  std::string corrected_status, corrected_effective_date;
  std::vector<std::string> corrected_designations;
  std::string by;
};

// Adds "complaints" with its actions to `hubctl`; returns the verb.
CLI::App* add_complaints_verbs(CLI::App& hubctl, ComplaintArgs& args, bool* json_output);

// `action` is the action given ("complaints list"). Exit codes as hubctl's: 0 ok, 1 rejected,
// 2 usage error, 3 hub unreachable.
int run_complaints(const CLI::App& action, const ComplaintArgs& args, bool json_output, HubClient& client);

}  // namespace hub::cli
