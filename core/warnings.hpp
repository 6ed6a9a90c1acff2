// ActorRT's one-time warnings: said once where they arise, shown where the
// program wants them (stderr by default; the Python binding raises them as
// Python warnings).
#pragma once

#include <functional>
#include <string>

namespace actorrt {

/// Shows `text` through the handler (stderr when none is set).
void warn(const std::string& text);

/// Shows `text` the first time it is given in this process.
void warn_once(const std::string& text);

void set_warning_handler(std::function<void(const std::string&)> fn);

} // namespace actorrt
