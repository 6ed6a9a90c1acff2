// Prints what ActorRT knows of a model: tensors, sizes, operators, MACs.
// Usage: parse_model -m model.onnx
#include <cstdio>

#include <CLI/CLI.hpp>

#include "core/errors.hpp"
#include "core/model.hpp"

using namespace actorrt;

int main(int argc, char** argv) {
  CLI::App app{"Describe an ONNX model as ActorRT sees it"};
  std::string path;
  app.add_option("-m,--model", path, "model file (.onnx)")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    std::fputs(describe(*model::load(path)).c_str(), stdout);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "parse_model: %s: %s\n", to_string(e.code()),
                 e.what());
    return 2;
  }
}
