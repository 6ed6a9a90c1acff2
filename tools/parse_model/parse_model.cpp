// Prints what ActorRT knows of a model: tensors, sizes, operators, MACs,
// parameter bytes, and which CPU backend can run it (and why not).
// Usage: parse_model -m model.onnx [-j] [-o FILE]
#include <cstdio>
#include <fstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/model.hpp"
#include "device/registry.hpp"

using namespace actorrt;
using json = nlohmann::json;

namespace {

json tensors_json(const std::vector<tensor_info>& xs) {
  json list = json::array();
  for (auto& t : xs)
    list.push_back({{"name", t.name},
                    {"dtype", to_string(t.type)},
                    {"shape", t.shape},
                    {"bytes", t.byte_size()},
                    {"note", t.note}});
  return list;
}

json model_json(const model& m, const std::vector<backend_verdict>& verdicts) {
  json backends = json::array();
  for (auto& v : verdicts)
    backends.push_back(
      {{"backend", v.backend}, {"runs", v.runs}, {"why", v.why}});
  return {{"model", m.name()},
          {"opset", m.opset()},
          {"producer", m.producer()},
          {"inputs", tensors_json(m.inputs())},
          {"outputs", tensors_json(m.outputs())},
          {"input_size", m.input_size()},
          {"output_size", m.output_size()},
          {"operators", m.op_census()},
          {"macs", m.macs()},
          {"parameter_bytes", m.parameter_bytes()},
          {"backends", backends}};
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Describe an ONNX model as ActorRT sees it"};
  std::string path;
  std::string out_file;
  bool as_json = false;
  app.add_option("-m,--model", path, "model file (.onnx)")->required();
  app.add_flag("-j,--json", as_json, "print JSON instead of text");
  app.add_option("-o,--output", out_file, "write it to this file too");
  CLI11_PARSE(app, argc, argv);
  try {
    auto m = model::load(path);
    auto verdicts = probe_backends(*m);
    std::string text = as_json ? model_json(*m, verdicts).dump(2) + "\n"
                               : describe(*m) + describe_backends(verdicts);
    std::fputs(text.c_str(), stdout);
    if (!out_file.empty()) {
      std::ofstream file(out_file);
      file << text;
      if (!file)
        throw DeviceIO("cannot write '" + out_file + "'");
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "parse_model: %s: %s\n", to_string(e.code()),
                 e.what());
    return 2;
  }
}
