// The whole message vocabulary of ActorRT's actors, in data-flow order.
//
// clang-format off
//   facade ──submit──▶ scheduler_actor      (engine_actor owns the placement)
//   actor client ──infer──▶ engine_actor ──submit──▶ scheduler_actor
//   scheduler_actor ──run (request)──▶ npu_core_actor ──(ack)──▶ scheduler
//   npu_core_actor ──done──▶ result_actor (facade jobs) or engine_actor
//   scheduler_actor ──done──▶ the same, for jobs no core could finish
// clang-format on
//
// Results go from the core straight to the job's reply_to: one hop less
// than through the scheduler, which only learns that the core is free.
// Conversations with npu_core_actor cross hosts when cores are remote, so
// their payloads (model_handle, core_job, job_result, failure) are
// serialisable. A job_ptr never leaves its process.
#pragma once

#include <caf/all.hpp>

#include "actors/job.hpp"
#include "core/model.hpp"

namespace actorrt {

/// A model on its way to a core: in-process a shared pointer, on the wire
/// the ONNX bytes (re-validated on arrival).
struct model_handle {
  uint64_t id = 0;
  model_ptr ptr;
};

/// What a core runs: one job's inputs for one loaded model, and where the
/// result goes.
struct core_job {
  job_id id = 0;
  uint64_t model_id = 0;
  tensors inputs;
  caf::actor reply_to;
  int64_t dispatched = 0;
};

/// Per-core counters, for tests, tools and the scheduler's report.
struct core_report {
  int device = 0;
  int core = 0;
  std::string executor;
  bool alive = true;
  bool simulated = false;
  uint64_t jobs = 0; // dispatched to the core (in the scheduler's report)
};

// -- inspection (serialisation) ----------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, failure& x) {
  auto code = static_cast<uint8_t>(x.code);
  return f(caf::meta::type_name("failure"), code, x.message,
           caf::meta::load_callback([&]() -> caf::error {
             x.code = static_cast<errc>(code);
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, blob& x) {
  std::vector<uint8_t> bytes;
  return f(caf::meta::type_name("blob"),
           caf::meta::save_callback([&]() -> caf::error {
             bytes.assign(x.data, x.data + x.size);
             return caf::none;
           }),
           bytes, caf::meta::load_callback([&]() -> caf::error {
             x = blob::copy_of(bytes.data(), bytes.size());
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tensor_info& x) {
  auto type = static_cast<uint8_t>(x.type);
  return f(caf::meta::type_name("tensor_info"), x.name, x.shape, type, x.note,
           caf::meta::load_callback([&]() -> caf::error {
             x.type = static_cast<dtype>(type);
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tensor& x) {
  return f(caf::meta::type_name("tensor"), x.info, x.bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_handle& x) {
  std::string name;
  std::string bytes;
  return f(caf::meta::type_name("model_handle"), x.id,
           caf::meta::save_callback([&]() -> caf::error {
             name = x.ptr ? x.ptr->name() : "";
             bytes = x.ptr ? x.ptr->bytes() : "";
             return caf::none;
           }),
           name, bytes, caf::meta::load_callback([&]() -> caf::error {
             try {
               x.ptr = model::from_bytes(name, bytes);
             } catch (const std::exception& e) {
               return caf::make_error(caf::sec::invalid_argument, e.what());
             }
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, placement& x) {
  return f(caf::meta::type_name("placement"), x.devices, x.core_mask,
           x.max_per_device);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, core_job& x) {
  return f(caf::meta::type_name("core_job"), x.id, x.model_id, x.inputs,
           x.reply_to, x.dispatched);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_result& x) {
  return f(caf::meta::type_name("job_result"), x.outputs, x.error, x.dispatched,
           x.started, x.finished);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, core_report& x) {
  return f(caf::meta::type_name("core_report"), x.device, x.core, x.executor,
           x.alive, x.simulated, x.jobs);
}

} // namespace actorrt

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actorrt::job_ptr)

CAF_BEGIN_TYPE_ID_BLOCK(actorrt, caf::first_custom_type_id)

  // -- engine/facade → scheduler: set-up --------------------------------------
  CAF_ADD_ATOM(actorrt, actorrt, load_atom, "load")
  CAF_ADD_ATOM(actorrt, actorrt, unload_atom, "unload")
  CAF_ADD_TYPE_ID(actorrt, (actorrt::model_handle))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::failure))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::placement))

  // -- facade → engine → scheduler: jobs --------------------------------------
  CAF_ADD_ATOM(actorrt, actorrt, submit_atom, "submit")
  CAF_ADD_ATOM(actorrt, actorrt, infer_atom, "infer")

  // -- scheduler → npu core
  // ----------------------------------------------------
  CAF_ADD_ATOM(actorrt, actorrt, run_atom, "run")
  CAF_ADD_TYPE_ID(actorrt, (actorrt::core_job))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::job_result))

  // -- scheduler → result actor / engine
  // ---------------------------------------
  CAF_ADD_ATOM(actorrt, actorrt, done_atom, "done")

  // -- anyone → scheduler / core: reports -------------------------------------
  CAF_ADD_ATOM(actorrt, actorrt, report_atom, "report")
  CAF_ADD_ATOM(actorrt, actorrt, join_atom, "join")
  CAF_ADD_TYPE_ID(actorrt, (actorrt::core_report))
  CAF_ADD_TYPE_ID(actorrt, (std::vector<actorrt::core_report>) )
  CAF_ADD_TYPE_ID(actorrt, (actorrt::tensors))

CAF_END_TYPE_ID_BLOCK(actorrt)

namespace actorrt {

/// A failure as a CAF error, for response promises of actor clients.
inline caf::error to_caf_error(const failure& f) {
  return caf::error(static_cast<uint8_t>(f.code), caf::atom("actorrt"),
                    caf::make_message(f.message));
}

/// Any CAF error as a failure; errors that are not ours are device I/O.
inline failure to_failure(caf::actor_system& sys, const caf::error& e) {
  if (e.category() == caf::atom("actorrt")
      && e.context().match_elements<std::string>())
    return {static_cast<errc>(e.code()), e.context().get_as<std::string>(0)};
  return {errc::device_io, sys.render(e)};
}

} // namespace actorrt
