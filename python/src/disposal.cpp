#include "disposal.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <unistd.h>

namespace actorrt::python {

namespace {

/// One thread that disposes engines in turn. Never destroyed (it may be
/// busy while the process exits); a forked child makes its own.
struct disposer {
  std::mutex mtx;
  std::condition_variable cv;
  std::deque<std::unique_ptr<InferenceEngine>> queue;
  size_t busy = 0; // queued or being disposed

  disposer() {
    std::thread([this] { serve(); }).detach();
  }

  void serve() {
    std::unique_lock<std::mutex> guard{mtx};
    for (;;) {
      cv.wait(guard, [this] { return !queue.empty(); });
      auto ie = std::move(queue.front());
      queue.pop_front();
      guard.unlock();
      ie.reset(); // disposes, bounded by its dispose timeout
      guard.lock();
      --busy;
      cv.notify_all();
    }
  }
};

disposer& current() {
  static std::mutex mtx;
  static disposer* instance = nullptr;
  static pid_t owner = 0;
  std::lock_guard<std::mutex> guard{mtx};
  if (!instance || owner != ::getpid()) {
    instance = new disposer; // the parent's thread did not survive a fork
    owner = ::getpid();
  }
  return *instance;
}

} // namespace

void dispose_later(std::unique_ptr<InferenceEngine> ie) {
  auto& d = current();
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    d.queue.push_back(std::move(ie));
    ++d.busy;
  }
  d.cv.notify_all();
}

void finish_disposals(std::chrono::milliseconds timeout) {
  auto& d = current();
  std::unique_lock<std::mutex> guard{d.mtx};
  d.cv.wait_for(guard, timeout, [&d] { return d.busy == 0; });
}

} // namespace actorrt::python
