// DX-RT's exceptions, with its error codes: `code()` is a plain enum, so
// `e.code() == 257` and `std::to_string(e.code())` work as with DX-RT.
// Unlike DX-RT's, they also derive from std::exception.
#pragma once

#include <exception>
#include <string>

#include "dxrt/common.h"

namespace dxrt {

enum ERROR_CODE {
  DEFAULT = 0x0100,
  FILE_NOT_FOUND,
  NULL_POINTER,
  FILE_IO,
  INVALID_ARGUMENT,
  INVALID_OPERATION,
  INVALID_MODEL,
  MODEL_PARSING,
  SERVICE_IO,
  DEVICE_IO
};

#define EXCEPTION_MESSAGE(msg)                                                 \
  ("\"" + std::string(msg) + "\":" + std::string(__FILE__) + ":"               \
   + std::to_string(__LINE__) + ":" + __func__)

class DXRT_API Exception : public std::exception {
  std::string _message;
  ERROR_CODE _errorCode = ERROR_CODE::DEFAULT;

protected:
  Exception() {}

public:
  Exception(const std::string& msg, ERROR_CODE code);
  const char* what() const noexcept override {
    return _message.c_str();
  }
  ERROR_CODE code() const noexcept {
    return _errorCode;
  }
  void setMessage(const std::string& msg);
  void setCode(ERROR_CODE code);
  /// Prints the message and code to stderr (no stack is recorded).
  void printTrace();
};

#define DXRT_EXCEPTION_TYPE(Name)                                              \
  class DXRT_API Name : public Exception {                                     \
  public:                                                                      \
    Name(const std::string& msg = "");                                         \
  };

DXRT_EXCEPTION_TYPE(FileNotFoundException)
DXRT_EXCEPTION_TYPE(NullPointerException)
DXRT_EXCEPTION_TYPE(FileIOException)
DXRT_EXCEPTION_TYPE(InvalidArgumentException)
DXRT_EXCEPTION_TYPE(InvalidOperationException)
DXRT_EXCEPTION_TYPE(InvalidModelException)
DXRT_EXCEPTION_TYPE(ModelParsingException)
DXRT_EXCEPTION_TYPE(ServiceIOException)
DXRT_EXCEPTION_TYPE(DeviceIOException)

#undef DXRT_EXCEPTION_TYPE

} // namespace dxrt
