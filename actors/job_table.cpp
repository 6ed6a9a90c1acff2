#include "actors/job_table.hpp"

#include <string>

#include "actors/spin.hpp"
#include "core/host_memory.hpp"

namespace actorrt {

size_t quarter_of_host_memory() {
  // Read once: every engine's default retention asks.
  static const size_t quarter = [] {
    auto total = read_host_memory().total;
    return total > 0 ? size_t(total / 4) : size_t(1) << 30;
  }();
  return quarter;
}

job_id job_table::open(std::shared_ptr<job_control> control) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto id = ++last_id_;
  entries_.try_emplace(id).first->second.control = std::move(control);
  if (++open_ > peak_open_)
    peak_open_ = open_;
  return id;
}

void job_table::ended_one(std::unique_lock<std::mutex>& guard) {
  if (--open_ != 0)
    return;
  guard.unlock();
  idle_.notify_all();
}

void job_table::erase_done(entry_map::iterator i) {
  if (i->second.in)
    i->second.in->bytes -= i->second.kept_bytes;
  entries_.erase(i);
  --held_;
}

void job_table::forget(job_id id) {
  std::unique_lock<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end() || i->second.st != state::open)
    return;
  entries_.erase(i);
  ended_one(guard);
}

void job_table::abandon(job_id id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    return;
  if (i->second.st != state::done) {
    i->second.abandoned = true;
    return;
  }
  erase_done(i);
}

bool job_table::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> guard{mtx_};
  return idle_.wait_for(guard, timeout, [this] { return open_ == 0; });
}

int job_table::open_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return open_;
}

int job_table::peak_open() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return peak_open_;
}

void job_table::publish(job_id id, outcome result, kept how) {
  std::unique_lock<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end() || i->second.st != state::open)
    return;
  auto& e = i->second;
  if (e.abandoned) {
    entries_.erase(i);
    ended_one(guard);
    return;
  }
  e.result = std::move(result);
  e.control = nullptr;
  e.st = state::done;
  e.finished.store(true, std::memory_order_release);
  ++held_;
  if (e.waited) {
    e.cv.notify_one();
    ended_one(guard);
    return;
  }
  if (how == kept::until_waited) {
    ended_one(guard);
    return;
  }
  auto& w = how == kept::beside_callback ? beside_callback_ : without_callback_;
  e.in = &w;
  w.ids.push_back(id);
  e.kept_bytes = total_bytes(e.result.outputs);
  w.bytes += e.kept_bytes;
  // By count, and by bytes: 4096 outputs of 5 MB each would be 20 GB.
  while (w.ids.size() > w.most_results
         || (w.bytes > w.most_bytes && w.ids.size() > 1)) {
    auto old = entries_.find(w.ids.front());
    w.ids.pop_front();
    if (old != entries_.end() && old->second.st == state::done
        && !old->second.waited)
      erase_done(old);
  }
  ended_one(guard);
}

job_table::outcome
job_table::wait(job_id id, std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end()) {
    if (id == 0 || id > last_id_)
      throw InvalidArgument("job id " + std::to_string(id)
                            + " was never issued by this engine");
    auto newest = [](const window& w) {
      auto bytes = w.most_bytes % (1 << 20)
                     ? std::to_string(w.most_bytes) + " bytes"
                     : std::to_string(w.most_bytes >> 20) + " MiB";
      return std::to_string(w.most_results) + " and " + bytes;
    };
    throw InvalidArgument(
      "job " + std::to_string(id)
      + " has no result any more: it was already waited for, or released: "
        "results nobody waits for yet are kept for Wait only among the "
        "newest "
      + newest(beside_callback_)
      + " of them while a callback is registered, and the newest "
      + newest(without_callback_) + " without one");
  }
  auto& e = i->second;
  if (e.waited)
    throw InvalidOperation("job " + std::to_string(id)
                           + " is already being waited for by another thread");
  e.waited = true;
  auto done = [&e] { return e.st == state::done; };
  if (!done()) {
    // Nobody erases an entry that is waited for, so it outlives the unlock.
    guard.unlock();
    poll([&e] { return e.finished.load(std::memory_order_acquire); });
    guard.lock();
  }
  if (!timeout) {
    e.cv.wait(guard, done);
  } else if (!e.cv.wait_for(guard, *timeout, done)) {
    e.waited = false;
    throw Timeout("job " + std::to_string(id) + " did not finish within "
                  + std::to_string(timeout->count()) + " ms");
  }
  auto result = std::move(e.result);
  erase_done(i);
  return result;
}

std::shared_ptr<job_control> job_table::control_of(job_id id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (id == 0 || id > last_id_)
    throw InvalidArgument("job id " + std::to_string(id)
                          + " was never issued by this engine");
  if (i == entries_.end() || i->second.st != state::open)
    throw InvalidArgument("job " + std::to_string(id) + " has ended already");
  return i->second.control;
}

std::vector<std::pair<job_id, std::shared_ptr<job_control>>>
job_table::open_controls() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::pair<job_id, std::shared_ptr<job_control>>> result;
  for (auto& [id, e] : entries_)
    if (e.st == state::open && e.control)
      result.emplace_back(id, e.control);
  return result;
}

size_t job_table::held() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return held_;
}

} // namespace actorrt
