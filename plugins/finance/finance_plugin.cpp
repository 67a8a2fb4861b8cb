// 财政所 (finance office): the only-child parents' reward (独生子女父母奖励费) and the rural
// family-planning reward, paid per quarter to the households on the finance roster.
//
// Per policy and household on the roster, with A the quarter's amount from the roster:
//   credit      → apply A (restore A when the household comes back from breach)
//   non_credit  → defer A, and A accrues
//   back to credit with accruals open → release their sum, then apply A (two actions)
//   breach      → one withhold of A plus every open accrual, which is forfeited
// A correction (same quarter re-evaluated) first supersedes the open accrual of that quarter,
// then decides afresh. Households not on the roster for a policy get not_applicable.
//
// A ruling on a past quarter (Event::past_quarter, 投诉裁定更正往季) does not change the
// household's status now; finance pays the exact remedy instead. It replays the household's
// corrected history from the journal (per quarter the status of its latest decision, that
// quarter now the ruling's status; remedy.h) at today's roster amount A, and compares it with
// the money actually paid (every journalled apply, restore and release):
//   should-have-paid > paid → one release of the difference (补发), reason naming the complaint
//   should-have-paid < paid → not_applicable naming the amount overpaid: the hub claws nothing
//                             back, recovery is outside it
//   equal, nothing changed  → not_applicable, payments unchanged
// and the open accruals become the replay's open set: those it released or forfeited are settled
// so (a withhold of the forfeited sum says which quarters), those it left open are added.
// Invariant: after a remedy ≥ 0, money paid + open accruals = the corrected history's paid +
// open, to the fen; ordinary events afterwards carry on from those accruals.
//
// Department data: the roster, a CSV `household_id,policy_id,amount_fen_per_quarter` at
// <data_dir>/roster.csv or at settings.roster (relative to the data directory). State: the
// accruals and the decision journal in <data_dir>/finance.db (see accrual_store.h); each event
// is decided in one SQLite transaction, and a redelivered event (same idempotency key) gets
// the journalled answer without touching the accruals again.
#include <charconv>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "accrual_store.h"
#include "hub/sdk/catalogue.h"
#include "hub/sdk/plugin.h"
#include "hub/sdk/reasons.h"
#include "hub/sdk/roster.h"
#include "remedy.h"

namespace {

using finance::Accrual;
using finance::AccrualStore;
using finance::QuarterFate;
using finance::Settlement;
using hub::sdk::ActionKind;
using hub::sdk::Catalogue;
using hub::sdk::Event;
using hub::sdk::format_yuan;
using hub::sdk::HandleResult;
using hub::sdk::Host;
using hub::sdk::HouseholdStatus;
using hub::sdk::PolicyAction;
using hub::sdk::PolicyDefinition;
using hub::sdk::RosterRow;

// The roster: a household's quarterly amount per policy, one row per household and policy.
const hub::sdk::RosterSpec kRosterSpec{
    .department = "finance",
    .columns = {"policy_id", "amount_fen_per_quarter"},
    .remedy = "generate it with the town generator or set settings.roster",
};

// 1,000,000 yuan a quarter is a typo in the roster, not a reward; it also keeps sums far from
// overflow.
constexpr std::int64_t kMaxAmountFenPerQuarter = 100'000'000;

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::int64_t total(const std::vector<Accrual>& accruals) {
  std::int64_t sum = 0;
  for (const auto& a : accruals) sum += a.amount_fen;
  return sum;
}

// How a reason lists quarters in one language.
struct QuarterListWording {
  std::string_view separator;
  std::string_view count_prefix;
  std::string_view count_suffix;
};
constexpr QuarterListWording kZhQuarters{"、", "，共 ", " 个季度"};
constexpr QuarterListWording kEnQuarters{",", ", ", " quarters"};

// The quarters of some accruals for a reason, e.g. "2020Q1,2020Q2". Long runs are shortened to
// "2020Q1…2027Q2, 30 quarters" so a reason stays short (the hub refuses reasons over 1000 bytes).
std::string quarters(const std::vector<Accrual>& accruals, const QuarterListWording& wording) {
  constexpr std::size_t kListed = 4;
  if (accruals.size() > kListed) {
    return accruals.front().quarter + "…" + accruals.back().quarter + std::string(wording.count_prefix) +
           std::to_string(accruals.size()) + std::string(wording.count_suffix);
  }
  std::string out;
  for (const auto& a : accruals) {
    if (!out.empty()) out += wording.separator;
    out += a.quarter;
  }
  return out;
}

// Why a correction changed what was open, appended to the new decision's reason.
std::string correction_note(const Event& event, const std::vector<Accrual>& superseded) {
  if (!event.correction && superseded.empty()) return {};
  if (superseded.empty()) return " [更正 / correction]";
  return " [更正：撤销 " + event.quarter + " 原暂缓的 " + format_yuan(total(superseded)) +
         " / correction: the earlier deferral of " + format_yuan(total(superseded)) + " for " + event.quarter +
         " is superseded]";
}

// A reason in two languages, joined as "<中文> / <English>" when done.
struct Bilingual {
  std::string zh;
  std::string en;
  std::string joined() const { return zh + " / " + en; }
};

// "依投诉 TS-… 裁定，2020Q4 由违约户更正为诚信户" / "ruling on complaint TS-…: 2020Q4 corrected
// from breach to credit". A department that does not receive the complaint's id still reads a
// whole sentence ("依投诉裁定" / "ruling on a complaint").
Bilingual ruling_head(const Event& event) {
  const bool named = !event.complaint_id.empty();
  return {(named ? "依投诉 " + event.complaint_id + " 裁定，" : std::string("依投诉裁定，")) + event.quarter + " 由" +
              std::string(hub::sdk::status_name_zh(event.previous_status)) + "更正为" +
              std::string(hub::sdk::status_name_zh(event.new_status)),
          (named ? "ruling on complaint " + event.complaint_id : std::string("ruling on a complaint")) + ": " +
              event.quarter + " corrected from " + std::string(hub::sdk::to_string(event.previous_status)) + " to " +
              std::string(hub::sdk::to_string(event.new_status))};
}

// The household's quarterly amount per policy, from the roster.
using Roster = std::unordered_map<std::string, std::unordered_map<std::string, std::int64_t>>;

class FinancePlugin final : public hub::sdk::Plugin {
 protected:
  HandleResult on_start(Host& host) override {
    host_ = &host;
    std::string error;
    auto catalogue = Catalogue::from_plugin_config(host.config_json(), &error);
    if (!catalogue) return HandleResult::error("finance: cannot read the policy catalogue: " + error);
    for (const PolicyDefinition& policy : catalogue->policies()) {
      if (!policy.money || policy.scope != PolicyDefinition::Scope::kRoster)
        return HandleResult::error("finance: policy " + policy.id +
                                   " must be \"money\": true with scope \"roster\": every finance reward is an amount "
                                   "per household on the roster; fix config/departments/finance.json");
    }

    const auto roster_path = hub::sdk::roster_path(kRosterSpec, host.config_json(), host.data_dir(), &error);
    if (!roster_path) return HandleResult::error(error);
    if (HandleResult loaded = load_roster(*roster_path, *catalogue); !loaded.is_ok()) return loaded;

    const std::string database = (std::filesystem::path(std::string(host.data_dir())) / "finance.db").string();
    try {
      store_ = std::make_unique<AccrualStore>(database);
    } catch (const std::exception& e) {
      return HandleResult::error(std::string("finance: ") + e.what());
    }
    host.log(hub::sdk::LogLevel::kInfo, "finance: roster " + *roster_path + ": " + std::to_string(roster_.size()) +
                                            " households; accruals in " + database);
    catalogue_ = std::move(catalogue);
    return HandleResult::ok();
  }

  HandleResult on_event(const Event& event, std::vector<PolicyAction>& actions) override {
    if (!catalogue_ || !store_) return HandleResult::error("finance: event before a successful start");
    if (event.idempotency_key.empty())
      return HandleResult::error("finance: event " + std::to_string(event.sequence) +
                                 " has no idempotency key; accruals cannot be kept exactly once without it");
    std::vector<PolicyAction> decided;
    try {
      AccrualStore::EventScope scope(*store_);
      if (auto recorded = store_->find_decision(event.idempotency_key)) {
        if (recorded->household_id != event.household_id)
          return HandleResult::error("finance: idempotency key " + event.idempotency_key + " was used for household " +
                                     recorded->household_id + ", now for " + event.household_id);
        host_->log(hub::sdk::LogLevel::kInfo,
                   "finance: " + event.idempotency_key + " redelivered; answering with the recorded decision");
        decided = std::move(recorded->actions);
      } else {
        for (const PolicyDefinition& policy : catalogue_->policies()) decide(policy, event, decided);
        store_->record_decision(event, decided, host_->now_unix_ms());
      }
      scope.commit();
    } catch (const finance::StoreError& e) {
      // This event's writes were undone; the hub will deliver it again.
      return HandleResult::retry(std::string("finance: ") + e.what());
    }
    // The hub records these actions only after on_batch_end made the batch durable.
    actions.insert(actions.end(), std::make_move_iterator(decided.begin()), std::make_move_iterator(decided.end()));
    return HandleResult::ok();
  }

  HandleResult on_batch_end() override {
    if (!store_) return HandleResult::ok();
    try {
      store_->commit_batch();
    } catch (const finance::StoreError& e) {
      // Nothing of the batch was kept; the hub will deliver all of it again.
      return HandleResult::retry(std::string("finance: cannot commit the batch: ") + e.what());
    }
    return HandleResult::ok();
  }

  void on_stop() override { store_.reset(); }  // an unfinished batch is rolled back

 private:
  // Appends the actions for one policy, changing the accruals inside the caller's transaction.
  void decide(const PolicyDefinition& policy, const Event& event, std::vector<PolicyAction>& out) {
    auto make = [&](ActionKind kind, std::optional<std::int64_t> amount, std::string reason) {
      out.push_back(PolicyAction{policy.id, event.household_id, kind, amount, std::move(reason)});
    };
    const std::optional<std::int64_t> amount = quarterly_amount(event.household_id, policy.id);
    if (!amount) {
      make(ActionKind::kNotApplicable, std::nullopt,
           "不在" + policy.name_zh + "名册，不适用 / not on the roster for " + policy.name_en + ": not applicable" +
               (event.past_quarter ? hub::sdk::correction_suffix(event) : std::string()));
      return;
    }
    if (event.past_quarter) {
      decide_past_quarter(policy, event, *amount, out);
      return;
    }
    const std::string& key = event.idempotency_key;
    const std::string& h = event.household_id;
    const std::string& q = event.quarter;

    // A correction re-decides its quarter: whatever that quarter had deferred no longer stands.
    // Any open accrual of this very quarter is an earlier decision for it, flagged or not.
    const std::vector<Accrual> superseded = store_->settle(h, policy.id, q, Settlement::kSuperseded, key);
    const std::string note = correction_note(event, superseded);

    const ActionKind effect = hub::sdk::effect_for_status(policy, event.new_status);
    switch (effect) {
      case ActionKind::kApply: {
        const std::vector<Accrual> released = store_->settle(h, policy.id, std::nullopt, Settlement::kReleased, key);
        if (!released.empty()) {
          const std::int64_t sum = total(released);
          make(ActionKind::kRelease, sum,
               "恢复诚信户，补发暂缓的" + policy.name_zh + " " + format_yuan(sum) + "（" +
                   quarters(released, kZhQuarters) + "）/ credit again: deferred " + format_yuan(sum) + " released (" +
                   quarters(released, kEnQuarters) + ")" + note);
        }
        const bool after_breach = hub::sdk::effect_for_status(policy, event.previous_status) == ActionKind::kWithhold;
        if (after_breach) {
          make(ActionKind::kRestore, *amount,
               "违约后恢复诚信户，恢复兑现 " + q + " " + format_yuan(*amount) + " / credit again after breach: " + q +
                   " reward " + format_yuan(*amount) + " restored" + note);
        } else {
          make(ActionKind::kApply, *amount,
               "诚信户，兑现 " + q + " " + format_yuan(*amount) + " / credit: " + q + " reward " +
                   format_yuan(*amount) + " paid" + note);
        }
        return;
      }
      case ActionKind::kDefer: {
        store_->add(h, policy.id, q, *amount, key);
        const std::int64_t accrued = total(store_->pending(h, policy.id));
        make(ActionKind::kDefer, *amount,
             "不诚信户，" + q + " " + format_yuan(*amount) + " 暂缓兑现，累计暂缓 " + format_yuan(accrued) +
                 " / non_credit: " + q + " reward " + format_yuan(*amount) + " deferred, " + format_yuan(accrued) +
                 " accrued in total" + note);
        return;
      }
      case ActionKind::kWithhold: {
        const std::vector<Accrual> forfeited = store_->settle(h, policy.id, std::nullopt, Settlement::kForfeited, key);
        const std::int64_t lost = total(forfeited);
        std::string reason = "违约户，" + q + " " + format_yuan(*amount) + " 不兑现";
        if (forfeited.empty()) {
          reason += " / breach: " + q + " reward " + format_yuan(*amount) + " withheld";
        } else {
          reason += "，已暂缓的 " + format_yuan(lost) + "（" + quarters(forfeited, kZhQuarters) +
                    "）作废 / breach: " + q + " reward " + format_yuan(*amount) + " withheld, deferred " +
                    format_yuan(lost) + " (" + quarters(forfeited, kEnQuarters) + ") forfeited";
        }
        make(ActionKind::kWithhold, *amount + lost, reason + note);
        return;
      }
      case ActionKind::kRelease:
      case ActionKind::kRestore:
      case ActionKind::kNotApplicable: break;
    }
    // Unevaluated: no policy change, and open accruals stay open.
    make(ActionKind::kNotApplicable, std::nullopt,
         std::string(event.new_status == HouseholdStatus::kUnevaluated ? "未评议" : "无兑现规则") + "，不适用 / " +
             std::string(hub::sdk::to_string(event.new_status)) + ": not applicable" + note);
  }

  // The remedy for a ruling on a past quarter (see the file comment), for one policy of a
  // household on its roster at `amount` a quarter. Inside the caller's transaction, before the
  // event is journalled: the journal holds every earlier decision and none of this one's.
  void decide_past_quarter(const PolicyDefinition& policy, const Event& event, std::int64_t amount,
                           std::vector<PolicyAction>& out) {
    auto make = [&](ActionKind kind, std::optional<std::int64_t> fen, std::string reason) {
      out.push_back(PolicyAction{policy.id, event.household_id, kind, fen, std::move(reason)});
    };
    const std::string& key = event.idempotency_key;
    const std::string& h = event.household_id;

    // The corrected history: what the journal says of each quarter the household was on this
    // policy's roster, the ruled quarter as ruled. A quarter it was evaluated in while off the
    // roster earned nothing then and earns nothing now; one never evaluated counts as ruled.
    const auto history = store_->quarter_history(h, policy.id);
    if (const auto ruled = history.find(event.quarter); ruled != history.end() && !ruled->second.on_roster) {
      make(ActionKind::kNotApplicable, std::nullopt,
           "依投诉裁定更正的 " + event.quarter + " 不在" + policy.name_zh + "名册，无需补发 / " + event.quarter +
               " was not on the roster for " + policy.name_en + ": no remedy" + hub::sdk::correction_suffix(event));
      return;
    }
    std::map<std::string, ActionKind> effects;
    for (const auto& [quarter, record] : history)
      if (record.on_roster) effects[quarter] = hub::sdk::effect_for_status(policy, record.status);
    effects[event.quarter] = hub::sdk::effect_for_status(policy, event.new_status);
    const finance::Replay should = finance::replay(effects, amount);
    const std::int64_t remedy = should.paid_fen - store_->paid(h, policy.id);

    // Bring the open accruals to the replay's open set. An accrual the replay paid was released
    // (its money is in the remedy), one it forfeited is forfeited; one whose quarter the replay
    // neither paid nor forfeited (now unevaluated, or open at another amount) is superseded.
    std::vector<Accrual> released, forfeited, superseded, added;
    for (const Accrual& open : store_->pending(h, policy.id)) {
      const auto kept = should.open.find(open.quarter);
      if (kept != should.open.end() && kept->second == open.amount_fen) continue;
      const auto fate = should.fate.find(open.quarter);
      const QuarterFate what = fate == should.fate.end() ? QuarterFate::kNone : fate->second;
      const Settlement settlement = what == QuarterFate::kPaid        ? Settlement::kReleased
                                    : what == QuarterFate::kForfeited ? Settlement::kForfeited
                                                                      : Settlement::kSuperseded;
      store_->settle(h, policy.id, open.quarter, settlement, key);
      (settlement == Settlement::kReleased    ? released
       : settlement == Settlement::kForfeited ? forfeited
                                              : superseded)
          .push_back(open);
    }
    const std::vector<Accrual> still_open = store_->pending(h, policy.id);
    for (const auto& [quarter, fen] : should.open) {
      bool present = false;
      for (const Accrual& open : still_open) present = present || open.quarter == quarter;
      if (present) continue;
      store_->add(h, policy.id, quarter, fen, key);
      added.push_back(Accrual{quarter, fen});
    }

    // What happened to the accruals, appended to the first action's reason.
    Bilingual accruals;
    if (!released.empty()) {
      accruals.zh += "（含原暂缓的 " + quarters(released, kZhQuarters) + "）";
      accruals.en += " (deferred " + quarters(released, kEnQuarters) + " included)";
    }
    if (!added.empty()) {
      accruals.zh += "；暂缓 " + format_yuan(total(added)) + "（" + quarters(added, kZhQuarters) + "）";
      accruals.en += "; " + format_yuan(total(added)) + " deferred (" + quarters(added, kEnQuarters) + ")";
    }
    if (!superseded.empty()) {
      accruals.zh += "；撤销原暂缓的 " + format_yuan(total(superseded)) + "（" + quarters(superseded, kZhQuarters) + "）";
      accruals.en += "; the deferral of " + format_yuan(total(superseded)) + " (" + quarters(superseded, kEnQuarters) +
                     ") superseded";
    }

    const Bilingual head = ruling_head(event);
    if (remedy > 0) {
      make(ActionKind::kRelease, remedy,
           Bilingual{head.zh + "，补发 " + format_yuan(remedy) + accruals.zh,
                     head.en + ", " + format_yuan(remedy) + " paid as the remedy" + accruals.en}
               .joined());
    } else if (remedy < 0) {
      // Money already paid stays paid: taking it back is a matter for the office, not the hub.
      make(ActionKind::kNotApplicable, std::nullopt,
           Bilingual{head.zh + "，多发 " + format_yuan(-remedy) + "，不在本系统追回" + accruals.zh,
                     head.en + ": " + format_yuan(-remedy) + " overpaid: recovery is outside the hub" + accruals.en}
               .joined());
    }
    if (!forfeited.empty()) {
      const std::int64_t lost = total(forfeited);
      make(ActionKind::kWithhold, lost,
           Bilingual{head.zh + "，原暂缓的 " + format_yuan(lost) + "（" + quarters(forfeited, kZhQuarters) + "）因裁定作废" +
                         (remedy == 0 ? accruals.zh : std::string()),
                     head.en + ": deferred " + format_yuan(lost) + " (" + quarters(forfeited, kEnQuarters) +
                         ") forfeited because of the ruling" + (remedy == 0 ? accruals.en : std::string())}
               .joined());
    }
    if (remedy == 0 && forfeited.empty()) {
      make(ActionKind::kNotApplicable, std::nullopt,
           Bilingual{"兑现不变" + accruals.zh, "payments unchanged" + accruals.en}.joined() +
               hub::sdk::correction_suffix(event));
    }
  }

  std::optional<std::int64_t> quarterly_amount(const std::string& household_id, const std::string& policy_id) const {
    const auto household = roster_.find(household_id);
    if (household == roster_.end()) return std::nullopt;
    const auto policy = household->second.find(policy_id);
    if (policy == household->second.end()) return std::nullopt;
    return policy->second;
  }

  HandleResult load_roster(const std::string& path, const Catalogue& catalogue) {
    Roster roster;
    std::string error;
    const auto loaded = hub::sdk::load_roster(
        kRosterSpec, path,
        [&](const RosterRow& row) -> std::optional<std::string> {
          const std::string& policy = row.fields[0];
          const std::string& amount_text = row.fields[1];
          if (catalogue.find(policy) == nullptr) return "policy_id '" + policy + "' is not in the finance catalogue";
          const auto amount = parse_integer(amount_text);
          if (!amount || *amount < 0 || *amount > kMaxAmountFenPerQuarter)
            return "amount_fen_per_quarter must be a whole number of fen from 0 to " +
                   std::to_string(kMaxAmountFenPerQuarter) + ", got '" + amount_text + "'";
          if (!roster[row.household_id].emplace(policy, *amount).second)
            return "household " + row.household_id + " is listed twice for " + policy;
          return std::nullopt;
        },
        &error);
    if (!loaded) return HandleResult::error(error);
    roster_ = std::move(roster);
    return HandleResult::ok();
  }

  Host* host_ = nullptr;  // valid from on_start until after on_stop (the host's promise)
  std::optional<Catalogue> catalogue_;
  Roster roster_;
  std::unique_ptr<AccrualStore> store_;
};

}  // namespace

HUB_DECLARE_PLUGIN(FinancePlugin, "finance", "1.0.0")
