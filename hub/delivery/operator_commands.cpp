#include "delivery/operator_commands.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace hub::delivery {

namespace {

using nlohmann::json;

// Every command's fields under one name each; absent fields keep their defaults.
json fields(const ParkedList& c) {
  json j{{"department", c.department}, {"household_id", c.household_id}, {"seq", c.seq}, {"all", c.all}};
  if (c.limit) j["limit"] = *c.limit;
  return j;
}
template <class T>
json parked_fields(const T& c) {
  return {{"department", c.department}, {"household_id", c.household_id}, {"seq", c.seq}, {"by", c.by}};
}
json fields(const ParkedRetry& c) { return parked_fields(c); }
json fields(const ParkedSkip& c) { return parked_fields(c); }
json fields(const PluginsList&) { return json::object(); }
json fields(const PluginReload& c) { return {{"department", c.department}, {"library", c.library}, {"by", c.by}}; }
json fields(const PluginDisable& c) { return {{"department", c.department}, {"reason", c.reason}, {"by", c.by}}; }
json fields(const PluginEnable& c) { return {{"department", c.department}, {"by", c.by}}; }

void read(const json& j, ParkedList& c) {
  c.department = j.at("department");
  c.household_id = j.at("household_id");
  c.seq = j.at("seq");
  c.all = j.at("all");
  if (j.contains("limit")) c.limit = j["limit"].get<std::size_t>();
}
template <class T>
void read_parked(const json& j, T& c) {
  c.department = j.at("department");
  c.household_id = j.at("household_id");
  c.seq = j.at("seq");
  c.by = j.at("by");
}
void read(const json& j, ParkedRetry& c) { read_parked(j, c); }
void read(const json& j, ParkedSkip& c) { read_parked(j, c); }
void read(const json&, PluginsList&) {}
void read(const json& j, PluginReload& c) {
  c.department = j.at("department");
  c.library = j.at("library");
  c.by = j.at("by");
}
void read(const json& j, PluginDisable& c) {
  c.department = j.at("department");
  c.reason = j.at("reason");
  c.by = j.at("by");
}
void read(const json& j, PluginEnable& c) {
  c.department = j.at("department");
  c.by = j.at("by");
}

// The alternative with index `index`, default-constructed (a variant cannot be built from a
// run-time index directly).
template <std::size_t I = 0>
OperatorCommand alternative(std::size_t index) {
  if constexpr (I < std::variant_size_v<OperatorCommand>) {
    if (index == I) return OperatorCommand(std::in_place_index<I>);
    return alternative<I + 1>(index);
  } else {
    throw std::runtime_error("not an operator command: kind " + std::to_string(index));
  }
}

}  // namespace

std::string encode_command(const OperatorCommand& command) {
  json j = std::visit([](const auto& c) { return fields(c); }, command);
  j["kind"] = command.index();
  return j.dump();
}

OperatorCommand decode_command(const std::string& frame) {
  const json j = json::parse(frame, nullptr, false);
  if (!j.is_object() || !j.contains("kind") || !j["kind"].is_number_unsigned())
    throw std::runtime_error("not an operator command");
  OperatorCommand command = alternative(j["kind"].get<std::size_t>());
  try {
    std::visit([&j](auto& c) { read(j, c); }, command);
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("not an operator command: ") + e.what());
  }
  return command;
}

}  // namespace hub::delivery
