#include "core/warnings.hpp"

#include <iostream>
#include <mutex>
#include <set>

namespace actorrt {

namespace {

std::mutex mtx;
std::function<void(const std::string&)> handler;
std::set<std::string> said;

} // namespace

void warn(const std::string& text) {
  std::function<void(const std::string&)> show;
  {
    std::lock_guard<std::mutex> guard{mtx};
    show = handler;
  }
  if (show)
    show(text);
  else
    std::cerr << "actorrt: " << text << "\n";
}

void warn_once(const std::string& text) {
  {
    std::lock_guard<std::mutex> guard{mtx};
    if (!said.insert(text).second)
      return;
  }
  warn(text);
}

void set_warning_handler(std::function<void(const std::string&)> fn) {
  std::lock_guard<std::mutex> guard{mtx};
  handler = std::move(fn);
}

} // namespace actorrt
