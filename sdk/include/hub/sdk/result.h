// HandleResult: what a plugin hook answers, as a value. No exception ever crosses the plugin
// boundary; the SDK's generated entry points catch anything a plugin throws and turn it into
// HandleResult::error (see plugin.h).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace hub::sdk {

class HandleResult {
 public:
  enum class Code : std::uint8_t {
    kOk = 0,     // done; the actions appended are the department's decision for the event
    kRetry = 1,  // a transient problem (the department's system is down): deliver again later
    kError = 2,  // the plugin could not handle the event; counted as a failure, retried later
  };

  static HandleResult ok() { return HandleResult(Code::kOk, {}); }
  static HandleResult retry(std::string message) { return HandleResult(Code::kRetry, std::move(message)); }
  static HandleResult error(std::string message) { return HandleResult(Code::kError, std::move(message)); }

  bool is_ok() const noexcept { return code_ == Code::kOk; }
  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

 private:
  HandleResult(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_;
  std::string message_;
};

}  // namespace hub::sdk
