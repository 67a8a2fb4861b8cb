// parse_request(): one ingest frame read straight into an IngestRequest, with no DOM.
//
// nlohmann's SAX parser (the same lexer as json::parse, so the same JSON is accepted: UTF-8
// checked inside strings, numbers out of range refused, nothing after the value) calls
// RequestReader for every token. The reader keeps only what the rules look at: the fields of
// the request object and of the batch item being read (EventFields), and skips the contents of
// any other value. Each item is validated by validate_event_fields() (wire_event.cpp) when its
// object closes; the request-level rules are applied once the whole text has parsed, in the
// order the DOM version applied them, so a text that is not JSON is reported as such even when
// an item before the syntax error was bad.
//
// A key sent twice: the last value counts, as in nlohmann's DOM. Where the rules report the
// first unknown key, "first" is byte order of the key, as in the DOM's sorted objects.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "domain/event_fields.h"
#include "domain/wire_event.h"

namespace hub {
namespace {

using nlohmann::json;
using wire::EventFields;
using wire::EventKey;
using wire::FieldValue;
using wire::ValueKind;

FieldError error(std::string code, std::string field, std::string message) {
  return FieldError{std::move(code), std::move(message), std::move(field)};
}

// The SAX handler (nlohmann's SAX concept; called by json::sax_parse on this thread only).
class RequestReader {
 public:
  explicit RequestReader(std::size_t max_batch_events) : max_batch_events_(max_batch_events) {}

  bool null() { return scalar(ValueKind::kNull); }
  bool boolean(bool value) {
    if (where_ == Where::kTop && skip_ == 0 && slot_ == Slot::kDryRun) dry_run_ = value;
    return scalar(ValueKind::kBoolean);
  }
  bool number_integer(json::number_integer_t value) { return scalar(ValueKind::kInteger, nullptr, value); }
  bool number_unsigned(json::number_unsigned_t value) {
    return scalar(ValueKind::kInteger, nullptr, static_cast<std::int64_t>(value));
  }
  bool number_float(json::number_float_t, const json::string_t&) { return scalar(ValueKind::kOtherNumber); }
  bool string(json::string_t& value) { return scalar(ValueKind::kString, &value); }
  bool binary(json::binary_t&) { return scalar(ValueKind::kOtherNumber); }  // never from JSON text

  bool start_object(std::size_t) { return start(ValueKind::kObject); }
  bool start_array(std::size_t) { return start(ValueKind::kArray); }
  bool end_object() { return end(); }
  bool end_array() { return end(); }

  bool key(json::string_t& name) {
    if (skip_ > 0) return true;
    const auto k = wire::event_key(name);
    if (where_ == Where::kTop) {
      if (k) {
        slot_ = Slot::kEventKey;
        key_ = *k;
        return true;
      }
      top_.note_other_key(name);  // as a single event, "events" and "dry_run" are unknown too
      if (name == "events") {
        slot_ = Slot::kEvents;
      } else if (name == "dry_run") {
        slot_ = Slot::kDryRun;
      } else {
        slot_ = Slot::kOther;
        if (!batch_other_key_ || name < *batch_other_key_) batch_other_key_ = name;
      }
    } else if (where_ == Where::kItem) {
      if (k) {
        slot_ = Slot::kEventKey;
        key_ = *k;
      } else {
        slot_ = Slot::kOther;
        item_.note_other_key(name);
      }
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  // The request, once json::sax_parse() has returned `parsed`.
  Result<IngestRequest> finish(bool parsed);

 private:
  // Where the next token is: before the request, in the request object, in its "designations"
  // array, in its "events" array, in a batch item, in an item's "designations", after the request.
  enum class Where : std::uint8_t { kStart, kTop, kTopDesignations, kEvents, kItem, kItemDesignations, kEnd };
  // What the last key of the request or item names.
  enum class Slot : std::uint8_t { kEventKey, kEvents, kDryRun, kOther };

  EventFields& fields() { return where_ == Where::kTop || where_ == Where::kTopDesignations ? top_ : item_; }

  bool scalar(ValueKind kind, json::string_t* text = nullptr, std::int64_t integer = 0) {
    if (skip_ > 0) return true;
    switch (where_) {
      case Where::kStart:
        where_ = Where::kEnd;  // a request that is not an object
        break;
      case Where::kTop:
      case Where::kItem:
        if (slot_ == Slot::kEventKey) {
          set(fields()[key_], kind, text, integer);
        } else if (where_ == Where::kTop && slot_ == Slot::kEvents) {
          start_events(kind);
        } else if (where_ == Where::kTop && slot_ == Slot::kDryRun) {
          dry_run_kind_ = kind;
        }
        break;
      case Where::kTopDesignations:
      case Where::kItemDesignations:
        set(fields().designation_items.emplace_back(), kind, text, integer);
        break;
      case Where::kEvents:
        item_done(wire::not_an_object_error());
        break;
      case Where::kEnd:
        break;
    }
    return true;
  }

  bool start(ValueKind kind) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    switch (where_) {
      case Where::kStart:
        if (kind == ValueKind::kObject) {
          where_ = Where::kTop;
          top_is_object_ = true;
        } else {
          where_ = Where::kEnd;
          skip_ = 1;
        }
        break;
      case Where::kTop:
      case Where::kItem:
        if (slot_ == Slot::kEventKey) {
          EventFields& f = fields();
          set(f[key_], kind, nullptr, 0);
          if (key_ == EventKey::kDesignations && kind == ValueKind::kArray) {
            f.designation_items.clear();
            where_ = where_ == Where::kTop ? Where::kTopDesignations : Where::kItemDesignations;
            break;
          }
        } else if (where_ == Where::kTop && slot_ == Slot::kEvents) {
          start_events(kind);
          if (kind == ValueKind::kArray) {
            where_ = Where::kEvents;
            break;
          }
        } else if (where_ == Where::kTop && slot_ == Slot::kDryRun) {
          dry_run_kind_ = kind;
        }
        skip_ = 1;
        break;
      case Where::kTopDesignations:
      case Where::kItemDesignations:
        set(fields().designation_items.emplace_back(), kind, nullptr, 0);
        skip_ = 1;
        break;
      case Where::kEvents:
        if (kind == ValueKind::kObject) {
          item_.clear();
          where_ = Where::kItem;
        } else {
          item_done(wire::not_an_object_error());
          skip_ = 1;
        }
        break;
      case Where::kEnd:
        skip_ = 1;
        break;
    }
    return true;
  }

  bool end() {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    switch (where_) {
      case Where::kTop: where_ = Where::kEnd; break;
      case Where::kTopDesignations: where_ = Where::kTop; break;
      case Where::kEvents: where_ = Where::kTop; break;
      case Where::kItem:
        where_ = Where::kEvents;
        if (events_count_ < max_batch_events_) {
          item_done(wire::validate_event_fields(item_));
        } else {
          ++events_count_;  // the batch is too large: count the rest, validate nothing more
        }
        break;
      case Where::kItemDesignations: where_ = Where::kItem; break;
      case Where::kStart:
      case Where::kEnd: break;
    }
    return true;
  }

  static void set(FieldValue& v, ValueKind kind, json::string_t* text, std::int64_t integer) {
    v.kind = kind;
    if (text != nullptr) {
      v.text = std::move(*text);
    } else {
      v.text.clear();
    }
    v.integer = integer;
  }

  // A value for the request's "events" key: the last one counts.
  void start_events(ValueKind kind) {
    events_kind_ = kind;
    events_count_ = 0;
    batch_ = IngestRequest{};
  }

  void item_done(Result<WireEvent> item) {
    const std::size_t index = events_count_++;
    if (index >= max_batch_events_) return;
    if (auto* e = item.error()) {
      batch_.item_errors.emplace(index, std::move(*e));
    } else {
      batch_.events.push_back(std::move(item).value());
      batch_.original_index.push_back(index);
    }
  }

  const std::size_t max_batch_events_;
  Where where_ = Where::kStart;
  std::size_t skip_ = 0;  // depth inside a value whose contents no rule looks at
  Slot slot_ = Slot::kOther;
  EventKey key_ = EventKey::kType;
  bool top_is_object_ = false;
  EventFields top_;   // the request object, read as a single event
  EventFields item_;  // the batch item being read
  // The request object read as a batch.
  std::optional<std::string> batch_other_key_;  // smallest key other than type, events, dry_run and the EventKeys
  ValueKind events_kind_ = ValueKind::kAbsent;
  std::size_t events_count_ = 0;
  ValueKind dry_run_kind_ = ValueKind::kAbsent;
  bool dry_run_ = false;
  IngestRequest batch_;  // the items read so far (up to max_batch_events_)
};

Result<IngestRequest> RequestReader::finish(bool parsed) {
  if (!parsed) return error("invalid_json", "", "the message is not valid JSON (one UTF-8 JSON object per frame)");
  if (!top_is_object_) return error("invalid_request", "", "the message must be a JSON object");

  const FieldValue& type = top_[EventKey::kType];
  if (type.kind != ValueKind::kString || type.text != "batch") {
    auto parsed_event = wire::validate_event_fields(top_);
    if (auto* e = parsed_event.error()) return std::move(*e);
    IngestRequest request;
    request.events.push_back(std::move(parsed_event).value());
    request.original_index.push_back(0);
    return request;
  }
  // The first key in byte order that a batch does not have: an EventKey other than "type", or
  // one of the others.
  std::optional<std::string> unknown = batch_other_key_;
  for (std::size_t i = 0; i < wire::kEventKeyCount; ++i) {
    const auto key = static_cast<EventKey>(i);
    if (key == EventKey::kType || top_[key].kind == ValueKind::kAbsent) continue;
    const std::string_view name = wire::key_name(key);
    if (!unknown || name < *unknown) unknown = std::string(name);
  }
  if (unknown)
    return error("unknown_field", *unknown, "field '" + wire::utf8_prefix(*unknown, 40) + "' is not part of a batch");
  if (events_kind_ != ValueKind::kArray)
    return error("missing_field", "events", "a batch needs \"events\": an array of events");
  if (events_count_ == 0) return error("empty_batch", "events", "the batch has no events");
  if (events_count_ > max_batch_events_)
    return error("batch_too_large", "events", "the batch has " + std::to_string(events_count_) +
                                                  " events; the limit is " + std::to_string(max_batch_events_));
  if (dry_run_kind_ != ValueKind::kAbsent && dry_run_kind_ != ValueKind::kBoolean)
    return error("invalid_field", "dry_run", "field 'dry_run' must be true or false");
  batch_.is_batch = true;
  batch_.dry_run = dry_run_kind_ == ValueKind::kBoolean && dry_run_;
  return std::move(batch_);
}

}  // namespace

Result<IngestRequest> parse_request(std::string_view body_text, const RequestLimits& limits) {
  if (body_text.size() > limits.max_message_bytes)
    return error("too_large", "", "message of " + std::to_string(body_text.size()) + " bytes exceeds the limit of " +
                                      std::to_string(limits.max_message_bytes) + " bytes");
  RequestReader reader(limits.max_batch_events);
  const bool parsed = json::sax_parse(body_text.data(), body_text.data() + body_text.size(), &reader);
  return reader.finish(parsed);
}

}  // namespace hub
