#include <iostream>

#include "dxrt/guard.hpp"

namespace dxrt {

Exception::Exception(const std::string& msg, ERROR_CODE code)
  : _message(msg), _errorCode(code) {}

void Exception::setMessage(const std::string& msg) {
  _message = msg;
}

void Exception::setCode(ERROR_CODE code) {
  _errorCode = code;
}

void Exception::printTrace() {
  std::cerr << "dxrt::Exception (code " << _errorCode << "): " << _message
            << "\n";
}

#define DXRT_EXCEPTION_CTOR(Name, code)                                        \
  Name::Name(const std::string& msg) : Exception(msg, code) {}

DXRT_EXCEPTION_CTOR(FileNotFoundException, FILE_NOT_FOUND)
DXRT_EXCEPTION_CTOR(NullPointerException, NULL_POINTER)
DXRT_EXCEPTION_CTOR(FileIOException, FILE_IO)
DXRT_EXCEPTION_CTOR(InvalidArgumentException, INVALID_ARGUMENT)
DXRT_EXCEPTION_CTOR(InvalidOperationException, INVALID_OPERATION)
DXRT_EXCEPTION_CTOR(InvalidModelException, INVALID_MODEL)
DXRT_EXCEPTION_CTOR(ModelParsingException, MODEL_PARSING)
DXRT_EXCEPTION_CTOR(ServiceIOException, SERVICE_IO)
DXRT_EXCEPTION_CTOR(DeviceIOException, DEVICE_IO)

void rethrow(const actorrt::Error& e) {
  using actorrt::errc;
  switch (e.code()) {
    case errc::file_not_found:
      throw FileNotFoundException(e.what());
    case errc::invalid_model:
      throw InvalidModelException(e.what());
    case errc::invalid_argument:
      throw InvalidArgumentException(e.what());
    case errc::invalid_operation:
    case errc::cancelled:
      throw InvalidOperationException(e.what());
    case errc::device_io:
      throw DeviceIOException(e.what());
    default: // timeouts: DX-RT has no bounded waits
      throw Exception(e.what(), DEFAULT);
  }
}

} // namespace dxrt
