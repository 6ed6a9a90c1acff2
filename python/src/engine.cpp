// The native engine class that dx_engine.InferenceEngine extends.
#include "engine.hpp"

#include <array>
#include <chrono>
#include <mutex>

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "actorrt/inference_engine.hpp"
#include "arrays.hpp"
#include "disposal.hpp"
#include "errors.hpp"
#include "gil.hpp"

namespace actorrt::python {

namespace {

/// What a callback needs besides the outputs: the Python callable, what
/// makes the user_arg it receives, whether it takes the job's error as a
/// third argument, and the optional error handler.
struct python_callback {
  py::object fn;
  py::object wrap_user_arg;
  bool with_error = false;
  /// fn takes a batch's (outputs, user_arg, error) tuples in one call.
  bool batched = false;
  py::list ended; // a batch's tuples so far (batched only; GIL held)
  py::object on_error;

  ~python_callback() {
    with_gil gil;
    fn = py::object();
    wrap_user_arg = py::object();
    ended.release().dec_ref(); // leaves no list to free without the GIL
    on_error = py::object();
  }
};

/// Ctrl-C reaches a call blocked in the runtime: the facade runs this every
/// 100 ms while it waits.
void raise_pending_signals() {
  with_gil gil;
  if (PyErr_CheckSignals() != 0)
    throw py::error_already_set();
}

void report_callback_error(python_callback& cb, py::error_already_set& e) {
  if (cb.on_error && !cb.on_error.is_none()) {
    try {
      cb.on_error(e.type(), e.value(), e.trace());
      return;
    } catch (py::error_already_set& inner) {
      inner.discard_as_unraisable("dx_engine callback error handler");
      return;
    }
  }
  e.discard_as_unraisable("dx_engine callback");
}

class engine {
public:
  /// `option`: a dx_engine.InferenceOption (its setters checked types).
  /// `retention`: EngineSettings' three retention bounds, in its order.
  engine(const std::string& path, py::handle option,
         std::array<size_t, 3> retention, const std::string& device_spec)
    : ie_(make(path, to_option(option), retention, device_spec)) {}

  ~engine() {
    // Never wait here: this may be the garbage collector, or the last
    // reference dropped inside one of this engine's own callbacks.
    if (ie_)
      dispose_later(std::move(ie_));
  }

  /// With `notify`, the registered callback sees the job with `user_arg`
  /// (DX-RT's run); otherwise nobody but the caller does.
  py::list run(py::handle inputs, py::handle output_buffers, bool notify,
               py::object user_arg, std::optional<int> timeout_ms,
               std::optional<int> priority) {
    release_pending();
    auto blobs = prepare(inputs);
    auto outputs = output_blobs(output_buffers);
    JobOptions job{timeout_ms, priority};
    tensors out;
    if (notify) {
      auto keep = held(std::move(user_arg));
      without_gil nogil;
      out = ie_->Run(blobs, job, keep.get(), keep, std::move(outputs));
    } else {
      without_gil nogil;
      out = ie_->Run(blobs, job, std::move(outputs));
    }
    return to_arrays(out);
  }

  uint64_t run_async(py::handle inputs, py::object user_arg,
                     py::handle output_buffers, std::optional<int> timeout_ms,
                     std::optional<int> priority) {
    release_pending();
    auto blobs = prepare(inputs);
    auto outputs = output_blobs(output_buffers);
    auto keep = held(std::move(user_arg));
    // Keeps the GIL unless it waits for credit (settings.blocking_scope):
    // letting it go at every call handed it to the result thread and back
    // for each job.
    return ie_->RunAsync(blobs, {timeout_ms, priority}, keep.get(), keep,
                         std::move(outputs));
  }

  /// "not_started" (it ended with JobCancelledError and never runs) or
  /// "running" (it finishes and is reported cancelled).
  std::string cancel(uint64_t job_id) {
    release_pending();
    return ie_->Cancel(job_id) == InferenceEngine::CancelResult::NotStarted
             ? "not_started"
             : "running";
  }

  /// A job's `user_arg` until the job ends. The runtime hands the callback
  /// a pointer to `value`, which the callback empties under the GIL.
  struct held_arg {
    py::object value;
    explicit held_arg(py::object v) : value(std::move(v)) {}
    ~held_arg() {
      release_reference(value.release().ptr());
    }
  };

  /// One allocation per job with a user_arg; None is no pointer, which the
  /// callback gives back as None.
  static std::shared_ptr<void> held(py::object user_arg) {
    if (user_arg.is_none())
      return nullptr;
    auto arg = std::make_shared<held_arg>(std::move(user_arg));
    return std::shared_ptr<void>(arg, &arg->value);
  }

  /// (outputs, a byte-match mask per output, device lanes, reference lanes)
  py::tuple validate(py::handle inputs, int device_id) {
    release_pending();
    auto blobs = prepare(inputs);
    Validation v;
    {
      without_gil nogil;
      v = ie_->Validate(blobs, device_id);
    }
    py::list masks;
    for (auto& m : v.matches)
      masks.append(py::array_t<uint8_t>(m.size(), m.data()));
    return py::make_tuple(to_arrays(v.outputs), masks, v.device_lanes,
                          v.reference_lanes);
  }

  py::list wait(uint64_t job_id, std::optional<double> timeout_s) {
    release_pending();
    tensors out;
    {
      without_gil nogil;
      out = ie_->Wait(job_id, to_ms(timeout_s));
    }
    return to_arrays(out);
  }

  void register_callback(py::object fn, py::object wrap_user_arg,
                         bool with_error, bool batched) {
    if (fn.is_none()) {
      std::lock_guard<std::mutex> guard{mtx_};
      callback_.reset();
      ie_->RegisterCallback(nullptr);
      return;
    }
    if (!PyCallable_Check(fn.ptr()))
      throw py::type_error("callback must be callable or None");
    auto cb = std::make_shared<python_callback>();
    cb->fn = std::move(fn);
    cb->wrap_user_arg = std::move(wrap_user_arg);
    cb->with_error = with_error;
    cb->batched = batched;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      cb->on_error = on_error_;
      callback_ = cb;
    }
    auto scope = [cb](const std::function<void()>& batch) {
      with_gil gil; // once per batch of callbacks
      batch();
      if (!cb->batched || cb->ended.empty())
        return;
      py::list ended = std::move(cb->ended);
      cb->ended = py::list();
      try {
        if (cb->fn)
          cb->fn(ended);
      } catch (py::error_already_set& e) {
        report_callback_error(*cb, e);
      }
    };
    ie_->RegisterCallback(
      [cb](const tensors& outputs, void* user_arg, const failure& error) {
        // The GIL is held (scope above); a callback cleared by the garbage
        // collector (see clear) has no function any more.
        auto* arg = static_cast<py::object*>(user_arg);
        py::object value = arg ? std::move(*arg) : py::none();
        release_pending();
        if (!cb->fn)
          return 0;
        try {
          py::object outs
            = error ? py::object(py::list()) : py::object(to_arrays(outputs));
          if (!cb->batched && !cb->with_error) {
            cb->fn(outs, cb->wrap_user_arg(value));
            return 0;
          }
          py::object why = error ? exception_of(error.code, error.message)
                                 : py::object(py::none());
          if (cb->batched) // the user argument as given
            cb->ended.append(py::make_tuple(outs, value, why));
          else
            cb->fn(outs, cb->wrap_user_arg(value), why);
        } catch (py::error_already_set& e) {
          report_callback_error(*cb, e);
        }
        return 0;
      },
      scope);
  }

  void set_callback_error_handler(py::object handler) {
    std::lock_guard<std::mutex> guard{mtx_};
    on_error_ = handler;
    if (callback_)
      callback_->on_error = handler;
  }

  py::list run_batch(py::handle inputs, py::handle outputs) {
    release_pending();
    if (!py::isinstance<py::list>(inputs) || !py::isinstance<py::list>(outputs))
      throw py::type_error("run_batch takes a list of input lists and a list "
                           "of output-buffer lists");
    std::vector<std::vector<blob>> in, out;
    for (auto item : inputs)
      in.push_back(prepare(item));
    for (auto item : outputs)
      out.push_back(to_output_blobs(item));
    {
      without_gil nogil;
      ie_->RunBatch(in, out);
    }
    return py::reinterpret_borrow<py::list>(outputs);
  }

  double run_benchmark(int num, py::handle inputs) {
    auto blobs = prepare(inputs);
    without_gil nogil;
    return ie_->RunBenchmark(num, blobs);
  }

  size_t dispose(std::optional<double> timeout_s) {
    size_t cancelled;
    {
      without_gil nogil;
      cancelled = timeout_s ? ie_->Dispose(to_ms(timeout_s)) : ie_->Dispose();
    }
    {
      std::lock_guard<std::mutex> guard{mtx_};
      callback_.reset();
    }
    release_pending();
    return cancelled;
  }

  InferenceEngine& get() {
    return *ie_;
  }

  /// The Python objects this engine holds, for the garbage collector: an
  /// engine whose callback refers back to it is a cycle it can collect.
  int traverse(visitproc visit, void* arg) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (callback_)
      Py_VISIT(callback_->fn.ptr());
    Py_VISIT(on_error_.ptr());
    return 0;
  }

  /// Breaks such a cycle: the callback is dropped (the engine is garbage).
  void clear() {
    std::shared_ptr<python_callback> cb;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      cb = std::move(callback_);
      on_error_ = py::none();
    }
    if (cb)
      cb->fn = py::object();
  }

private:
  static std::chrono::milliseconds to_ms(std::optional<double> seconds) {
    if (!seconds)
      return std::chrono::milliseconds::max();
    if (!(*seconds >= 0) || *seconds > 1e9)
      throw py::value_error("timeout must be a number of seconds >= 0");
    return std::chrono::milliseconds(static_cast<int64_t>(*seconds * 1000));
  }

  static InferenceOption to_option(py::handle o) {
    InferenceOption opt;
    opt.devices = o.attr("devices").cast<std::vector<int>>();
    opt.bound = static_cast<bound_option>(o.attr("bound_option").cast<int>());
    opt.use_ort = o.attr("use_ort").cast<bool>();
    opt.buffer_count = o.attr("buffer_count").cast<int>();
    opt.max_batch_size = o.attr("max_batch_size").cast<int>();
    opt.batch_delay_us = o.attr("batch_delay_us").cast<int>();
    opt.timeout_ms = o.attr("timeout_ms").cast<int>();
    opt.priority = o.attr("priority").cast<int>();
    return opt;
  }

  static std::unique_ptr<InferenceEngine> make(const std::string& path,
                                               const InferenceOption& opt,
                                               std::array<size_t, 3> retention,
                                               const std::string& device_spec) {
    EngineSettings settings;
    settings.retention = retention[0];
    settings.retention_bytes = retention[1];
    settings.retention_without_callback = retention[2];
    settings.interrupt = raise_pending_signals;
    settings.blocking_scope = [](const std::function<void()>& wait) {
      if (!PyGILState_Check())
        return wait(); // a call that let the GIL go already (run, run_batch)
      without_gil nogil;
      wait();
    };
    without_gil nogil;
    settings.devices = device_spec;
    return std::make_unique<InferenceEngine>(path, opt, settings);
  }

  static std::vector<blob> output_blobs(py::handle buffers) {
    if (buffers.is_none())
      return {};
    return to_output_blobs(buffers);
  }

  std::vector<blob> prepare(py::handle inputs) {
    return to_input_blobs(inputs, ie_->GetInputs());
  }

  std::unique_ptr<InferenceEngine> ie_;
  std::mutex mtx_;
  std::shared_ptr<python_callback> callback_;
  py::object on_error_ = py::none();
};

/// The engine inside a Python object, if it was constructed.
engine* instance_of(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  auto vh = inst->get_value_and_holder();
  return vh.holder_constructed()
           ? vh.template holder<std::unique_ptr<engine>>().get()
           : nullptr;
}

// A Python subclass's own slots (subtype_traverse, subtype_clear) handle
// the instance dict; the bare class handles it here.
int traverse_engine(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (Py_TYPE(self)->tp_traverse == traverse_engine)
    Py_VISIT(*_PyObject_GetDictPtr(self));
  if (auto* e = instance_of(self))
    return e->traverse(visit, arg);
  return 0;
}

int clear_engine(PyObject* self) {
  if (Py_TYPE(self)->tp_clear == clear_engine)
    Py_CLEAR(*_PyObject_GetDictPtr(self));
  if (auto* e = instance_of(self))
    e->clear();
  return 0;
}

py::dict stats_dict(const stats_summary& s) {
  py::dict d;
  d["last"] = s.last;
  d["mean"] = s.mean;
  d["std"] = s.stddev;
  d["count"] = s.count;
  return d;
}

py::dict duration_dict(const DurationStats& s) {
  py::dict d;
  d["count"] = s.count;
  d["mean"] = s.mean;
  d["p50"] = s.p50;
  d["p90"] = s.p90;
  d["p99"] = s.p99;
  d["max"] = s.max;
  return d;
}

/// EngineStats as a dict (durations in ms), with one dict per core.
py::dict stats_dict(const EngineStats& s) {
  py::dict d;
  d["seconds"] = s.seconds;
  d["jobs_done"] = s.jobs_done;
  d["jobs_failed"] = s.jobs_failed;
  d["in_flight"] = s.in_flight;
  d["peak_in_flight"] = s.peak_in_flight;
  d["held_results"] = s.held_results;
  d["mean_batch"] = s.mean_batch;
  d["latency_ms"] = duration_dict(s.latency);
  d["queue_ms"] = duration_dict(s.queue);
  d["compute_ms"] = duration_dict(s.compute);
  py::list cores;
  for (auto& c : s.cores) {
    py::dict core;
    core["device"] = c.device;
    core["core"] = c.core;
    core["host"] = c.host;
    core["backend"] = c.backend;
    core["simulated"] = c.simulated;
    core["jobs_done"] = c.jobs_done;
    core["jobs_failed"] = c.jobs_failed;
    core["in_flight"] = c.in_flight;
    core["mean_batch"] = c.mean_batch;
    core["compute_ms"] = duration_dict(c.compute);
    core["utilisation"] = c.utilisation;
    cores.append(core);
  }
  d["cores"] = cores;
  return d;
}

py::list tensor_infos(const std::vector<tensor_info>& infos) {
  py::list result;
  for (auto& t : infos) {
    py::dict d;
    d["name"] = t.name;
    d["shape"] = t.shape;
    d["dtype"] = to_numpy(t.type).attr("type");
    d["elem_size"] = element_size(t.type);
    if (!t.note.empty())
      d["note"] = t.note;
    result.append(d);
  }
  return result;
}

} // namespace

void bind_engine(py::module_& m) {
  py::class_<engine>(m, "Engine", py::dynamic_attr(),
                     py::custom_type_setup([](PyHeapTypeObject* heap_type) {
                       auto* type = &heap_type->ht_type;
                       type->tp_flags |= Py_TPFLAGS_HAVE_GC;
                       type->tp_traverse = traverse_engine;
                       type->tp_clear = clear_engine;
                     }))
    .def(py::init<const std::string&, py::handle, std::array<size_t, 3>,
                  const std::string&>(),
         py::arg("model_path"), py::arg("option"), py::arg("retention"),
         py::arg("device_spec") = std::string())
    .def("_run", &engine::run, py::arg("inputs"),
         py::arg("output_buffers") = py::none(), py::arg("notify") = false,
         py::arg("user_arg") = py::none(), py::arg("timeout_ms") = py::none(),
         py::arg("priority") = py::none())
    .def("_run_async", &engine::run_async, py::arg("inputs"),
         py::arg("user_arg") = py::none(),
         py::arg("output_buffers") = py::none(),
         py::arg("timeout_ms") = py::none(), py::arg("priority") = py::none())
    .def("_cancel", &engine::cancel, py::arg("job_id"))
    .def("_validate", &engine::validate, py::arg("inputs"),
         py::arg("device_id"))
    .def("_wait", &engine::wait, py::arg("job_id"),
         py::arg("timeout") = py::none())
    .def("_register_callback", &engine::register_callback)
    .def("set_callback_error_handler", &engine::set_callback_error_handler,
         py::arg("handler"))
    .def("_run_batch", &engine::run_batch)
    .def("_run_benchmark", &engine::run_benchmark)
    .def("_dispose", &engine::dispose, py::arg("timeout") = py::none())
    .def("get_input_size", [](engine& e) { return e.get().GetInputSize(); })
    .def("get_model_version",
         [](engine& e) { return e.get().GetModelVersion(); })
    .def("get_output_size", [](engine& e) { return e.get().GetOutputSize(); })
    .def("get_input_tensors_info",
         [](engine& e) { return tensor_infos(e.get().GetInputs()); })
    .def("get_output_tensors_info",
         [](engine& e) { return tensor_infos(e.get().GetOutputs()); })
    .def("_latency",
         [](engine& e) {
           return stats_dict(released([&] { return e.get().GetLatency(); }));
         })
    .def("_npu_time",
         [](engine& e) {
           return stats_dict(
             released([&] { return e.get().GetNpuInferenceTime(); }));
         })
    .def("get_latency_list",
         [](engine& e) {
           return released([&] { return e.get().GetLatencyVector(); });
         })
    .def("get_npu_inference_time_list",
         [](engine& e) {
           return released([&] { return e.get().GetNpuInferenceTimeVector(); });
         })
    .def("get_max_in_flight",
         [](engine& e) { return e.get().GetMaxInFlight(); })
    .def("get_peak_in_flight",
         [](engine& e) { return e.get().GetPeakInFlight(); })
    .def("get_held_results", [](engine& e) { return e.get().GetHeldResults(); })
    .def("get_stats", [](engine& e) { return stats_dict(e.get().GetStats()); })
    .def("is_simulated", [](engine& e) { return e.get().IsSimulated(); })
    .def("_latest_outputs",
         [](engine& e) {
           return to_arrays(
             released([&] { return e.get().GetLatestOutputs(); }));
         })
    .def("get_lane_backends",
         [](engine& e) { return e.get().GetLaneBackends(); });
}

} // namespace actorrt::python
