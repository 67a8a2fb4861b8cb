#include "livefeed/topic_interest.h"

namespace hub::livefeed {

bool TopicInterest::apply(std::string_view xpub_message) {
  if (xpub_message.empty()) return false;
  const std::string_view prefix = xpub_message.substr(1);
  switch (xpub_message.front()) {
    case 1: return prefixes_.emplace(prefix).second;
    case 0: {
      const auto it = prefixes_.find(prefix);
      if (it == prefixes_.end()) return false;
      prefixes_.erase(it);
      return true;
    }
    default: return false;
  }
}

bool TopicInterest::wants(std::string_view topic) const {
  for (const std::string& p : prefixes_)
    if (topic.starts_with(p)) return true;
  return false;
}

bool TopicInterest::may_want(std::string_view family) const {
  for (const std::string& p : prefixes_)
    if (family.starts_with(p) || std::string_view(p).starts_with(family)) return true;
  return false;
}

}  // namespace hub::livefeed
