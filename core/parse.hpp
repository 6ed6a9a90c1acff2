// Whole numbers from text (environment variables, ports in addresses): the
// one place that decides what counts as one.
#pragma once

#include <optional>

namespace actorrt {

/// `text` as a decimal integer in lo..hi, with nothing before or after it;
/// none otherwise (empty, not a number, out of range).
std::optional<long> parse_integer(const char* text, long lo, long hi);

} // namespace actorrt
