#include "core/model_limits.hpp"

#include <set>
#include <vector>

#include <onnx/onnx_pb.h>

#include "core/errors.hpp"

namespace actorrt {

namespace {

using tp = onnx::TensorProto;

struct checker {
  const std::string& model;

  [[noreturn]] void fail(const std::string& what) const {
    throw InvalidModel("'" + model + "' " + what);
  }

  /// Element count of a shape of `rank` whose known dimensions are
  /// `dims`, checked dimension by dimension.
  int64_t count(const std::string& what, int rank,
                const std::vector<int64_t>& dims) const {
    if (rank > model_limits::max_rank)
      fail(what + " has rank " + std::to_string(rank) + " (at most "
           + std::to_string(model_limits::max_rank) + ")");
    int64_t n = 1;
    for (auto d : dims) {
      if (d < 0 || d > model_limits::max_dim)
        fail(what + " has dimension " + std::to_string(d));
      n = bounded_product(n, d, model_limits::max_elements + 1);
    }
    if (n > model_limits::max_elements)
      fail(what + " has more than 2^34 elements");
    return n;
  }

  void value(const onnx::ValueInfoProto& v) const {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
      return;
    auto& shape = v.type().tensor_type().shape();
    std::vector<int64_t> known; // symbolic dimensions are not checked
    for (auto& d : shape.dim())
      if (d.has_dim_value())
        known.push_back(d.dim_value());
    count("tensor '" + v.name() + "'", shape.dim_size(), known);
  }

  void tensor(const tp& t) const {
    auto what = "initializer '" + t.name() + "'";
    if (t.data_location() == tp::EXTERNAL || t.external_data_size() > 0)
      fail(what
           + " keeps its data in an external file, which ActorRT does "
             "not read");
    auto n = count(what, t.dims_size(), {t.dims().begin(), t.dims().end()});
    int64_t size = element_bytes(t.data_type()); // per element in raw_data
    int64_t have = -1; // elements in the typed field that holds them
    switch (t.data_type()) {
      case tp::FLOAT:
        have = t.float_data_size();
        break;
      case tp::COMPLEX64:
        have = t.float_data_size() / 2;
        break;
      case tp::DOUBLE:
        have = t.double_data_size();
        break;
      case tp::COMPLEX128:
        have = t.double_data_size() / 2;
        break;
      case tp::INT64:
        have = t.int64_data_size();
        break;
      case tp::UINT32:
      case tp::UINT64:
        have = t.uint64_data_size();
        break;
      case tp::STRING:
        if (t.string_data_size() != n)
          fail(what + " declares " + std::to_string(n) + " strings but holds "
               + std::to_string(t.string_data_size()));
        return;
      default:
        if (size == 0)
          fail(what + " has ONNX element type " + std::to_string(t.data_type())
               + ", which ActorRT does not support");
        have = t.int32_data_size(); // the 8-, 16- and 32-bit types
    }
    if (t.has_raw_data()) {
      if (int64_t(t.raw_data().size()) != n * size)
        fail(what + " declares " + std::to_string(n) + " elements ("
             + std::to_string(n * size) + " bytes) but holds "
             + std::to_string(t.raw_data().size()) + " bytes");
      return;
    }
    if (have != n)
      fail(what + " declares " + std::to_string(n) + " elements but holds "
           + std::to_string(have));
  }

  void attribute(const onnx::NodeProto& node,
                 const onnx::AttributeProto& a) const {
    // Windows and block sizes: shape inference and the backends divide by
    // them and multiply them into sizes.
    static const std::set<std::string> positive{
      "strides", "dilations", "kernel_shape", "blocksize", "group"};
    auto what = [&] {
      return node.op_type() + " node '" + node.name() + "' attribute '"
             + a.name() + "'";
    };
    bool must_be_positive = positive.count(a.name()) > 0;
    bool is_pads = a.name() == "pads" || a.name() == "output_padding";
    if (must_be_positive || is_pads) {
      // Pad-2 crops with negative pads; a window's pads are never negative.
      int64_t least = must_be_positive          ? 1
                      : node.op_type() == "Pad" ? -model_limits::max_window
                                                : 0;
      std::vector<int64_t> xs(a.ints().begin(), a.ints().end());
      if (a.has_i())
        xs.push_back(a.i());
      for (auto x : xs)
        if (x > model_limits::max_window || x < least)
          fail(what() + " is " + std::to_string(x));
    }
    if (a.has_t())
      tensor(a.t());
    for (auto& t : a.tensors())
      tensor(t);
    if (a.has_g())
      graph(a.g());
    for (auto& g : a.graphs())
      graph(g);
  }

  void graph(const onnx::GraphProto& g) const {
    for (auto* list : {&g.input(), &g.output(), &g.value_info()})
      for (auto& v : *list)
        value(v);
    for (auto& t : g.initializer())
      tensor(t);
    if (g.sparse_initializer_size() > 0)
      fail("has sparse initializers, which ActorRT does not support");
    for (auto& node : g.node())
      for (auto& a : node.attribute())
        attribute(node, a);
  }
};

} // namespace

int64_t element_bytes(int32_t onnx_type) {
  switch (onnx_type) {
    case tp::DOUBLE:
    case tp::INT64:
    case tp::UINT64:
    case tp::COMPLEX64:
      return 8;
    case tp::COMPLEX128:
      return 16;
    case tp::FLOAT:
    case tp::INT32:
    case tp::UINT32:
      return 4;
    case tp::INT16:
    case tp::UINT16:
    case tp::FLOAT16:
    case tp::BFLOAT16:
      return 2;
    case tp::INT8:
    case tp::UINT8:
    case tp::BOOL:
      return 1;
    default:
      return 0;
  }
}

int64_t bounded_product(int64_t a, int64_t b, int64_t limit) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) || r > limit)
    return limit;
  return r;
}

void check_declared(const onnx::ModelProto& proto, const std::string& name) {
  checker{name}.graph(proto.graph());
  for (auto& f : proto.functions())
    for (auto& node : f.node())
      for (auto& a : node.attribute())
        checker{name}.attribute(node, a);
}

} // namespace actorrt
