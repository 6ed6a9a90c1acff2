#include "core/parse.hpp"

#include <cerrno>
#include <cstdlib>

namespace actorrt {

std::optional<long> parse_integer(const char* text, long lo, long hi) {
  if (text == nullptr || *text == '\0')
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (*end != '\0' || errno == ERANGE || value < lo || value > hi)
    return std::nullopt;
  return value;
}

} // namespace actorrt
