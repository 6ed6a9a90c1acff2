// The running ActorRT processes of this user, as their status files say
// (observability/status_file.hpp): what dxrt-cli and dxtop show.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "observability/status_file.hpp"

namespace actorrt::tools {

inline std::vector<nlohmann::json> running_processes() {
  std::vector<nlohmann::json> result;
  auto dir = status_dir();
  if (dir.empty())
    return result;
  for (auto& text : read_status_files(dir)) {
    auto s = nlohmann::json::parse(text, nullptr, false);
    if (!s.is_discarded() && s.contains("cores"))
      result.push_back(std::move(s)); // else being replaced: next read has it
  }
  return result;
}

} // namespace actorrt::tools
