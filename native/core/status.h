// Status values returned by core and kernel code. Only native/binding turns
// them into JavaScript errors, so nothing below it depends on Node.
#pragma once

#include <string>
#include <utility>

namespace claq {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // a value has the wrong shape, type or range
  kNotPositiveDefinite, // Cholesky failed even with the largest damping
  kAborted,             // the caller's abort flag was set
  kOutOfMemory,         // an allocation failed
  kInternal,            // a broken invariant: a bug in claq
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
  static Status NotPositiveDefinite(std::string m) { return Status(StatusCode::kNotPositiveDefinite, std::move(m)); }
  static Status Aborted(std::string m) { return Status(StatusCode::kAborted, std::move(m)); }
  static Status OutOfMemory(std::string m) { return Status(StatusCode::kOutOfMemory, std::move(m)); }
  static Status Internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Stable names that the binding puts on JS errors as `code`.
inline const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "ERR_CLAQ_INVALID_ARGUMENT";
    case StatusCode::kNotPositiveDefinite: return "ERR_CLAQ_NOT_POSITIVE_DEFINITE";
    case StatusCode::kAborted: return "ABORT_ERR";
    case StatusCode::kOutOfMemory: return "ERR_CLAQ_OUT_OF_MEMORY";
    case StatusCode::kInternal: return "ERR_CLAQ_INTERNAL";
  }
  return "ERR_CLAQ_INTERNAL";
}

}  // namespace claq
