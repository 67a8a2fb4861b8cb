#include "store/ledger_records.h"

#include <cstdio>

namespace hub::store {

namespace tally {

std::string latency_bucket(std::size_t bucket) {
  return std::string(kLatencyPrefix) +
         (bucket < kDeliveryLatencyBoundsMs.size() ? std::to_string(kDeliveryLatencyBoundsMs[bucket]) : "+Inf");
}

}  // namespace tally

namespace {

constexpr const char* kPolicyAction = "policy_action";

// JSON string literal for a policy id (validated ids need no escaping, but be exact anyway).
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
}

// Reads what encode_actions writes: [["policy","action",amount or null,reason id],…], no
// spaces, no escapes. False at the first byte that is not that (the caller then parses JSON).
class PackedActionsReader {
 public:
  explicit PackedActionsReader(std::string_view text) : text_(text) {}

  bool read(std::vector<PackedAction>& out) {
    if (!take('[')) return false;
    if (take(']')) return at_end();
    do {
      PackedAction a;
      if (!take('[') || !string(a.policy_id) || !take(',') || !string(a.action) || !take(',')) return false;
      if (!literal("null")) {
        std::int64_t amount = 0;
        if (!integer(amount)) return false;
        a.amount_fen = amount;
      }
      std::int64_t reason = 0;
      if (!take(',') || !integer(reason) || !take(']')) return false;
      out.push_back(a);
    } while (take(','));
    return take(']') && at_end();
  }

 private:
  bool at_end() const { return pos_ == text_.size(); }
  bool take(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  // A string without escapes or control characters (encode_actions escapes those: parse JSON).
  bool string(std::string_view& out) {
    if (!take('"')) return false;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '\\' || c < 0x20) return false;
      ++pos_;
    }
    if (pos_ >= text_.size()) return false;
    out = text_.substr(start, pos_ - start);
    ++pos_;
    return true;
  }
  // At most 18 digits, so that it cannot overflow; a longer one is left to the parser.
  bool integer(std::int64_t& out) {
    const bool negative = take('-');
    const std::size_t start = pos_;
    std::int64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9' && pos_ - start < 18)
      value = value * 10 + (text_[pos_++] - '0');
    const std::size_t digits = pos_ - start;
    if (digits == 0 || (digits > 1 && text_[start] == '0')) return false;
    if (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') return false;
    out = negative ? -value : value;
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

void for_each_packed_action(std::string_view packed_actions, const std::function<void(const PackedAction&)>& visit) {
  thread_local std::vector<PackedAction> actions;  // read whole before any visit: a fallback visits afresh
  actions.clear();
  if (PackedActionsReader(packed_actions).read(actions)) {
    for (const auto& a : actions) visit(a);
    return;
  }
  const auto parsed = nlohmann::json::parse(packed_actions);
  for (const auto& a : parsed) {
    const auto& policy = a.at(0).get_ref<const std::string&>();
    const auto& action = a.at(1).get_ref<const std::string&>();
    const auto& amount = a.at(2);
    visit({policy, action, amount.is_number_integer() ? std::optional(amount.get<std::int64_t>()) : std::nullopt});
  }
}

void LedgerCounts::add(const runtime::DeliveredEvent& d, std::int64_t now_ms) {
  ++deliveries;
  const std::int64_t latency_ms = now_ms - d.received_at_ms;
  latency_sum_ms += latency_ms;
  ++latency[delivery_latency_bucket(latency_ms)];
  for (const auto& a : d.actions) ++actions.at(static_cast<std::size_t>(a.action));
}

void LedgerCounts::for_each(const std::function<void(const std::string&, std::int64_t)>& f) const {
  const auto add = [&](const std::string& counter, std::int64_t n) {
    if (n != 0) f(counter, n);
  };
  add(tally::kDeliveries, deliveries);
  add(tally::kFailures, failures);
  add(tally::kLatencySumMs, latency_sum_ms);
  for (std::size_t i = 0; i < latency.size(); ++i) add(tally::latency_bucket(i), latency[i]);
  for (std::size_t i = 0; i < actions.size(); ++i)
    add(tally::kActionPrefix + std::string(hub::sdk::to_string(static_cast<hub::sdk::ActionKind>(i))), actions[i]);
}

std::string encode_actions(const std::vector<hub::sdk::PolicyAction>& actions,
                           const std::function<std::int64_t(const std::string&)>& reason_id) {
  std::string out = "[";
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto& a = actions[i];
    if (i > 0) out += ',';
    out += '[';
    append_json_string(out, a.policy_id);
    out += ",\"";
    out += hub::sdk::to_string(a.action);
    out += "\",";
    out += a.amount_fen ? std::to_string(*a.amount_fen) : "null";
    out += ',';
    out += std::to_string(reason_id(a.reason));
    out += ']';
  }
  out += ']';
  return out;
}

audit::AuditEntry delivery_record(const std::string& department, const std::string& plugin_version,
                                  const runtime::DeliveredEvent& d, const std::string& packed_actions) {
  // The chain record (docs/security.md): what a verifier reads back from the stored row.
  audit::RowDetail detail;
  detail.text(d.household_id).text(d.event_id).text(plugin_version).text(packed_actions).text(d.handoff).text(
      d.handoff_detail);
  for (const auto& a : d.actions) detail.text(a.reason);
  audit::AuditEntry entry;
  entry.kind = kPolicyAction;
  entry.actor = department;
  entry.subject = department + ":" + std::to_string(d.seq);
  entry.detail = detail.take();
  return entry;
}

void append_reasons(audit::RowDetail& detail, const std::string& packed_actions, const ReasonTexts& reasons) {
  try {
    const auto parsed = nlohmann::json::parse(packed_actions);
    if (!parsed.is_array()) return;
    for (const auto& a : parsed) {
      if (!a.is_array() || a.size() < 4 || !a[3].is_number_integer()) {
        detail.null();
        continue;
      }
      const auto it = reasons.find(a[3].get<std::int64_t>());
      if (it == reasons.end())
        detail.null();
      else
        detail.text(it->second);
    }
  } catch (const nlohmann::json::exception&) {
  }
}

void name_delivery_outside_chain(audit::VerifyResult& result, const std::string& subject) {
  result.ok = false;
  result.first_bad_seq = 0;
  result.first_bad_subject = subject;
  result.problem = "inserted";
  result.head_hash_hex.clear();
  result.message = "台账链：记录 " + subject + " 不在链中（是插入的） / ledger chain: the delivery " + subject +
                   " is not in the chain: it was inserted";
}

nlohmann::json parked_json(const ParkedListing& p) {
  using nlohmann::json;
  return json{{"department", p.department},
              {"seq", p.seq},
              {"household_id", p.household_id},
              {"event_id", p.event_id},
              {"reason", p.reason},
              {"attempts", p.attempts},
              {"parked_at_ms", p.parked_at_ms},
              {"behind_seq", p.behind_seq},
              {"state", p.state},
              {"resolved_by", p.resolved_by ? json(*p.resolved_by) : json(nullptr)},
              {"resolved_at_ms", p.resolved_at_ms ? json(*p.resolved_at_ms) : json(nullptr)},
              {"effective_on", p.effective_on ? json(*p.effective_on) : json(nullptr)}};
}

nlohmann::json parked_history_json(const std::string& action, const std::string& by, std::int64_t at_ms,
                                   const std::string& outcome) {
  return {{"action", action}, {"by", by}, {"at_ms", at_ms}, {"outcome", outcome}};
}

}  // namespace hub::store
