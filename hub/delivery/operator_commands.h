// The operators' commands the dispatcher carries out (docs/protocol.md "parked", "plugins"), as
// typed values: what is asked, already validated. The admin thread (admin/operator_requests.cpp)
// owns the wire: it parses and checks a request's JSON, checks what the configuration alone can
// answer (an unknown department, one disabled in the configuration), and hands the command to
// the dispatcher on the inproc REQ/REP status socket. The dispatcher (delivery thread) checks
// what needs its live state (busy, not parked, not running) and answers with the JSON reply.
//
// The hand-over is one JSON frame (encode_command on the admin thread, decode_command on the
// delivery thread), not a pointer: a request still queued when hubd stops then owns no memory.
// Pure functions: any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace hub::delivery {

// parked list: the parked events (and with `all` the resolved ones and their history).
struct ParkedList {
  std::string department;    // "" = every department
  std::string household_id;  // "" = every household
  std::uint64_t seq = 0;     // 0 = every event
  bool all = false;
  std::optional<std::size_t> limit;  // none = the ledger's default
};

// parked retry | skip: the parked events that match, acted on by `by` (recorded).
struct ParkedRetry {
  std::string department;
  std::string household_id;
  std::uint64_t seq = 0;
  std::string by;
};
struct ParkedSkip {
  std::string department;
  std::string household_id;
  std::uint64_t seq = 0;
  std::string by;
};

// plugins list: every department's plugin, its state and the operators' recorded decisions.
struct PluginsList {};

// plugins reload | disable | enable of one configured, enabled department.
struct PluginReload {
  std::string department;
  std::string library;  // "" = the library now loaded, again (an absolute path otherwise)
  std::string by;
};
struct PluginDisable {
  std::string department;
  std::string reason;  // "" = none given
  std::string by;
};
struct PluginEnable {
  std::string department;
  std::string by;
};

using OperatorCommand =
    std::variant<ParkedList, ParkedRetry, ParkedSkip, PluginsList, PluginReload, PluginDisable, PluginEnable>;

// The frame on the status socket. The dispatcher answers the word "status" with its status;
// anything else it takes for an encoded command.
std::string encode_command(const OperatorCommand& command);
// Throws std::runtime_error on a frame that encode_command did not produce.
OperatorCommand decode_command(const std::string& frame);

}  // namespace hub::delivery
