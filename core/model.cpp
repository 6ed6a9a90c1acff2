#include "core/model.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unordered_map>

#include <onnx/checker.h>
#include <onnx/common/version.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "core/errors.hpp"
#include "core/model_limits.hpp"

namespace actorrt {

namespace {

dtype from_onnx(int32_t type, const std::string& name) {
  using tp = onnx::TensorProto;
  switch (type) {
    case tp::FLOAT:
      return dtype::float32;
    case tp::UINT8:
      return dtype::uint8;
    case tp::INT8:
      return dtype::int8;
    case tp::UINT16:
      return dtype::uint16;
    case tp::INT16:
      return dtype::int16;
    case tp::INT32:
      return dtype::int32;
    case tp::INT64:
      return dtype::int64;
    case tp::UINT32:
      return dtype::uint32;
    case tp::UINT64:
      return dtype::uint64;
    case tp::FLOAT16:
      return dtype::float16;
    case tp::DOUBLE:
      return dtype::float64;
    case tp::BOOL:
      return dtype::boolean;
    default:
      throw InvalidModel("tensor '" + name + "' has ONNX element type "
                         + std::to_string(type)
                         + ", which ActorRT does not support");
  }
}

tensor_info to_info(const onnx::ValueInfoProto& value) {
  if (!value.type().has_tensor_type())
    throw InvalidModel("graph value '" + value.name()
                       + "' is not a tensor (sequences and maps are not "
                         "supported)");
  auto& type = value.type().tensor_type();
  tensor_info info;
  info.name = value.name();
  info.type = from_onnx(type.elem_type(), value.name());
  if (!type.has_shape())
    throw InvalidModel("tensor '" + value.name() + "' has no declared shape");
  std::string resolved;
  for (int i = 0; i < type.shape().dim_size(); ++i) {
    auto& dim = type.shape().dim(i);
    if (dim.has_dim_value() && dim.dim_value() > 0) {
      info.shape.push_back(dim.dim_value());
      continue;
    }
    // A dynamic dimension runs with size 1, as a compiled NPU model would;
    // a dynamic dimension 0 (a batch axis) takes the batch a job brings.
    info.shape.push_back(1);
    if (i == 0)
      info.dynamic_batch = true;
    else
      info.dynamic_shape = true;
    resolved += (resolved.empty() ? "" : ", ") + std::to_string(i)
                + (dim.has_dim_param() ? " ('" + dim.dim_param() + "')" : "");
  }
  if (!resolved.empty())
    info.note = "dynamic dimension " + resolved + " resolved to 1";
  return info;
}

std::vector<int64_t> known_shape(const onnx::ValueInfoProto& value) {
  std::vector<int64_t> shape;
  if (!value.type().has_tensor_type()
      || !value.type().tensor_type().has_shape())
    return shape;
  for (auto& dim : value.type().tensor_type().shape().dim())
    shape.push_back(dim.has_dim_value() ? dim.dim_value() : 1);
  return shape;
}

/// Saturates instead of overflowing: an estimate, never undefined.
constexpr int64_t mac_limit = int64_t(1) << 62;

int64_t product(const std::vector<int64_t>& xs, size_t from = 0) {
  int64_t n = 1;
  for (size_t i = from; i < xs.size(); ++i)
    n = bounded_product(n, std::max<int64_t>(xs[i], 1), mac_limit);
  return n;
}

uint64_t count_macs(const onnx::GraphProto& graph) {
  std::unordered_map<std::string, std::vector<int64_t>> shapes;
  for (auto* list : {&graph.input(), &graph.value_info(), &graph.output()})
    for (auto& v : *list)
      shapes[v.name()] = known_shape(v);
  for (auto& init : graph.initializer())
    shapes[init.name()] = {init.dims().begin(), init.dims().end()};
  auto shape_of = [&](const std::string& name) {
    auto i = shapes.find(name);
    return i == shapes.end() ? std::vector<int64_t>{} : i->second;
  };
  uint64_t macs = 0;
  for (auto& node : graph.node()) {
    if (node.output_size() == 0 || node.input_size() < 2)
      continue;
    auto out = shape_of(node.output(0));
    auto weight = shape_of(node.input(1));
    if (out.empty() || weight.empty())
      continue;
    int64_t add = 0;
    if (node.op_type() == "Conv" && weight.size() >= 2)
      // (Cin/group)*kH*kW per output element
      add = bounded_product(product(out), product(weight, 1), mac_limit);
    else if ((node.op_type() == "Gemm" || node.op_type() == "MatMul")
             && !shape_of(node.input(0)).empty())
      add = bounded_product(
        product(out), std::max<int64_t>(shape_of(node.input(0)).back(), 1),
        mac_limit);
    macs = std::min<uint64_t>(macs + add, mac_limit);
  }
  return macs;
}

} // namespace

std::string onnx_stand_in(const std::string& path) {
  const std::string dxnn = ".dxnn";
  if (path.size() < dxnn.size()
      || path.compare(path.size() - dxnn.size(), dxnn.size(), dxnn) != 0)
    return path;
  auto onnx = path.substr(0, path.size() - dxnn.size()) + ".onnx";
  struct stat st;
  if (::stat(onnx.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw FileNotFound("'" + path
                       + "' is a DX-RT compiled model, which ActorRT does "
                         "not run, and there is no ONNX model '"
                       + onnx + "' beside it");
  return onnx;
}

model_ptr model::load(const std::string& given) {
  if (given.find('\0') != std::string::npos)
    throw InvalidArgument("model path contains a NUL character");
  auto path = onnx_stand_in(given);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw FileNotFound("model file not found: '" + path + "'");
  if (S_ISDIR(st.st_mode))
    throw FileNotFound("model path '" + path
                       + "' is a directory, not an .onnx file");
  // A FIFO would block the constructor, a device would never end.
  if (!S_ISREG(st.st_mode))
    throw FileNotFound("model path '" + path + "' is not a regular file");
  if (size_t(st.st_size) > model_limits::max_file_bytes)
    throw InvalidModel("'" + path
                       + "' is larger than 2 GiB, the most an "
                         "ONNX file can be");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw FileNotFound("cannot open model file '" + path + "'");
  std::string bytes(size_t(st.st_size), '\0');
  in.read(bytes.data(), std::streamsize(bytes.size()));
  bytes.resize(size_t(in.gcount()));
  return from_bytes(path, std::move(bytes));
}

model_ptr model::from_bytes(std::string name, std::string bytes) {
  onnx::ModelProto proto;
  if (bytes.empty() || !proto.ParseFromString(bytes))
    throw InvalidModel("'" + name
                       + "' is not an ONNX model (protobuf parse "
                         "failed)");
  if (!proto.has_graph() || proto.graph().node_size() == 0)
    throw InvalidModel("'" + name + "' has no graph nodes");
  check_declared(proto, name);
  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    throw InvalidModel("'" + name + "' fails the ONNX checker: " + e.what());
  }
  auto result = std::make_shared<model>();
  auto& m = *result;
  m.name_ = std::move(name);
  m.producer_
    = proto.producer_name()
      + (proto.producer_version().empty() ? ""
                                          : " " + proto.producer_version());
  for (auto& init : proto.graph().initializer()) {
    int64_t n = 1;
    for (auto d : init.dims())
      n *= d; // within model_limits: checked above
    m.parameter_bytes_
      += uint64_t(n) * uint64_t(element_bytes(init.data_type()));
  }
  for (auto& op : proto.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx")
      m.opset_ = op.version();
  auto& graph = proto.graph();
  std::unordered_map<std::string, bool> initializers;
  for (auto& init : graph.initializer())
    initializers[init.name()] = true;
  for (auto& input : graph.input())
    if (!initializers.count(input.name()))
      m.inputs_.push_back(to_info(input));
  for (auto& output : graph.output())
    m.outputs_.push_back(to_info(output));
  if (m.inputs_.empty() || m.outputs_.empty())
    throw InvalidModel("'" + m.name_ + "' declares no inputs or no outputs");
  // An output's dynamic dimension 0 follows the inputs' batch; any other
  // dynamic dimension is known only after a run.
  bool batched_inputs = false;
  for (auto& in : m.inputs_) {
    batched_inputs = batched_inputs || in.dynamic_batch;
    in.dynamic_shape = false; // inputs run with 1 there, as a compiled model
  }
  for (auto& out : m.outputs_) {
    if (out.dynamic_batch && !batched_inputs)
      out.dynamic_shape = true;
    if (out.dynamic_shape)
      out.dynamic_batch = false;
  }
  m.input_metas_ = share(m.inputs_);
  m.output_metas_ = share(m.outputs_);
  for (auto& node : graph.node())
    ++m.op_census_[node.op_type()];
  try {
    onnx::shape_inference::InferShapes(proto);
    m.macs_ = count_macs(proto.graph());
  } catch (const std::exception&) {
    m.macs_ = 0; // shape inference is only needed for the MAC estimate
  }
  m.bytes_ = std::move(bytes);
  char digest[40];
  std::snprintf(digest, sizeof digest, "%016zx-%zu",
                std::hash<std::string>{}(m.bytes_), m.bytes_.size());
  m.digest_ = digest;
  return result;
}

bool model::batchable() const {
  for (auto* list : {&inputs_, &outputs_})
    for (auto& t : *list)
      if (!t.dynamic_batch)
        return false;
  return true;
}

void model::redeclare() const {
  std::call_once(redeclared_, [this] {
    if (batchable())
      return;
    for (auto* list : {&inputs_, &outputs_})
      for (auto& t : *list)
        if (t.dynamic_shape || t.shape.empty()
            || (!t.dynamic_batch && t.shape[0] != 1)) {
          why_not_ = "tensor '" + t.name
                     + "' has no dimension 0 of 1 that could be a batch axis";
          return;
        }
    onnx::ModelProto proto;
    proto.ParseFromString(bytes_); // parsed once already
    auto& graph = *proto.mutable_graph();
    std::unordered_map<std::string, bool> initializers;
    for (auto& init : graph.initializer())
      initializers[init.name()] = true;
    auto symbolic = [](onnx::ValueInfoProto& v) {
      auto* dim
        = v.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(
          0);
      dim->clear_dim_value();
      dim->set_dim_param("actorrt_batch");
    };
    for (auto& v : *graph.mutable_input())
      if (!initializers.count(v.name()))
        symbolic(v);
    for (auto& v : *graph.mutable_output())
      symbolic(v);
    graph.clear_value_info(); // inner shapes fixed to batch 1 would clash
    try {
      onnx::shape_inference::InferShapes(
        proto, onnx::OpSchemaRegistry::Instance(),
        onnx::ShapeInferenceOptions{true, 1, false});
      for (auto& v : graph.output()) {
        auto& shape = v.type().tensor_type().shape();
        if (shape.dim_size() == 0
            || shape.dim(0).dim_param() != "actorrt_batch")
          throw std::runtime_error("output '" + v.name()
                                   + "' does not follow the batch axis");
      }
      std::string bytes;
      proto.SerializeToString(&bytes);
      variant_ = from_bytes(name_, std::move(bytes));
      if (!variant_->batchable())
        throw std::runtime_error("a tensor's dimension 0 stays fixed");
    } catch (const std::exception& e) {
      variant_.reset();
      why_not_ = std::string("re-declaring dimension 0 as a batch axis fails "
                             "shape inference: ")
                 + e.what();
    }
  });
}

std::shared_ptr<const model> model::batch_variant() const {
  redeclare();
  return variant_;
}

std::string model::batching() const {
  if (batchable())
    return "yes (dimension 0 is symbolic)";
  redeclare();
  if (variant_)
    return "yes, dimension 0 re-declared symbolic (each lane checks batch 2 "
           "against two batch-1 runs at load)";
  return "no: " + why_not_;
}

std::string onnx_version() {
  return std::string(onnx::LAST_RELEASE_VERSION) + " (IR "
         + std::to_string(int(onnx::IR_VERSION)) + ")";
}

std::string describe(const model& m) {
  std::ostringstream out;
  char line[512];
  auto tensors = [&](const char* title, const std::vector<tensor_info>& xs) {
    out << title << "\n";
    for (auto& t : xs) {
      std::snprintf(line, sizeof line, "  %-20s %-8s %-22s %8zu bytes %s\n",
                    t.name.c_str(), to_string(t.type),
                    shape_string(t.shape).c_str(), t.byte_size(),
                    t.note.c_str());
      out << line;
    }
  };
  out << "model " << m.name() << " (opset " << m.opset() << ")\n";
  tensors("inputs", m.inputs());
  tensors("outputs", m.outputs());
  out << "input size " << m.input_size() << " bytes, output size "
      << m.output_size() << " bytes\n";
  if (!m.producer().empty())
    out << "producer " << m.producer() << "\n";
  out << "parameters " << m.parameter_bytes() << " bytes\n";
  out << "batches " << m.batching() << "\n";
  std::snprintf(line, sizeof line, "MACs %.3f G\noperators\n", m.macs() / 1e9);
  out << line;
  for (auto& [op, n] : m.op_census()) {
    std::snprintf(line, sizeof line, "  %-24s %d\n", op.c_str(), n);
    out << line;
  }
  return out.str();
}

} // namespace actorrt
