// The whole vocabulary of ActorRT's actors: what travels, and each actor's
// protocol as a typed handle, in data-flow order.
//
// clang-format off
//   facade ──job_intake, submit──▶ engine_actor          (credit taken first)
//   actor client ──infer──▶ engine_actor
//   engine_actor ──submit(job_batch)──▶ scheduler_actor
//   scheduler_actor ──run(job_batch), request──▶ npu_core_actor
//   npu_core_actor ──done(job_results)──▶ engine_actor  (reply: core is free;
//                    from another host, the last results ride in the reply)
//   client runtime ──cores──▶ node_actor (on a worker node; its cores join
//                             the client's scheduler, then talk as above)
//   scheduler_actor ──done(job_results)──▶ engine_actor (jobs no core could end)
// clang-format on
//
// Every message carries a batch: every job ready at that moment, one when
// the runtime is idle, many under load. Everything a core receives or sends
// is serialisable (blobs by value, models as ONNX bytes), so a core may live
// on another host.
#pragma once

#include <map>
#include <type_traits>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>

#include "actors/model_cache.hpp"
#include "core/clock.hpp"
#include "core/core_report.hpp"
#include "core/errors.hpp"
#include "core/inference_option.hpp"
#include "core/job.hpp"
#include "core/model.hpp"
#include "core/stats.hpp"

namespace actorrt {

/// Where an engine's jobs may run: device ids (empty = all) and a mask over
/// a device's core indices (from the bound option).
struct placement {
  std::vector<int> devices;
  uint32_t core_mask = ~0u;

  bool allows(int device, int core) const;
};

/// A model on its way to a core: in-process a shared pointer, on the wire
/// the ONNX bytes (re-validated on arrival, then cached by digest), or only
/// the digest when `ship` is false (the node has it already), with the
/// backend the engine asked for ("" = the device's default, "opencv",
/// "ort").
struct model_handle {
  uint64_t id = 0;
  model_ptr ptr;
  std::string backend;
  bool ship = true;
  /// Dynamic batching as the engine asked for it: samples per executor
  /// call (1: off) and how long a core may wait for a batch to fill (µs).
  int max_batch = 1;
  int batch_delay_us = 0;
  /// Why bytes that came over the network are not a model this side may
  /// load (they failed the untrusted-model checks); the load answers it.
  failure refused{};
};

/// What a core answers (as the backend, with a failure) to a load that came
/// without bytes for a model it does not have: send them.
inline const std::string send_model_bytes = "actorrt.send-model-bytes";

/// How a job ended: outputs (one per model output) or a failure, and when it
/// was dispatched, started and finished (now_ns() of the core's host).
struct job_result {
  job_id id = 0;
  /// Described with the lane's model until its engine describes them with
  /// its own; bytes only when they come from another host.
  tensors outputs;
  /// The core that ran it, in the submitting runtime's numbering (-1: none).
  int device = -1;
  int core = -1;
  /// The outputs' shapes when a run decided them (data-dependent shapes);
  /// empty when they are the model's.
  std::vector<std::vector<int64_t>> shapes;
  failure error;
  int64_t dispatched = 0;
  int64_t started = 0;
  int64_t finished = 0;
  /// Jobs in the executor call that ran it (dynamic batching; each has
  /// its share of the call's compute), and whether it was the call's first
  /// (calls are counted once).
  int run_jobs = 1;
  bool first_in_run = true;

  /// Its share of its call's compute, µs.
  int64_t compute_us() const {
    return (finished - started) / 1000 / std::max(run_jobs, 1);
  }
};

using job_results = std::vector<job_result>;

/// What an engine actor tells of its jobs (DX-RT's latency and NPU-time
/// figures and lists, µs) and the outputs of its latest job to succeed.
struct engine_report {
  stats_summary latency, npu_time;
  std::vector<int64_t> latency_recent, npu_time_recent;
  tensors latest;
};

} // namespace actorrt

CAF_BEGIN_TYPE_ID_BLOCK(actorrt, caf::first_custom_type_id)

  CAF_ADD_ATOM(actorrt, actorrt, load_atom, "load")
  CAF_ADD_ATOM(actorrt, actorrt, unload_atom, "unload")
  CAF_ADD_ATOM(actorrt, actorrt, submit_atom, "submit")
  CAF_ADD_ATOM(actorrt, actorrt, infer_atom, "infer")
  CAF_ADD_ATOM(actorrt, actorrt, run_atom, "run")
  CAF_ADD_ATOM(actorrt, actorrt, done_atom, "done")
  CAF_ADD_ATOM(actorrt, actorrt, cancel_atom, "cancel")
  CAF_ADD_ATOM(actorrt, actorrt, report_atom, "report")
  CAF_ADD_ATOM(actorrt, actorrt, join_atom, "join")
  CAF_ADD_ATOM(actorrt, actorrt, tick_atom, "tick")
  CAF_ADD_ATOM(actorrt, actorrt, cores_atom, "cores")
  CAF_ADD_ATOM(actorrt, actorrt, reset_atom, "reset")
  CAF_ADD_TYPE_ID(actorrt, (actorrt::failure))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::placement))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::model_handle))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::blob))
  CAF_ADD_TYPE_ID(actorrt, (std::vector<actorrt::blob>) )
  CAF_ADD_TYPE_ID(actorrt, (actorrt::tensor))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::tensors))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::job_result))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::job_results))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::core_report))
  CAF_ADD_TYPE_ID(actorrt, (actorrt::engine_report))
  CAF_ADD_TYPE_ID(actorrt, (std::vector<actorrt::core_report>) )

CAF_END_TYPE_ID_BLOCK(actorrt)

namespace actorrt {

// -- protocols ---------------------------------------------------------------

/// One per engine, detached: on every job's path. It takes its callers' jobs
/// from its intake when told (submit) and sends them to the scheduler, ends
/// each exactly once (statistics, callback, the result for Wait, the
/// credit) on its own thread, serves actor clients, and cancels what is
/// open when asked.
using engine_actor = caf::typed_actor<
  caf::reacts_to<submit_atom>, caf::reacts_to<done_atom, job_results>,
  caf::replies_to<infer_atom, std::vector<blob>>::with<tensors>,
  caf::replies_to<cancel_atom, std::string>::with<uint64_t>,
  caf::replies_to<report_atom>::with<engine_report>>;

/// Jobs of one engine for one model, the engine their results go to, and
/// the receiving core as the sending scheduler numbers it (its results
/// carry that name back).
struct job_batch {
  uint64_t model = 0;
  engine_actor engine;
  std::vector<job> jobs;
  int device = -1;
  int core = -1;
  /// now_ns() when it was sent to its core, stamped on the core's host by
  /// the sender there (not carried over the network: 0 on arrival).
  int64_t sent = 0;
  /// The only job the scheduler held when it sent it (a lone Run's): see
  /// lane_placement. Not carried over the network.
  bool alone = false;
  /// What the sender keeps alive until the core that runs the batch drops
  /// it (a node's guard: the batch's counts). Not carried over the network.
  std::shared_ptr<void> held = nullptr;
};

/// One per NPU core, detached: loads lanes (answering with the failure, or
/// the backend the lane runs), runs batches, sends their results to the
/// batch's engine, then answers once all its jobs ended (empty). When the
/// engine is on another host, the batch's last results travel in that
/// answer instead, and the scheduler hands them on: one message back over
/// the link, not two. Batches of one model that wait together run together
/// (dynamic batching); a tick ends a batch delay.
using npu_core_actor = caf::typed_actor<
  caf::replies_to<load_atom, model_handle>::with<failure, std::string>,
  caf::reacts_to<unload_atom, uint64_t>,
  caf::replies_to<run_atom, job_batch>::with<job_results>,
  caf::replies_to<reset_atom>::with<uint64_t>, caf::reacts_to<tick_atom>>;

/// One per worker node (actorrt-node), published through CAF's middleman:
/// hands a client its cores and their reports, which the client's
/// scheduler joins like local ones.
using node_actor = caf::typed_actor<caf::replies_to<cores_atom>::with<
  std::vector<npu_core_actor>, std::vector<core_report>>>;

/// One per client that listens for nodes (ACTORRT_LISTEN): a node tells it
/// the address ("HOST:PORT") clients reach it at, and the client joins it.
using node_registry = caf::typed_actor<caf::reacts_to<join_atom, std::string>>;

/// One per runtime: which core holds which model, and where each job runs.
using scheduler_actor = caf::typed_actor<
  caf::reacts_to<join_atom, npu_core_actor, core_report>,
  caf::replies_to<load_atom, model_handle, placement>::with<failure>,
  caf::reacts_to<unload_atom, uint64_t>, caf::reacts_to<submit_atom, job_batch>,
  caf::replies_to<report_atom>::with<std::vector<core_report>>,
  caf::reacts_to<tick_atom>>;

// -- inspection (serialisation) ----------------------------------------------

/// A string or byte vector that, loaded from a peer's message, may claim no
/// more bytes than the message still holds: CAF 0.17 sizes the buffer by
/// the claim before reading, so a short message claiming gigabytes would
/// exhaust a node. Saved as CAF saves any byte sequence.
template <class Bytes>
struct checked_bytes {
  Bytes& bytes;
};

/// Loads a byte sequence into the `n` bytes `room(n)` returns, refused
/// when the message holds fewer than it claims.
template <class Deserializer, class Room>
caf::error load_checked_bytes(Deserializer& f, Room room) {
  size_t n = 0;
  if (auto err = f.begin_sequence(n))
    return err;
  auto* source = dynamic_cast<caf::binary_deserializer*>(&f);
  if (source && n > source->remaining())
    return caf::make_error(caf::sec::end_of_stream);
  void* into = room(n);
  if (n > 0)
    if (auto err = f.apply_raw(n, into))
      return err;
  return f.end_sequence();
}

template <class Inspector, class Bytes>
typename Inspector::result_type inspect(Inspector& f, checked_bytes<Bytes>& x) {
  if constexpr (std::is_base_of<caf::deserializer, Inspector>::value) {
    return load_checked_bytes(f, [&x](size_t n) -> void* {
      x.bytes.resize(n);
      return x.bytes.data();
    });
  } else {
    return f(x.bytes);
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, failure& x) {
  auto code = static_cast<uint8_t>(x.code);
  checked_bytes<std::string> message{x.message};
  return f(caf::meta::type_name("failure"), code, message,
           caf::meta::load_callback([&]() -> caf::error {
             x.code = static_cast<errc>(code);
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, placement& x) {
  return f(caf::meta::type_name("placement"), x.devices, x.core_mask);
}

/// A blob travels as a byte sequence, written from and read into its own
/// memory: no copy on either side beyond CAF's buffer (inputs of megabytes
/// cross a node link).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, blob& x) {
  if constexpr (std::is_base_of<caf::serializer, Inspector>::value) {
    size_t n = x.size;
    if (auto err = f.begin_sequence(n))
      return err;
    if (n > 0)
      if (auto err = f.apply_raw(n, x.data))
        return err;
    return f.end_sequence();
  } else if constexpr (std::is_base_of<caf::deserializer, Inspector>::value) {
    return load_checked_bytes(f, [&x](size_t n) -> void* {
      x = blob::allocate(n);
      return x.data;
    });
  } else {
    std::vector<uint8_t> bytes(x.data, x.data + x.size);
    return f(caf::meta::type_name("blob"), bytes);
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tensor& x) {
  tensor_info info;
  uint8_t type = 0;
  return f(caf::meta::type_name("tensor"),
           caf::meta::save_callback([&]() -> caf::error {
             if (x.meta)
               info = *x.meta;
             type = static_cast<uint8_t>(info.type);
             return caf::none;
           }),
           info.name, info.shape, type, info.note, x.bytes,
           caf::meta::load_callback([&]() -> caf::error {
             info.type = static_cast<dtype>(type);
             x.meta = std::make_shared<const tensor_info>(std::move(info));
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stats_summary& x) {
  return f(caf::meta::type_name("stats_summary"), x.last, x.mean, x.stddev,
           x.count);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, engine_report& x) {
  return f(caf::meta::type_name("engine_report"), x.latency, x.npu_time,
           x.latency_recent, x.npu_time_recent, x.latest);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_handle& x) {
  std::string name;
  std::string digest;
  std::string bytes;
  checked_bytes<std::string> backend{x.backend}, checked_name{name},
    checked_digest{digest}, checked{bytes};
  return f(caf::meta::type_name("model_handle"), x.id, backend, x.max_batch,
           x.batch_delay_us, caf::meta::save_callback([&]() -> caf::error {
             name = x.ptr ? x.ptr->name() : "";
             digest = x.ptr ? x.ptr->digest() : "";
             bytes = x.ptr && x.ship ? x.ptr->bytes() : "";
             return caf::none;
           }),
           checked_name, checked_digest, checked,
           caf::meta::load_callback([&]() -> caf::error {
             if (bytes.empty()) {
               // Null when not here (yet): the core asks for the bytes.
               x.ptr = cached_model(digest);
               return caf::none;
             }
             // A model that fails the checks is the sender's error, not
             // a malformed message: the load answers it, typed.
             try {
               x.ptr = model::from_bytes(name, bytes);
               cache_model(x.ptr);
             } catch (...) {
               x.refused = failure::from_current_exception();
             }
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job& x) {
  // Only the inputs' bytes travel: the core that runs it describes them
  // with its lane's model, and allocates the outputs (the caller's output
  // memory stays with the caller, who gets the results copied into it).
  // Hosts' clocks differ: the deadline travels as the time left (<= 0:
  // passed already) and becomes a deadline on the receiving host's clock.
  std::vector<blob> inputs;
  int64_t left = 0;
  return f(caf::meta::type_name("job"), x.id,
           caf::meta::save_callback([&]() -> caf::error {
             inputs = bytes_of(x.inputs);
             if (x.deadline != 0) {
               left = x.deadline - now_ns();
               if (left == 0)
                 left = -1; // 0 would say "no deadline"
             }
             return caf::none;
           }),
           inputs, x.device, x.batch, x.priority, left,
           caf::meta::load_callback([&]() -> caf::error {
             x.inputs = undescribed(std::move(inputs));
             x.outputs.clear();
             x.deadline = left == 0 ? 0 : now_ns() + left;
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_batch& x) {
  return f(caf::meta::type_name("job_batch"), x.model, x.engine, x.jobs,
           x.device, x.core);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_result& x) {
  // Only the outputs' bytes travel: the engine describes them with its
  // model (and `shapes`).
  std::vector<blob> outputs;
  return f(caf::meta::type_name("job_result"), x.id,
           caf::meta::save_callback([&]() -> caf::error {
             outputs = bytes_of(x.outputs);
             return caf::none;
           }),
           outputs, x.device, x.core, x.shapes, x.error, x.dispatched,
           x.started, x.finished, x.run_jobs, x.first_in_run,
           caf::meta::load_callback([&]() -> caf::error {
             x.outputs = undescribed(std::move(outputs));
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, core_report& x) {
  return f(caf::meta::type_name("core_report"), x.device, x.core, x.kind,
           x.host, x.device_key, x.alive, x.simulated, x.jobs, x.in_flight,
           x.lanes);
}

/// How core reports name this process's host: its CAF node, or "local"
/// when the process has no network (no node id).
inline std::string host_name(const caf::actor_system& sys) {
  return sys.node() ? to_string(sys.node()) : std::string("local");
}

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

// Handles and batches are declared after the block that names their
// element types; their IDs live in a second block.
CAF_BEGIN_TYPE_ID_BLOCK(actorrt_handles, caf::id_block::actorrt::end)

  CAF_ADD_TYPE_ID(actorrt_handles, (actorrt::job))
  CAF_ADD_TYPE_ID(actorrt_handles, (std::vector<actorrt::job>) )
  CAF_ADD_TYPE_ID(actorrt_handles, (actorrt::engine_actor))
  CAF_ADD_TYPE_ID(actorrt_handles, (actorrt::job_batch))
  CAF_ADD_TYPE_ID(actorrt_handles, (actorrt::npu_core_actor))
  CAF_ADD_TYPE_ID(actorrt_handles, (std::vector<actorrt::npu_core_actor>) )
  CAF_ADD_TYPE_ID(actorrt_handles, (actorrt::node_actor))
  CAF_ADD_TYPE_ID(actorrt_handles, (actorrt::node_registry))
  CAF_ADD_TYPE_ID(actorrt_handles, (actorrt::scheduler_actor))

CAF_END_TYPE_ID_BLOCK(actorrt_handles)
