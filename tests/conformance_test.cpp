// ONNX's own test models (Debian's libonnx-testdata) through every CPU
// backend, run directly on one lane and through the engine, against the
// reference outputs. The runtime must never be worse than its executor run
// directly; the pass counts per backend are printed.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <onnx/onnx_pb.h>

#include "actorrt/inference_engine.hpp"
#include "actors/runtime.hpp"
#include "core/model.hpp"
#include "device/ort_library.hpp"
#include "device/registry.hpp"
#include "engine_on_runtime.hpp"

using namespace actorrt;
namespace fs = std::filesystem;

namespace {

const fs::path data_dir = "/usr/share/libonnx-testdata/data";

/// A sample of the test cases: every pytorch one, every 8th node test.
std::vector<fs::path> cases() {
  std::vector<fs::path> result;
  for (auto set : {"pytorch-converted", "pytorch-operator", "node"}) {
    std::vector<fs::path> dirs;
    if (!fs::exists(data_dir / set))
      continue;
    for (auto& entry : fs::directory_iterator(data_dir / set))
      if (fs::exists(entry.path() / "model.onnx")
          && fs::exists(entry.path() / "test_data_set_0"))
        dirs.push_back(entry.path());
    std::sort(dirs.begin(), dirs.end());
    size_t step = std::string(set) == "node" ? 8 : 1;
    for (size_t i = 0; i < dirs.size(); i += step)
      result.push_back(dirs[i]);
  }
  return result;
}

/// A TensorProto's element type and bytes (raw or from its typed fields).
struct reference {
  int type = 0;
  std::vector<int64_t> shape;
  std::string bytes;
};

template <class T, class Field>
std::string pack(const Field& values) {
  std::string out(values.size() * sizeof(T), '\0');
  for (int i = 0; i < values.size(); ++i) {
    T v = static_cast<T>(values.Get(i));
    std::memcpy(&out[i * sizeof(T)], &v, sizeof(T));
  }
  return out;
}

std::optional<reference> read_tensor(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::TensorProto t;
  if (!t.ParseFromIstream(&in))
    return std::nullopt;
  reference r;
  r.type = t.data_type();
  r.shape.assign(t.dims().begin(), t.dims().end());
  if (!t.raw_data().empty()) {
    r.bytes = t.raw_data();
    return r;
  }
  using TP = onnx::TensorProto;
  switch (t.data_type()) {
    case TP::FLOAT:
      r.bytes = pack<float>(t.float_data());
      return r;
    case TP::DOUBLE:
      r.bytes = pack<double>(t.double_data());
      return r;
    case TP::INT64:
      r.bytes = pack<int64_t>(t.int64_data());
      return r;
    case TP::INT32:
      r.bytes = pack<int32_t>(t.int32_data());
      return r;
    case TP::INT8:
      r.bytes = pack<int8_t>(t.int32_data());
      return r;
    case TP::UINT8:
    case TP::BOOL:
      r.bytes = pack<uint8_t>(t.int32_data());
      return r;
    default:
      return std::nullopt; // strings, float16 without raw data, ...
  }
}

/// Reference inputs and outputs of a test case's first data set.
struct test_data {
  std::vector<reference> inputs, outputs;
};

std::optional<test_data> read_data(const fs::path& dir) {
  test_data d;
  for (auto [prefix, list] :
       {std::pair{"input_", &d.inputs}, std::pair{"output_", &d.outputs}})
    for (int i = 0;; ++i) {
      auto path
        = dir / "test_data_set_0" / (prefix + std::to_string(i) + ".pb");
      if (!fs::exists(path))
        break;
      auto t = read_tensor(path);
      if (!t)
        return std::nullopt;
      list->push_back(std::move(*t));
    }
  return d;
}

double value_at(const uint8_t* p, dtype type, size_t i) {
  switch (type) {
    case dtype::float32:
      return reinterpret_cast<const float*>(p)[i];
    case dtype::float64:
      return reinterpret_cast<const double*>(p)[i];
    case dtype::int64:
      return double(reinterpret_cast<const int64_t*>(p)[i]);
    case dtype::int32:
      return reinterpret_cast<const int32_t*>(p)[i];
    case dtype::int8:
      return reinterpret_cast<const int8_t*>(p)[i];
    case dtype::uint8:
    case dtype::boolean:
      return p[i];
    default:
      return NAN;
  }
}

/// Outputs equal the references within |a-b| <= 1e-5 + 1e-3 |b|.
bool matches(const tensors& got, const std::vector<reference>& want) {
  if (got.size() != want.size())
    return false;
  for (size_t k = 0; k < got.size(); ++k) {
    auto& info = got[k].info();
    if (got[k].bytes.size != want[k].bytes.size())
      return false;
    auto n = info.element_count();
    auto* ref = reinterpret_cast<const uint8_t*>(want[k].bytes.data());
    for (size_t i = 0; i < n; ++i) {
      double a = value_at(got[k].bytes.data, info.type, i);
      double b = value_at(ref, info.type, i);
      if (std::isnan(a) && std::isnan(b))
        continue;
      if (!(std::abs(a - b) <= 1e-5 + 1e-3 * std::abs(b)))
        return false;
    }
  }
  return true;
}

std::vector<blob> input_blobs(const test_data& d) {
  std::vector<blob> result;
  for (auto& in : d.inputs)
    result.push_back(blob::copy_of(in.bytes.data(), in.bytes.size()));
  return result;
}

/// Runs one case directly on a lane of `kind`; nullopt when it does not
/// load or its data does not fit the model.
std::optional<bool> run_direct(const std::string& kind, const model& m,
                               const test_data& d) {
  std::unique_ptr<executor> lane;
  try {
    lane = make_executor({kind, 1, ""}, m, {});
  } catch (const Error&) {
    return std::nullopt;
  }
  try {
    int64_t batch = 1;
    auto inputs = bind_inputs(m.inputs(), input_blobs(d), &batch);
    describe(inputs, m.input_metas(), batch);
    auto outputs = attach(m.output_metas(), {}, batch);
    lane->run(inputs, outputs);
    return matches(outputs, d.outputs);
  } catch (const Error&) {
    return false;
  }
}

std::optional<bool> run_engine(const std::shared_ptr<runtime>& rt,
                               const fs::path& path, const test_data& d) {
  std::unique_ptr<InferenceEngine> ie;
  try {
    ie = std::make_unique<InferenceEngine>(open_engine(rt, path.string()));
  } catch (const Error&) {
    return std::nullopt;
  }
  try {
    return matches(ie->Run(input_blobs(d)), d.outputs);
  } catch (const Error&) {
    return false;
  }
}

} // namespace

TEST_CASE("ONNX test models: the engine is never worse than its executor",
          "[conformance]") {
  auto all = cases();
  if (all.empty()) {
    WARN("skipped: no ONNX test data at " << data_dir);
    return;
  }
  std::vector<std::string> kinds{"opencv"};
  if (ort_available())
    kinds.push_back("ort");
  for (auto& kind : kinds) {
    auto rt = std::make_shared<runtime>(parse_devices(kind + ":1"));
    int tried = 0, loaded = 0, direct = 0, engine = 0;
    std::vector<std::string> worse;
    for (auto& dir : all) {
      model_ptr m;
      try {
        m = model::load((dir / "model.onnx").string());
      } catch (const Error&) {
        continue; // our loader refuses it (no shapes, sequences, ...)
      }
      auto data = read_data(dir);
      if (!data)
        continue;
      ++tried;
      auto a = run_direct(kind, *m, *data);
      if (!a)
        continue;
      ++loaded;
      auto b = run_engine(rt, dir / "model.onnx", *data);
      direct += *a;
      engine += b.value_or(false);
      if (*a && !b.value_or(false))
        worse.push_back(dir.filename().string());
    }
    std::printf("conformance %-6s: %d test models read, %d load on the lane, "
                "%d pass directly, %d pass through the engine\n",
                kind.c_str(), tried, loaded, direct, engine);
    INFO(kind << ": worse through the engine: " << worse.size());
    for (auto& name : worse)
      UNSCOPED_INFO(name);
    CHECK(worse.empty());
    CHECK(engine >= direct);
    CHECK(direct > 0);
  }
}
