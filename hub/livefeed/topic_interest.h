// Which topics of the live feed anyone is subscribed to, as the feed's XPUB socket reports it.
//
// libzmq's XPUB passes a subscription upstream once per prefix (the first subscriber's) and
// an unsubscription once, when the last subscriber of that prefix leaves or disconnects; each
// is one message, a byte 1 (subscribe) or 0 (unsubscribe) followed by the prefix. So the set of
// prefixes below is exactly what the connected subscribers want, and the feed builds a message
// only when some prefix matches its topic: a hub that nobody watches spends nothing on the feed.
//
// Plain value, used on the live feed's thread only.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace hub::livefeed {

class TopicInterest {
 public:
  // Applies one message read from the XPUB socket; true when the set of prefixes changed.
  // Anything that is not a subscription or unsubscription is ignored.
  bool apply(std::string_view xpub_message);

  // Some subscriber would receive a message with this topic.
  bool wants(std::string_view topic) const;
  // Some subscriber would receive a message whose topic starts with `family` (e.g.
  // "delivery/"): a prefix of the family, or a prefix inside it, is subscribed.
  bool may_want(std::string_view family) const;

  bool empty() const noexcept { return prefixes_.empty(); }

 private:
  std::set<std::string, std::less<>> prefixes_;
};

}  // namespace hub::livefeed
