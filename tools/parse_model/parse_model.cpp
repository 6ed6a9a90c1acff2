// Prints what ActorRT knows of a model: tensors, sizes, operators, MACs.
// Usage: parse_model -m model.onnx
#include <cstdio>

#include <CLI/CLI.hpp>

#include "core/errors.hpp"
#include "core/model.hpp"

using namespace actorrt;

namespace {

void print_tensors(const char* title, const std::vector<tensor_info>& xs) {
  std::printf("%s\n", title);
  for (auto& t : xs)
    std::printf("  %-20s %-8s %-22s %8zu bytes %s\n", t.name.c_str(),
                to_string(t.type), shape_string(t.shape).c_str(), t.byte_size(),
                t.note.c_str());
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Describe an ONNX model as ActorRT sees it"};
  std::string path;
  app.add_option("-m,--model", path, "model file (.onnx)")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    auto m = model::load(path);
    std::printf("model %s (opset %lld)\n", path.c_str(),
                (long long) m->opset());
    print_tensors("inputs", m->inputs());
    print_tensors("outputs", m->outputs());
    std::printf("input size %zu bytes, output size %zu bytes\n",
                m->input_size(), m->output_size());
    std::printf("MACs %.3f G\noperators\n", m->macs() / 1e9);
    for (auto& [op, n] : m->op_census())
      std::printf("  %-24s %d\n", op.c_str(), n);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "parse_model: %s: %s\n", to_string(e.code()),
                 e.what());
    return 2;
  }
}
