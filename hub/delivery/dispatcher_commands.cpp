// The operators' commands (delivery/operator_commands.h), carried out on the delivery thread:
// the checks that need the departments' live state, then either an answer at once (lists,
// skip, enable) or an operation that waits for a quiet department (retry, reload, disable),
// run by run_ops() and answered by finish_op() once the ledger has its outcome.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "delivery/dispatcher.h"
#include "domain/status_json.h"

namespace hub::delivery {

using namespace hub::runtime;  // the messages this thread exchanges with the transports
using nlohmann::json;

void Dispatcher::reply_admin(const json& reply) {
  const std::string text = reply.dump();
  status_.send(zmq::buffer(text), zmq::send_flags::none);
}

void Dispatcher::on_admin_request(const std::string& text) {
  if (text == "status") {
    reply_admin(status_json());
    return;
  }
  json reply;
  try {
    reply = std::visit([this](const auto& command) { return carry_out(command); }, decode_command(text));
  } catch (const std::exception& e) {
    spdlog::error("delivery: admin request failed: {}", e.what());
    reply = error_reply("internal_error", e.what());
  }
  if (!reply.is_null()) reply_admin(reply);  // null: answered when the operation is done
}

Dispatcher::Department& Dispatcher::configured_department(const std::string& id) {
  // The admin thread checked the name against the same configuration.
  Department* d = find_department(id);
  if (d == nullptr) throw std::logic_error("no department '" + id + "' in this hub");
  return *d;
}

json Dispatcher::carry_out(const ParkedList& command) {
  ParkedQuery q;
  q.department = command.department;
  q.household_id = command.household_id;
  q.all = command.all;
  if (command.limit) q.limit = *command.limit;
  commit_pending(true);
  json out = ledger_->list_parked(q);
  if (command.seq != 0) {
    json kept = json::array();
    for (auto& row : out["parked"])
      if (row["seq"] == command.seq) kept.push_back(row);
    out["parked"] = std::move(kept);
  }
  out["ok"] = true;
  return out;
}

Dispatcher::ParkedTargets Dispatcher::parked_targets(const std::string& department, const std::string& household,
                                                     std::uint64_t only_seq, std::size_t* waiting) {
  ParkedTargets targets;
  for (auto& d : departments_) {
    if (!department.empty() && d->config->id != department) continue;
    std::vector<std::uint64_t> seqs;
    for (const auto& [id, parked] : d->parked) {
      if (!household.empty() && id != household) continue;
      const std::vector<std::uint64_t> due = due_parked(*d, parked);
      for (const std::uint64_t seq : parked) {
        if (only_seq != 0 && seq != only_seq) continue;
        if (std::find(due.begin(), due.end(), seq) != due.end())
          seqs.push_back(seq);
        else if (waiting != nullptr)
          ++*waiting;
      }
    }
    std::sort(seqs.begin(), seqs.end());
    if (!seqs.empty()) targets.emplace_back(d.get(), std::move(seqs));
  }
  return targets;
}

namespace {

// Nothing to act on: no parked event matches, or those that match wait for their effective
// date (a confirmed notice's decision is not a failure; hubd delivers it on that day).
json not_parked(std::size_t waiting) {
  if (waiting > 0)
    return error_reply("waiting_for_effective_date",
                       std::to_string(waiting) + " matching event(s) wait for their effective date and are delivered "
                       "on that day; they cannot be retried or skipped (see: hubctl parked list)");
  return error_reply("not_parked", "no parked event matches (see: hubctl parked list)");
}

}  // namespace

json Dispatcher::carry_out(const ParkedSkip& command) {
  std::size_t waiting = 0;
  const ParkedTargets targets = parked_targets(command.department, command.household_id, command.seq, &waiting);
  if (targets.empty()) return not_parked(waiting);
  const std::string& by = command.by;
  json skipped = json::array();
  for (auto& [d, seqs] : targets) {
    for (const std::uint64_t seq : seqs) {
      const ParkedEntry entry = d->parked_events[seq];
      d->pending.resolutions.push_back(ParkedResolution{seq, entry.household_id, "skip", "skipped", entry.attempts, "", by});
      d->has_pending = true;
      unpark(*d, seq);
      skipped.push_back({{"department", d->config->id}, {"seq", seq}, {"household_id", entry.household_id}});
    }
  }
  if (!commit_pending(true))
    return error_reply("storage_unavailable", "the ledger could not be written; nothing was skipped");
  spdlog::warn("delivery: {} skipped {} parked event(s)", by, skipped.size());
  return {{"ok", true}, {"action", "skip"}, {"by", by}, {"skipped", std::move(skipped)}};
}

json Dispatcher::carry_out(const ParkedRetry& command) {
  std::size_t waiting = 0;
  const ParkedTargets targets = parked_targets(command.department, command.household_id, command.seq, &waiting);
  if (targets.empty()) return not_parked(waiting);
  const std::uint64_t only_seq = command.seq;
  // Only the first parked event of a household may be retried on its own (order).
  if (only_seq != 0) {
    for (auto& [d, seqs] : targets) {
      const auto& first = d->parked[d->parked_events[only_seq].household_id];
      if (*first.begin() != only_seq)
        return error_reply("not_first", "seq " + std::to_string(only_seq) + " waits behind parked seq " +
                                            std::to_string(*first.begin()) + " of the same household in " +
                                            d->config->id + ": retry that one (or the household)",
                           "seq");
    }
  }
  json not_running = json::array();
  for (auto& [d, seqs] : targets)
    if (d->state != DeliveryState::kRunning || d->paused || d->op != OpKind::kNone)
      not_running.push_back({{"department", d->config->id}, {"state", shown_state(*d)}});
  if (!not_running.empty()) {
    json e = error_reply("department_not_running",
                         "retry needs the department's plugin running (not disabled, failing or busy); see hubctl status");
    e["error"]["departments"] = std::move(not_running);
    return e;
  }
  auto op = std::make_shared<AdminOp>();
  op->reply = {{"ok", true}, {"action", "retry"}, {"by", command.by}, {"departments", json::array()}};
  for (auto& [d, seqs] : targets) {
    start_op(*d, OpKind::kRetry, op, command.by);
    d->retry_queue.assign(seqs.begin(), seqs.end());
    d->op_result = {{"delivered", json::array()}, {"still_parked", json::array()}};
  }
  return nullptr;
}

json Dispatcher::carry_out(const PluginsList&) {
  json list = json::array();
  for (auto& d : departments_)
    list.push_back({{"id", d->config->id},
                    {"name_zh", d->config->catalogue.name_zh()},
                    {"name_en", d->config->catalogue.name_en()},
                    {"enabled", d->config->enabled},
                    {"version", d->plugin_version},
                    {"placement", d->config->placement == Placement::kHost ? "host" : "in_process"},
                    {"host", d->host},
                    {"configured", d->config->enabled},
                    {"state", shown_state(*d)},
                    {"plugin_version", d->plugin_version},
                    {"abi_version", d->abi_version},
                    {"library", d->config->placement == Placement::kHost ? "" : d->library},
                    {"parked", d->parked_events.size() - waiting_count(*d)},
                    {"waiting_effective", waiting_count(*d)},
                    {"last_error", d->last_error}});
  for (std::size_t i = 0; i < departments_.size(); ++i) list[i].update(lifecycle_json(*departments_[i]));
  return {{"ok", true}, {"plugins", std::move(list)}};
}

namespace {

json busy(const std::string& department) {
  return error_reply("busy", "another operation is running on '" + department + "'");
}

}  // namespace

json Dispatcher::carry_out(const PluginEnable& command) {
  Department& d = configured_department(command.department);
  if (d.op != OpKind::kNone) return busy(d.config->id);
  const std::string& by = command.by;
  const bool was = d.paused;
  if (was) {
    // Durable before the reply says ok.
    try {
      ledger_->record_enabled(d.config->id, by, now_ms());
    } catch (const StorageError& e) {
      spdlog::error("delivery: cannot record that {} enables {} ({}); still disabled", by, d.config->id, e.what());
      return error_reply("storage_unavailable",
                         std::string("the ledger could not be written; the department stays disabled (") + e.what() + ")");
    }
  }
  d.paused = false;
  d.lifecycle.disabled = false;
  d.lifecycle.disabled_by.clear();
  d.lifecycle.disabled_at_ms = 0;
  d.lifecycle.disabled_reason.clear();
  spdlog::info("delivery: {} enabled {}", by, d.config->id);
  return {{"ok", true}, {"department", d.config->id}, {"by", by}, {"changed", was},
          {"state", std::string(to_string(d.state))}};
}

json Dispatcher::carry_out(const PluginDisable& command) {
  Department& d = configured_department(command.department);
  if (d.op != OpKind::kNone) return busy(d.config->id);
  if (d.paused)
    return {{"ok", true}, {"department", d.config->id}, {"by", command.by}, {"changed", false}, {"state", "disabled"}};
  start_plugin_op(d, OpKind::kDisable, "disable", command.by);
  d.op_reason = command.reason;
  return nullptr;
}

json Dispatcher::carry_out(const PluginReload& command) {
  Department& d = configured_department(command.department);
  if (d.op != OpKind::kNone) return busy(d.config->id);
  if (d.config->placement == Placement::kHost && d.state == DeliveryState::kWaitingForHost)
    return error_reply("host_unavailable", "no plugin host serves '" + d.config->id + "' right now");
  d.op_library = command.library;
  start_plugin_op(d, OpKind::kReload, "reload", command.by);
  return nullptr;
}

void Dispatcher::start_plugin_op(Department& d, OpKind kind, const char* action, const std::string& by) {
  auto op = std::make_shared<AdminOp>();
  op->reply = {{"ok", true}, {"action", action}, {"by", by}, {"departments", json::array()}};
  start_op(d, kind, op, by);
}


void Dispatcher::start_op(Department& d, OpKind kind, const std::shared_ptr<AdminOp>& owner, const std::string& by) {
  d.op = kind;
  d.op_owner = owner;
  d.op_started = false;
  d.op_by = by;
  d.op_result = nlohmann::json::object();
  ++owner->outstanding;
  admin_op_ = owner;
}

void Dispatcher::run_ops() {
  for (auto& dp : departments_) {
    Department& d = *dp;
    if (d.op == OpKind::kNone || d.op_started || draining_) continue;
    // A batch boundary: nothing in flight, everything received recorded.
    if (d.in_flight != 0 || d.has_pending) continue;
    switch (d.op) {
      case OpKind::kDisable: {
        // Durable before the reply says ok: hubd starts with it disabled until it is enabled.
        const std::int64_t at = now_ms();
        try {
          ledger_->record_disabled(d.config->id, d.op_by, d.op_reason, at);
        } catch (const StorageError& e) {
          spdlog::error("delivery: cannot record that {} disables {} ({}); not disabled", d.op_by, d.config->id, e.what());
          finish_op(d, {{"ok", false},
                        {"error", {{"code", "storage_unavailable"},
                                   {"message", std::string("the ledger could not be written; the department was not "
                                                           "disabled (") + e.what() + ")"}}}});
          break;
        }
        d.paused = true;
        d.lifecycle.disabled = true;
        d.lifecycle.disabled_by = d.op_by;
        d.lifecycle.disabled_at_ms = at;
        d.lifecycle.disabled_reason = d.op_reason;
        spdlog::info("delivery: {} disabled {} at seq {}{}", d.op_by, d.config->id, d.cursor.seq,
                     d.op_reason.empty() ? "" : ": " + d.op_reason);
        finish_op(d, {{"ok", true}, {"changed", true}, {"state", "disabled"}, {"cursor", d.cursor.seq},
                      {"disabled_at_ms", at}});
        break;
      }
      case OpKind::kReload: {
        d.op_started = true;
        spdlog::info("delivery: {} reloads {} at seq {}{}", d.op_by, d.config->id, d.cursor.seq,
                     d.op_library.empty() ? "" : " from " + d.op_library);
        auto reload = std::make_unique<Reload>();
        reload->library = d.op_library;
        send_owned(d.pipe, Tag::kReload, std::move(reload));
        break;
      }
      case OpKind::kRetry:
        if (d.state != DeliveryState::kRunning) {
          d.op_result["ok"] = false;
          d.op_result["error"] = {{"code", "department_not_running"},
                                  {"message", "the department's plugin is " + std::string(to_string(d.state))}};
          finish_op(d, d.op_result);
          break;
        }
        d.op_started = true;
        send_retry(d);
        break;
      case OpKind::kNone: break;
    }
  }
}

void Dispatcher::send_retry(Department& d) {
  while (!d.retry_queue.empty()) {
    const std::uint64_t seq = d.retry_queue.front();
    d.retry_queue.pop_front();
    if (d.parked_events.count(seq) == 0) continue;
    Scheduler::Cut cut = scheduler_.single(seq, last_seq_);
    auto request = std::make_unique<Request>();
    request->begin = cut.begin;
    request->end = cut.end;
    request->generation = ++d.generation;  // a fresh one: not skipped after an earlier failure
    request->chunk = std::move(cut.chunk);
    d.retry_in_flight = seq;
    ++d.in_flight;
    send_owned(d.pipe, Tag::kRequest, std::move(request));
    return;
  }
  if (d.op_release)
    spdlog::info("delivery: {}: {} event(s) delivered on their effective date, {} failed and stay parked", d.config->id,
                 d.op_result["delivered"].size(), d.op_result["still_parked"].size());
  d.op_result["ok"] = true;
  finish_op(d, d.op_result);
}

void Dispatcher::on_retry_report(Department& d, std::unique_ptr<Report> report) {
  const std::uint64_t seq = d.retry_in_flight;
  d.retry_in_flight = 0;
  const ParkedEntry entry = d.parked_events[seq];
  const char* action = d.op_release ? "release" : "retry";
  if (report->skipped) {  // the plugin is not there (any more)
    d.retry_queue.clear();
    d.op_result["ok"] = false;
    d.op_result["error"] = {{"code", "department_not_running"},
                            {"message", "the plugin stopped during the retry: " + d.last_error}};
    finish_op(d, d.op_result);
    return;
  }
  if (report->failed) {
    const std::uint32_t attempts = entry.attempts + 1;
    d.parked_events[seq].attempts = attempts;
    d.parked_events[seq].effective_on.clear();  // a failure now, for operators (the ledger's resolution says so too)
    d.pending.failures.push_back(FailureRecord{seq, attempts, report->failure});
    d.pending.resolutions.push_back(
        ParkedResolution{seq, entry.household_id, action, "parked", attempts, report->failure, d.op_by});
    d.op_result["still_parked"].push_back(
        {{"seq", seq}, {"household_id", entry.household_id}, {"reason", report->failure}, {"attempts", attempts}});
    // The household's later parked events stay behind it.
    std::deque<std::uint64_t> rest;
    for (const std::uint64_t s : d.retry_queue)
      if (d.parked_events[s].household_id != entry.household_id) rest.push_back(s);
    d.retry_queue = std::move(rest);
    spdlog::warn("delivery: {} {} {} seq {}: failed: {}", d.op_by, d.op_release ? "released" : "retried",
                 d.config->id, seq, report->failure);
  } else {
    for (auto& e : report->delivered) d.pending.delivered.push_back(std::move(e));
    d.pending.resolutions.push_back(
        ParkedResolution{seq, entry.household_id, action, "delivered", entry.attempts, "", d.op_by});
    d.op_result["delivered"].push_back({{"seq", seq}, {"household_id", entry.household_id}});
    unpark(d, seq);
    if (d.op_release)
      spdlog::debug("delivery: {} seq {} delivered on its effective date", d.config->id, seq);
    else
      spdlog::info("delivery: {} retried {} seq {}: delivered", d.op_by, d.config->id, seq);
  }
  d.has_pending = true;
  send_retry(d);
}

void Dispatcher::finish_op(Department& d, nlohmann::json result) {
  auto owner = d.op_owner;
  d.op = OpKind::kNone;
  d.op_owner.reset();
  d.op_started = false;
  d.retry_queue.clear();
  d.op_release = false;
  d.op_library.clear();
  d.op_reason.clear();
  if (!owner) return;
  result["department"] = d.config->id;
  if (result.value("ok", true) == false) owner->reply["ok"] = false;
  owner->reply["departments"].push_back(std::move(result));
  if (--owner->outstanding > 0) return;
  nlohmann::json reply = std::move(owner->reply);
  // One department (plugins commands): its result is the answer.
  if (reply["action"] != "retry" && reply["departments"].size() == 1) {
    nlohmann::json one = reply["departments"][0];
    one["action"] = reply["action"];
    one["by"] = reply["by"];
    reply = std::move(one);
  }
  admin_reply_ = std::move(reply);  // sent after the next ledger commit
}

}  // namespace hub::delivery
