#include "actors/delivery.hpp"

#include <iostream>

namespace actorrt {

void delivery::set_callback(callback fn) {
  auto ptr = fn ? std::make_shared<const callback>(std::move(fn)) : nullptr;
  std::lock_guard<std::mutex> guard{mtx_};
  callback_ = std::move(ptr);
}

bool delivery::has_callback() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return callback_ != nullptr;
}

void delivery::set_error_handler(error_handler fn) {
  std::lock_guard<std::mutex> guard{mtx_};
  on_error_ = std::move(fn);
}

void delivery::deliver(job& j) {
  auto arg = table.claim(j.id);
  if (!arg)
    return; // cancelled by shutdown: it has ended already
  j.times.delivered = now_ns();
  latency.record((j.times.delivered - j.times.submitted) / 1000);
  if (!j.error)
    npu_time.record((j.times.finished - j.times.started) / 1000);
  finish(j.id, *arg, {std::move(j.outputs), std::move(j.error)});
}

size_t delivery::cancel_open(const std::string& reason) {
  auto open = table.claim_all_open();
  for (auto& [id, arg] : open)
    finish(id, arg, {{}, {errc::cancelled, reason}});
  return open.size();
}

void delivery::finish(job_id id, job_table::user_arg& arg,
                      job_table::outcome result) {
  std::shared_ptr<const callback> cb;
  error_handler on_error;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    cb = callback_;
    on_error = on_error_;
  }
  if (cb && !arg.silent) {
    try {
      (*cb)(result.outputs, arg.ptr, result.error);
    } catch (const std::exception& e) {
      if (on_error)
        on_error(id, e.what());
      else
        std::cerr << "actorrt: callback for job " << id
                  << " threw: " << e.what() << "\n";
    } catch (...) {
      std::cerr << "actorrt: callback for job " << id << " threw\n";
    }
  }
  arg = {}; // the user argument lives until its callback has run
  table.publish(id, std::move(result), cb != nullptr);
  limiter.release();
}

} // namespace actorrt
