// Checks for the tools' numeric flags that say what is wrong in words:
// CLI11's PositiveNumber reports "not in range 0.000000 to" DBL_MAX's 309
// digits.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace actorrt::tools {

namespace detail {

inline CLI::Validator number_above(double least, bool inclusive,
                                   const std::string& words) {
  return CLI::Validator(
    [=](std::string& text) -> std::string {
      double value = 0;
      if (!CLI::detail::lexical_cast(text, value))
        return "'" + text + "' is not a number";
      bool ok = inclusive ? value >= least : value > least;
      return ok ? "" : "must be " + words + ", got " + text;
    },
    inclusive ? "NONNEGATIVE" : "POSITIVE");
}

} // namespace detail

inline const CLI::Validator positive
  = detail::number_above(0, false, "greater than 0");
inline const CLI::Validator non_negative
  = detail::number_above(0, true, "0 or more");

} // namespace actorrt::tools
