// hubctl's notice board commands (公示, docs/protocol.md "Notice before effect"):
//   hubctl notice propose FILE [--by NAME]       post a quarter's evaluations as proposed (not delivered)
//   hubctl notice list [--quarter Q]             every village's notice: proposed, confirmed, period end
//   hubctl notice show --village V --quarter Q   the notice list a village posts (户号, 户主, 评议结果, 认定, 状态)
//   hubctl notice confirm --village V --quarter Q [--reason TEXT] [--by NAME]
//                                                make the undisputed proposals final (delivered)
// FILE is an evaluations file as `hubctl import` reads it (CSV with English or Chinese headers,
// or JSONL of status changes); every row is checked here first, and a file with a bad row is
// refused whole, naming each bad line. Every change is audited by hubd with the admin key's name
// (and --by, else $USER, beside it).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/hub_client.h"

namespace hub::cli {

struct NoticeArgs {
  std::string file, village, quarter, reason, by;
};

// Adds "notice" with its actions to `hubctl`; returns the verb.
CLI::App* add_notice_verbs(CLI::App& hubctl, NoticeArgs& args, bool* json_output);

// `action` is the action given ("notice show"). Exit codes as hubctl's: 0 ok, 1 rejected,
// 2 usage error, 3 hub unreachable.
int run_notice(const CLI::App& action, const NoticeArgs& args, bool json_output, HubClient& client);

}  // namespace hub::cli
