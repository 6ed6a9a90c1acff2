// Error codes and the exception hierarchy. Failures travel between actors as
// an `errc` plus a message; they become exceptions once, at the facade.
#pragma once

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>

namespace actorrt {

enum class errc : uint8_t {
  none = 0,
  file_not_found,    // a model path that does not exist
  invalid_model,     // not ONNX, corrupt, fails the checker, unsupported op
  invalid_argument,  // wrong sizes, shapes, dtypes, unknown ids
  invalid_operation, // a call that the engine's state does not allow
  device_io,         // an executor failed or an NPU core went away
  timeout,           // a bounded wait ran out
  cancelled,         // the job was dropped during shutdown
};

const char* to_string(errc code);

/// Base of every ActorRT exception; `code()` names the kind.
class Error : public std::runtime_error {
public:
  Error(errc code, const std::string& message)
    : std::runtime_error(message), code_(code) {}
  errc code() const noexcept {
    return code_;
  }

private:
  errc code_;
};

#define ACTORRT_ERROR_TYPE(Name, code)                                         \
  class Name : public Error {                                                  \
  public:                                                                      \
    explicit Name(const std::string& message) : Error(code, message) {}        \
  };

ACTORRT_ERROR_TYPE(FileNotFound, errc::file_not_found)
ACTORRT_ERROR_TYPE(InvalidModel, errc::invalid_model)
ACTORRT_ERROR_TYPE(InvalidArgument, errc::invalid_argument)
ACTORRT_ERROR_TYPE(InvalidOperation, errc::invalid_operation)
ACTORRT_ERROR_TYPE(DeviceIO, errc::device_io)
ACTORRT_ERROR_TYPE(Timeout, errc::timeout)
ACTORRT_ERROR_TYPE(Cancelled, errc::cancelled)

#undef ACTORRT_ERROR_TYPE

/// Throws the exception type that belongs to `code`.
[[noreturn]] void throw_error(errc code, const std::string& message);

/// The same exception as an exception_ptr, for promises and callbacks.
std::exception_ptr make_exception(errc code, const std::string& message);

/// A failure that travels inside messages: plain data, cheap to copy.
struct failure {
  errc code = errc::none;
  std::string message;

  explicit operator bool() const noexcept {
    return code != errc::none;
  }
  /// Captures the exception in flight (call inside a catch block).
  static failure from_current_exception();
};

} // namespace actorrt
