#include "remedy.h"

namespace finance {

Replay replay(const std::map<std::string, hub::sdk::ActionKind>& effects, std::int64_t amount_fen) {
  using hub::sdk::ActionKind;
  Replay out;
  // Settles every open accrual the same way (released or forfeited) and returns their sum.
  auto settle_open = [&out](QuarterFate fate) {
    std::int64_t sum = 0;
    for (const auto& [quarter, amount] : out.open) {
      sum += amount;
      out.fate[quarter] = fate;
    }
    out.open.clear();
    return sum;
  };
  for (const auto& [quarter, effect] : effects) {
    switch (effect) {
      case ActionKind::kApply:
        out.paid_fen += settle_open(QuarterFate::kPaid) + amount_fen;
        out.fate[quarter] = QuarterFate::kPaid;
        break;
      case ActionKind::kDefer:
        out.open[quarter] = amount_fen;
        out.fate[quarter] = QuarterFate::kOpen;
        break;
      case ActionKind::kWithhold:
        out.forfeited_fen += settle_open(QuarterFate::kForfeited) + amount_fen;
        out.fate[quarter] = QuarterFate::kForfeited;
        break;
      case ActionKind::kRelease:
      case ActionKind::kRestore:
      case ActionKind::kNotApplicable:
        out.fate[quarter] = QuarterFate::kNone;
        break;
    }
  }
  return out;
}

}  // namespace finance
