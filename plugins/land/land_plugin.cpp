// 国土所 (land office): priority homestead (宅基地) approval. A household's pending homestead
// applications are put on hold while it is non_credit (defer) or in breach (withhold), and
// resumed when it is credit again (release after non_credit, restore after breach). A
// household with no pending application gets not_applicable, and so does a past quarter put
// right by a complaint's ruling (Event::past_quarter): the hold follows the evaluation now.
//
// Department data: the pending applications, a CSV `household_id,application_id,applied_on`
// (one row per application; a household may have several) at <data_dir>/roster.csv or at
// settings.roster (relative to the data directory). The plugin keeps no state of its own: the
// event's previous and new status decide, so a redelivered event gets the same answer.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hub/sdk/catalogue.h"
#include "hub/sdk/plugin.h"
#include "hub/sdk/reasons.h"
#include "hub/sdk/roster.h"

namespace {

using hub::sdk::ActionKind;
using hub::sdk::Catalogue;
using hub::sdk::Event;
using hub::sdk::HandleResult;
using hub::sdk::Host;
using hub::sdk::PolicyAction;
using hub::sdk::PolicyDefinition;
using hub::sdk::RosterRow;

// The pending applications, one row each; a household may have several.
const hub::sdk::RosterSpec kRosterSpec{
    .department = "land",
    .columns = {"application_id", "applied_on"},
    .contents = "listing pending homestead applications",
    .remedy = "generate it with the town generator or set settings.roster",
};

// YYYY-MM-DD with a plausible month and day; the land office's own system owns the calendar.
bool is_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (text[i] < '0' || text[i] > '9') return false;
  const int month = (text[5] - '0') * 10 + (text[6] - '0');
  const int day = (text[8] - '0') * 10 + (text[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// The application ids for a reason: "A1、A2" in Chinese, "A1,A2" in English. Past a handful
// the rest are counted, not listed, so a reason stays short (the hub refuses reasons over 1000
// bytes): "A1、…、A5 等共 8 件" / "A1,…,A5 and 3 more".
constexpr std::size_t kListedApplications = 5;

std::string list_zh(const std::vector<std::string>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < kListedApplications; ++i) out += (i == 0 ? "" : "、") + ids[i];
  if (ids.size() > kListedApplications) out += " 等共 " + std::to_string(ids.size()) + " 件";
  return out;
}

std::string list_en(const std::vector<std::string>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < kListedApplications; ++i) out += (i == 0 ? "" : ",") + ids[i];
  if (ids.size() > kListedApplications) out += " and " + std::to_string(ids.size() - kListedApplications) + " more";
  return out;
}

std::string hold_reason(const Event& event, ActionKind kind, const std::vector<std::string>& applications) {
  const std::string zh_ids = list_zh(applications);
  const std::string en_ids = list_en(applications);
  std::string reason;
  switch (kind) {
    case ActionKind::kApply:
      reason =
          "诚信户，宅基地申请 " + zh_ids + " 优先审批 / credit: application(s) " + en_ids + " get priority approval";
      break;
    case ActionKind::kDefer:
      reason = "不诚信户，宅基地申请 " + zh_ids + " 暂停审批 / non_credit: application(s) " + en_ids + " put on hold";
      break;
    case ActionKind::kWithhold:
      reason = "违约户，宅基地申请 " + zh_ids + " 暂停审批 / breach: application(s) " + en_ids + " on hold";
      break;
    case ActionKind::kRelease:
      reason = "恢复诚信户，宅基地申请 " + zh_ids + " 恢复审批 / credit again after non_credit: application(s) " +
               en_ids + " resumed";
      break;
    case ActionKind::kRestore:
      reason = "违约后恢复诚信户，宅基地申请 " + zh_ids + " 恢复审批 / credit again after breach: application(s) " +
               en_ids + " resumed";
      break;
    case ActionKind::kNotApplicable:
      reason = "未评议，宅基地申请 " + zh_ids + " 不作调整 / " + std::string(hub::sdk::to_string(event.new_status)) +
               ": application(s) " + en_ids + " unchanged";
      break;
  }
  reason += " (" + event.quarter + ")";
  reason += hub::sdk::correction_suffix(event);
  return reason;
}

class LandPlugin final : public hub::sdk::Plugin {
 protected:
  HandleResult on_start(Host& host) override {
    std::string error;
    auto catalogue = Catalogue::from_plugin_config(host.config_json(), &error);
    if (!catalogue) return HandleResult::error("land: cannot read the policy catalogue: " + error);
    for (const PolicyDefinition& policy : catalogue->policies()) {
      if (policy.money)
        return HandleResult::error("land: policy " + policy.id +
                                   " is marked \"money\": true, but homestead approval carries no amount; "
                                   "fix config/departments/land.json");
    }

    const auto roster_path = hub::sdk::roster_path(kRosterSpec, host.config_json(), host.data_dir(), &error);
    if (!roster_path) return HandleResult::error(error);
    if (HandleResult loaded = load_roster(*roster_path); !loaded.is_ok()) return loaded;

    std::size_t count = 0;
    for (const auto& [household, ids] : applications_) count += ids.size();
    host.log(hub::sdk::LogLevel::kInfo, "land: roster " + *roster_path + ": " + std::to_string(count) +
                                            " pending applications of " + std::to_string(applications_.size()) +
                                            " households");
    catalogue_ = std::move(catalogue);
    return HandleResult::ok();
  }

  HandleResult on_event(const Event& event, std::vector<PolicyAction>& actions) override {
    if (!catalogue_) return HandleResult::error("land: event before a successful start");
    const auto pending = applications_.find(event.household_id);
    for (const PolicyDefinition& policy : catalogue_->policies()) {
      PolicyAction action;
      action.policy_id = policy.id;
      action.household_id = event.household_id;
      if (pending == applications_.end()) {
        action.action = ActionKind::kNotApplicable;
        action.reason = "无待审宅基地申请，不适用 / no pending homestead application: not applicable";
      } else if (policy.scope == PolicyDefinition::Scope::kDesignation && !event.has_designation(policy.designation)) {
        action.action = ActionKind::kNotApplicable;
        action.reason = hub::sdk::missing_designation_reason(policy.designation);
      } else if (event.past_quarter) {
        // An application is approved or held by the household's evaluation now; a ruling on a
        // past quarter leaves that as it is.
        action.action = ActionKind::kNotApplicable;
        action.reason = "宅基地申请 " + list_zh(pending->second) + " 按当前评议办理，不作调整 / application(s) " +
                        list_en(pending->second) + " follow the current evaluation: unchanged" +
                        hub::sdk::correction_suffix(event);
      } else {
        // One action per event for all of the household's applications; the reason names them.
        action.action = hub::sdk::standard_action(policy, event);
        action.reason = hold_reason(event, action.action, pending->second);
      }
      actions.push_back(std::move(action));
    }
    return HandleResult::ok();
  }

 private:
  HandleResult load_roster(const std::string& path) {
    std::unordered_map<std::string, std::vector<std::string>> applications;
    std::unordered_map<std::string, std::size_t> application_line;
    std::string error;
    const auto roster = hub::sdk::load_roster(
        kRosterSpec, path,
        [&](const RosterRow& row) -> std::optional<std::string> {
          const std::string& application = row.fields[0];
          const std::string& applied_on = row.fields[1];
          if (application.empty()) return "application_id is empty";
          if (!is_date(applied_on)) return "applied_on must be a date YYYY-MM-DD, got '" + applied_on + "'";
          if (auto [it, inserted] = application_line.emplace(application, row.line); !inserted)
            return "application " + application + " is already listed on line " + std::to_string(it->second);
          applications[row.household_id].push_back(application);
          return std::nullopt;
        },
        &error);
    if (!roster) return HandleResult::error(error);
    applications_ = std::move(applications);
    return HandleResult::ok();
  }

  std::optional<Catalogue> catalogue_;
  std::unordered_map<std::string, std::vector<std::string>> applications_;  // household → pending application ids
};

}  // namespace

HUB_DECLARE_PLUGIN(LandPlugin, "land", "1.0.0")
