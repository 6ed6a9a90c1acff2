// ActorRT's errors become DX-RT's exceptions at this one boundary.
#pragma once

#include <utility>

#include "core/errors.hpp"
#include "dxrt/exception/exception.h"

namespace dxrt {

/// Throws the DX-RT exception that matches `e`'s code.
[[noreturn]] void rethrow(const actorrt::Error& e);

/// Runs `f`, turning an ActorRT error into its DX-RT exception.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return std::forward<F>(f)();
  } catch (const actorrt::Error& e) {
    rethrow(e);
  }
}

} // namespace dxrt
