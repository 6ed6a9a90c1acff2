#include "actors/delivery.hpp"

#include <iostream>

namespace actorrt {

namespace {

thread_local bool delivering_here = false;

/// Marks the thread as delivering for the lifetime of the guard.
struct delivering_guard {
  bool outer = delivering_here;
  delivering_guard() {
    delivering_here = true;
  }
  ~delivering_guard() {
    delivering_here = outer;
  }
};

} // namespace

bool delivery::delivering() {
  return delivering_here;
}

void delivery::set_callback(callback fn, callback_scope scope) {
  std::shared_ptr<const callback_pair> ptr;
  if (fn)
    ptr = std::make_shared<const callback_pair>(
      callback_pair{std::move(fn), std::move(scope)});
  std::lock_guard<std::mutex> guard{mtx_};
  callback_ = std::move(ptr);
}

std::shared_ptr<const delivery::callback_pair> delivery::current() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return callback_;
}

void delivery::set_error_handler(error_handler fn) {
  std::lock_guard<std::mutex> guard{mtx_};
  on_error_ = std::move(fn);
}

void delivery::deliver(std::vector<finished_job>& batch) {
  delivering_guard guard;
  auto cb = current();
  auto run = [&] {
    for (auto& [id, r] : batch) {
      auto arg = table.claim(id);
      if (!arg)
        continue; // cancelled by shutdown: it has ended already
      latency.record((now_ns() - arg->submitted) / 1000);
      if (!r.error)
        npu_time.record((r.finished - r.started) / 1000);
      finish(cb.get(), id, *arg, {std::move(r.outputs), std::move(r.error)});
    }
  };
  in_scope(cb.get(), run);
}

size_t delivery::cancel_open(const std::string& reason) {
  auto cb = current();
  auto open = table.claim_all_open();
  auto run = [&] {
    for (auto& [id, arg] : open)
      finish(cb.get(), id, arg, {{}, {errc::cancelled, reason}});
  };
  in_scope(cb.get(), run);
  return open.size();
}

void delivery::in_scope(const callback_pair* cb,
                        const std::function<void()>& run) {
  if (cb && cb->scope)
    cb->scope(run);
  else
    run();
}

void delivery::finish(const callback_pair* cb, job_id id,
                      job_table::ticket& arg, job_table::outcome result) {
  if (!result.error && !arg.outputs.empty())
    result.outputs = copy_into(result.outputs, arg.outputs);
  if (cb && !arg.silent) {
    try {
      cb->fn(result.outputs, arg.ptr, result.error);
    } catch (const std::exception& e) {
      report(id, e.what());
    } catch (...) {
      report(id, "unknown exception");
    }
  }
  // Results nobody may wait for count against the retention window; a
  // synchronous Run's own result is always waited for.
  bool bounded = cb != nullptr && !arg.silent;
  arg = {}; // the user argument lives until its callback has run
  table.publish(id, std::move(result), bounded);
  limiter.release();
}

void delivery::report(job_id id, const std::string& what) {
  error_handler on_error;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    on_error = on_error_;
  }
  if (on_error)
    on_error(id, what);
  else
    std::cerr << "actorrt: callback for job " << id << " threw: " << what
              << "\n";
}

} // namespace actorrt
