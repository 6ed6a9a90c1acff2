#include "device/ort_executor.hpp"

#include <cstring>
#include <map>
#include <mutex>

#include <unistd.h>

#include "core/clock.hpp"
#include "core/errors.hpp"
#include "device/cpu_slots.hpp"

namespace actorrt {

namespace {

const ort_library& library() {
  auto* lib = ort_library::get();
  if (!lib)
    throw InvalidArgument(ort_library::load_error());
  return *lib;
}

/// ONNX's element type numbers (TensorProto.DataType), as ORT takes them.
int onnx_type(dtype type) {
  switch (type) {
    case dtype::float32:
      return 1;
    case dtype::uint8:
      return 2;
    case dtype::int8:
      return 3;
    case dtype::uint16:
      return 4;
    case dtype::int16:
      return 5;
    case dtype::int32:
      return 6;
    case dtype::int64:
      return 7;
    case dtype::boolean:
      return 9;
    case dtype::float16:
      return 10;
    case dtype::float64:
      return 11;
    case dtype::uint32:
      return 12;
    case dtype::uint64:
      return 13;
  }
  throw InvalidModel(std::string("ONNX Runtime has no element type for ")
                     + to_string(type));
}

/// OrtValues of one run, released however it ends.
struct values {
  const ort_library& lib;
  std::vector<ort::OrtValue*> items;

  values(const ort_library& l, size_t n) : lib(l), items(n, nullptr) {}
  ~values() {
    auto release
      = lib.fn<ort::Release_fn<ort::OrtValue>>(ort::entry::ReleaseValue);
    for (auto* v : items)
      if (v)
        release(v);
  }

  /// A tensor over `t`'s own bytes: ORT reads or writes them in place.
  void wrap(size_t i, const tensor& t) {
    auto& info = t.info();
    lib.check<DeviceIO>(lib.fn<ort::CreateTensorWithDataAsOrtValue_fn>(
                          ort::entry::CreateTensorWithDataAsOrtValue)(
                          lib.cpu_memory(), t.bytes.data, t.bytes.size,
                          info.shape.data(), info.shape.size(),
                          onnx_type(info.type), &items[i]),
                        "tensor '" + info.name + "'");
  }
};

} // namespace

ort_executor::ort_executor(const model& m, int intra_op_threads, bool share)
  : lib_(library()) {
  if (!share) {
    session_ = make_session(m, intra_op_threads);
  } else {
    // Lanes of one model share a session (ORT's Run is thread-safe, and
    // with one intra-op thread it runs on the calling lane's thread): one
    // copy of the prepacked weights instead of one per lane, which also
    // stay warm in the cache when lanes take turns on fewer host cores.
    static std::mutex mtx;
    static std::map<std::string, std::weak_ptr<ort::OrtSession>> sessions;
    auto key = m.digest() + "/" + std::to_string(intra_op_threads) + "/"
               + std::to_string(::getpid()); // a fork's child: its own
    std::lock_guard<std::mutex> guard{mtx};
    auto& slot = sessions[key];
    session_ = slot.lock();
    if (!session_)
      slot = session_ = make_session(m, intra_op_threads);
  }
  for (auto* infos : {&m.inputs(), &m.outputs()})
    for (auto& info : *infos)
      names_.push_back(info.name);
  for (size_t i = 0; i < names_.size(); ++i)
    (i < m.inputs().size() ? input_names_ : output_names_)
      .push_back(names_[i].c_str());
  // No warm-up run: the session resolved every kernel already, and zeros
  // are no valid input for models whose inputs are scales or shapes.
}

std::shared_ptr<ort::OrtSession>
ort_executor::make_session(const model& m, int intra_op_threads) const {
  ort::OrtSessionOptions* options = nullptr;
  lib_.check<InvalidModel>(lib_.fn<ort::CreateSessionOptions_fn>(
                             ort::entry::CreateSessionOptions)(&options),
                           "ONNX Runtime session options");
  std::unique_ptr<ort::OrtSessionOptions,
                  ort::Release_fn<ort::OrtSessionOptions>>
    owned{options, lib_.fn<ort::Release_fn<ort::OrtSessionOptions>>(
                     ort::entry::ReleaseSessionOptions)};
  auto set = [&](ort::entry e, int value, const char* what) {
    lib_.check<InvalidModel>(lib_.fn<ort::SetOption_fn>(e)(options, value),
                             what);
  };
  set(ort::entry::SetIntraOpNumThreads, intra_op_threads,
      "SetIntraOpNumThreads");
  set(ort::entry::SetInterOpNumThreads, 1, "SetInterOpNumThreads");
  set(ort::entry::SetSessionExecutionMode, ort::execution_sequential,
      "SetSessionExecutionMode");
  set(ort::entry::SetSessionGraphOptimizationLevel, ort::graph_optimization_all,
      "SetSessionGraphOptimizationLevel");
  ort::OrtSession* session = nullptr;
  lib_.check<InvalidModel>(
    lib_.fn<ort::CreateSessionFromArray_fn>(ort::entry::CreateSessionFromArray)(
      lib_.env(), m.bytes().data(), m.bytes().size(), options, &session),
    "ONNX Runtime cannot load '" + m.name() + "'");
  return {session, lib_.fn<ort::Release_fn<ort::OrtSession>>(
                     ort::entry::ReleaseSession)};
}

void ort_executor::forward(const tensors& inputs, tensors& outputs) {
  values in{lib_, inputs.size()};
  values out{lib_, outputs.size()};
  for (size_t i = 0; i < inputs.size(); ++i)
    in.wrap(i, inputs[i]);
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (outputs[k].info().dynamic_shape && !outputs[k].bytes.data)
      continue; // ORT allocates it: its shape is known only after the run
    output_memory(outputs[k]);
    out.wrap(k, outputs[k]);
  }
  lib_.check<DeviceIO>(lib_.fn<ort::Run_fn>(ort::entry::Run)(
                         session_.get(), nullptr, input_names_.data(),
                         in.items.data(), in.items.size(), output_names_.data(),
                         out.items.size(), out.items.data()),
                       "ONNX Runtime run failed");
  for (size_t k = 0; k < outputs.size(); ++k)
    if (!outputs[k].bytes.data)
      take_output(out.items[k], outputs[k]);
}

void ort_executor::take_output(ort::OrtValue* value, tensor& out) {
  ort::OrtTensorTypeAndShapeInfo* info = nullptr;
  lib_.check<DeviceIO>(lib_.fn<ort::GetTensorTypeAndShape_fn>(
                         ort::entry::GetTensorTypeAndShape)(value, &info),
                       "output shape");
  std::unique_ptr<ort::OrtTensorTypeAndShapeInfo,
                  ort::Release_fn<ort::OrtTensorTypeAndShapeInfo>>
    owned{info, lib_.fn<ort::Release_fn<ort::OrtTensorTypeAndShapeInfo>>(
                  ort::entry::ReleaseTensorTypeAndShapeInfo)};
  size_t rank = 0;
  lib_.check<DeviceIO>(lib_.fn<ort::GetDimensionsCount_fn>(
                         ort::entry::GetDimensionsCount)(info, &rank),
                       "output rank");
  std::vector<int64_t> shape(rank);
  lib_.check<DeviceIO>(lib_.fn<ort::GetDimensions_fn>(
                         ort::entry::GetDimensions)(info, shape.data(), rank),
                       "output dimensions");
  void* data = nullptr;
  lib_.check<DeviceIO>(lib_.fn<ort::GetTensorMutableData_fn>(
                         ort::entry::GetTensorMutableData)(value, &data),
                       "output data");
  out.meta = with_shape(out.meta, std::move(shape));
  out.bytes = blob::copy_of(data, out.info().byte_size());
}

int64_t ort_executor::timed_forward(const tensors& inputs, tensors& outputs) {
  auto started = now_ns();
  forward(inputs, outputs);
  return started;
}

int64_t ort_executor::run(const tensors& inputs, tensors& outputs) {
  cpu_slots::lease slot{cpu_slots::host()};
  return timed_forward(inputs, outputs);
}

void ort_executor::run_batch(std::vector<job>& jobs) {
  // One host slot for the whole batch: its jobs follow each other on this
  // thread without handing the slot (and the CPU) to another lane between
  // them.
  cpu_slots::lease slot{cpu_slots::host()};
  run_each(jobs, [this](job& j) { return timed_forward(j.inputs, j.outputs); });
}

} // namespace actorrt
