#include "core/errors.hpp"

namespace actorrt {

const char* to_string(errc code) {
  switch (code) {
    case errc::none:
      return "none";
    case errc::file_not_found:
      return "file_not_found";
    case errc::invalid_model:
      return "invalid_model";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::invalid_operation:
      return "invalid_operation";
    case errc::device_io:
      return "device_io";
    case errc::timeout:
      return "timeout";
    case errc::cancelled:
      return "cancelled";
  }
  return "unknown";
}

void throw_error(errc code, const std::string& message) {
  switch (code) {
    case errc::file_not_found:
      throw FileNotFound(message);
    case errc::invalid_model:
      throw InvalidModel(message);
    case errc::invalid_argument:
      throw InvalidArgument(message);
    case errc::invalid_operation:
      throw InvalidOperation(message);
    case errc::timeout:
      throw Timeout(message);
    case errc::cancelled:
      throw Cancelled(message);
    case errc::device_io:
    case errc::none:
      break;
  }
  throw DeviceIO(message);
}

std::exception_ptr make_exception(errc code, const std::string& message) {
  try {
    throw_error(code, message);
  } catch (...) {
    return std::current_exception();
  }
}

failure failure::from_current_exception() {
  try {
    throw;
  } catch (const Error& e) {
    return {e.code(), e.what()};
  } catch (const std::exception& e) {
    return {errc::device_io, e.what()};
  } catch (...) {
    return {errc::device_io, "unknown exception"};
  }
}

} // namespace actorrt
